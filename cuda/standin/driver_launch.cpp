// driver_launch.cpp — the stand-in driver: modules (the project's fatbin, mapped to the host-compiled
// kernels of kernels.cpp), function attributes, occupancy and kernel launches.
#include "driver_state.h"

using namespace standin::driver;

namespace standin {
int registers_of(const char* name) {
    for (int n = 0; n < kernel_register_count; n++) {
        if (std::strcmp(kernel_registers[n].name, name) == 0) {
            return kernel_registers[n].registers;
        }
    }
    return 0;
}
}  // namespace standin

namespace {

/** Registers one warp of the kernel takes: per thread × 32, in units of 256 (sm_90's allocation unit). */
int registers_per_warp(const standin::KernelInfo& kernel) {
    int per_thread = standin::registers_of(kernel.name);
    return (per_thread * 32 + kRegisterAllocationUnit - 1) / kRegisterAllocationUnit * kRegisterAllocationUnit;
}

/**
 * Blocks of a kernel resident on one SM at once, as sm_90 computes it: limited by threads, by the
 * block slots, by shared memory (static + dynamic + the 1 KiB the system reserves per block) and
 * by registers (the kernel's ptxas count, allocated per warp; not counted when unknown).
 */
int blocks_per_sm(const standin::KernelInfo& kernel, int block_threads, std::size_t dynamic_shared) {
    int warps = (block_threads + 31) / 32;
    int by_threads = kThreadsPerSm / (warps * 32);
    std::size_t shared = standin::static_shared_bytes() + dynamic_shared + kReservedSharedPerBlock;
    int by_shared = (int) (kSharedPerSm / shared);
    int per_warp = registers_per_warp(kernel);
    int by_registers = per_warp == 0 ? kBlocksPerSm : kRegistersPerSm / (per_warp * warps);
    return std::max(0, std::min({kBlocksPerSm, by_threads, by_shared, by_registers}));
}

/** The checks cuLaunchKernel makes before anything runs; null when the launch is valid. */
const char* launch_problem(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                           unsigned shared) {
    if (bx == 0 || by == 0 || bz == 0 || gx == 0 || gy == 0 || gz == 0) {
        return "a grid or block dimension is 0";
    }
    if (bx > 1024 || by > 1024 || bz > 64 || (unsigned long long) bx * by * bz > 1024) {
        return "more than 1024 threads per block (or a block dimension past 1024, 1024, 64)";
    }
    if (gx > 2147483647u || gy > 65535 || gz > 65535) {
        return "grid dimension past the limits (2^31-1, 65535, 65535)";
    }
    std::size_t limit = (std::size_t) std::max(kSharedPerBlock, f->max_dynamic_shared);
    int per_warp = registers_per_warp(*f->kernel);
    if ((long long) per_warp * ((bx * by * bz + 31) / 32) > kRegistersPerBlock) {
        return "more registers than a block may have (the kernel's registers per thread × the block's threads "
               "past 65536: CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES)";
    }
    if (standin::static_shared_bytes() + shared > limit) {
        return "static + dynamic shared memory past the block limit (raise it with "
               "CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, at most 227 KiB)";
    }
    return nullptr;
}

CUresult launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                unsigned shared, CUstream stream, void** params, void** extra, bool cooperative) {
    if (CUresult r = need_context()) {
        return r;
    }
    if (f == nullptr) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (!known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    const standin::KernelInfo& kernel = *f->kernel;
    if (extra != nullptr) {
        complain("cuLaunchKernel(%s): the 'extra' parameter form is not supported", kernel.name);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (const char* problem = launch_problem(f, gx, gy, gz, bx, by, bz, shared)) {
        complain("cuLaunchKernel(%s, grid %u×%u×%u, block %u×%u×%u, %u B shared): %s", kernel.name, gx, gy, gz, bx, by,
                 bz, shared, problem);
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (kernel.param_count > 0 && params == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (cooperative) {
        long long fit = (long long) blocks_per_sm(kernel, (int) (bx * by * bz), shared) * multiprocessors();
        if ((long long) gx * gy * gz > fit) {
            complain("cuLaunchCooperativeKernel(%s): %llu blocks, but only %lld can be resident at once", kernel.name,
                     (unsigned long long) gx * gy * gz, fit);
            return CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE;
        }
    }
    // The parameter values are copied now, as the driver does: the caller may reuse its array.
    std::vector<std::size_t> offsets;
    std::size_t total = 0;
    for (int n = 0; n < kernel.param_count; n++) {
        total = (total + 15) / 16 * 16;
        offsets.push_back(total);
        total += kernel.param_sizes[n];
    }
    auto values = std::make_shared<std::vector<unsigned char>>(total + 16);
    for (int n = 0; n < kernel.param_count; n++) {
        std::memcpy(values->data() + offsets[(std::size_t) n], params[n], kernel.param_sizes[n]);
    }
    const standin::KernelInfo* k = &kernel;
    dim3 grid(gx, gy, gz), block(bx, by, bz);
    return submit(stream, [k, grid, block, shared, cooperative, values, offsets] {
        std::vector<void*> args;
        for (std::size_t offset : offsets) {
            args.push_back(values->data() + offset);
        }
        standin::execute(*k, grid, block, shared, cooperative, args.data());
    });
}

}  // namespace

// ---------------------------------------------------------------- modules and functions

CUAPI CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (module == nullptr || image == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    // A fatbin starts with {u32 magic 0xBA55ED50, u16 version, u16 header size, u64 payload size}.
    unsigned magic;
    unsigned short header_size;
    unsigned long long payload;
    std::memcpy(&magic, image, 4);
    std::memcpy(&header_size, static_cast<const unsigned char*>(image) + 6, 2);
    std::memcpy(&payload, static_cast<const unsigned char*>(image) + 8, 8);
    if (magic != kFatbinMagic || header_size < 16 || payload > (1ull << 31)) {
        complain("cuModuleLoadData: the image is not a fatbin (the stand-in runs the host-compiled kernels of the "
                 "project's fatbin only)");
        return CUDA_ERROR_INVALID_IMAGE;
    }
    auto* m = new CUmod_st();
    const auto* bytes = static_cast<const unsigned char*>(image);
    m->image.assign(bytes, bytes + header_size + payload);
    modules.insert(m);
    *module = m;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned options, void* option_keys,
                                  void** option_values) {
    (void) options;
    (void) option_keys;
    (void) option_values;
    return cuModuleLoadData(module, image);
}

CUAPI CUresult cuModuleLoadFatBinary(CUmodule* module, const void* image) {
    return cuModuleLoadData(module, image);
}

CUAPI CUresult cuModuleUnload(CUmodule module) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (modules.erase(module) == 0) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    for (CUfunction f : module->functions) {
        delete f;
    }
    delete module;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (modules.count(module) == 0) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (function == nullptr || name == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    // The name must be in the fatbin (NUL-terminated, as in its symbol tables) and compiled here.
    std::string needle = std::string(name) + '\0';
    bool in_image = std::search(module->image.begin(), module->image.end(), needle.begin(), needle.end()) !=
                    module->image.end();
    const standin::KernelInfo* kernel = standin::find_kernel(name);
    if (!in_image || kernel == nullptr) {
        complain("cuModuleGetFunction(%s): %s", name,
                 !in_image ? "not in the loaded fatbin" : "in the fatbin but not compiled into the stand-in");
        return CUDA_ERROR_NOT_FOUND;
    }
    auto* f = new CUfunc_st{kernel, module, 0};
    module->functions.push_back(f);
    *function = f;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuFuncGetAttribute(int* value, int attribute, CUfunction function) {
    if (function == nullptr || value == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    switch (attribute) {
        case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = 1024; break;
        case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *value = (int) standin::static_shared_bytes(); break;
        case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: *value = 0; break;
        case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: *value = 0; break;
        case CU_FUNC_ATTRIBUTE_NUM_REGS: *value = standin::registers_of(function->kernel->name); break;
        case CU_FUNC_ATTRIBUTE_PTX_VERSION: *value = 90; break;
        case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *value = 90; break;
        case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
            *value = std::max(function->max_dynamic_shared, kSharedPerBlock - (int) standin::static_shared_bytes());
            break;
        default: *value = 0;
    }
    return CUDA_SUCCESS;
}

CUAPI CUresult cuFuncSetAttribute(CUfunction function, int attribute, int value) {
    if (function == nullptr) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (attribute == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) {
        if (value < 0 || (std::size_t) value + standin::static_shared_bytes() > (std::size_t) kSharedPerBlockOptIn) {
            return CUDA_ERROR_INVALID_VALUE;
        }
        function->max_dynamic_shared = value;
    }
    return CUDA_SUCCESS;
}

CUAPI CUresult cuFuncSetCacheConfig(CUfunction function, int config) {
    (void) config;
    return function == nullptr ? CUDA_ERROR_INVALID_HANDLE : CUDA_SUCCESS;
}

CUAPI CUresult cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int* blocks, CUfunction function, int block_size,
                                                                    std::size_t dynamic_shared, unsigned flags) {
    (void) flags;
    if (blocks == nullptr || function == nullptr || block_size <= 0 || block_size > 1024) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *blocks = blocks_per_sm(*function->kernel, block_size, dynamic_shared);
    return CUDA_SUCCESS;
}

CUAPI CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, CUfunction function, int block_size,
                                                           std::size_t dynamic_shared) {
    return cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(blocks, function, block_size, dynamic_shared, 0);
}

// ---------------------------------------------------------------- launches

CUAPI CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                              unsigned bz, unsigned shared, CUstream stream, void** params, void** extra) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return launch(f, gx, gy, gz, bx, by, bz, shared, stream, params, extra, false);
}

CUAPI CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                         unsigned by, unsigned bz, unsigned shared, CUstream stream, void** params) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return launch(f, gx, gy, gz, bx, by, bz, shared, stream, params, nullptr, true);
}

CUAPI CUresult cuLaunchHostFunc(CUstream stream, CUhostFn fn, void* data) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (!known_stream(stream) || fn == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    return submit(stream, [fn, data] { fn(data); });
}
