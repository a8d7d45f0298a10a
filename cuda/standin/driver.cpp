// driver.cpp — the CUDA driver API of the stand-in libcuda.so.1: the calls JCuda's
// libJCudaDriver makes for jlstm, implemented on the CPU. Every other function JCuda imports is
// a generated weak stub (stubs, see build.sh) that names itself on stderr once and answers
// CUDA_ERROR_NOT_SUPPORTED.
//
// The device: one, named "jlstm CPU stand-in (not a GPU)", compute capability 9.0,
// JLSTM_STANDIN_SMS multiprocessors (default 8), JLSTM_STANDIN_MEMORY_MB of memory (default
// 16384). Memory is host memory; fresh allocations hold NaN bytes (0xFF), as device memory holds
// garbage; cuMemGetInfo reports what is allocated, so a leak shows. Streams execute their work
// in order, at once, on the calling thread (one global lock: one launch at a time), unless they
// are capturing a graph, in which case the work is recorded and replayed by cuGraphLaunch.
// Modules: cuModuleLoadData takes the project's fatbin, and cuModuleGetFunction finds a kernel
// only when its name is both in that image and among the host-compiled kernels (kernels.cpp).
#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "standin.h"

#include "driver_api.h"

#define CUAPI extern "C" __attribute__((visibility("default")))

// ---------------------------------------------------------------- the stand-in's state

struct CUctx_st {
    int retained = 0;
};

struct CUmod_st {
    std::vector<unsigned char> image;   // the fatbin, to check that a looked-up name is in it
    std::vector<CUfunction> functions;
};

struct CUfunc_st {
    const standin::KernelInfo* kernel;
    CUmodule module;
    int max_dynamic_shared;             // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
};

struct CUgraph_st {
    std::vector<std::function<void()>> work;   // captured stream work, in order
};

struct CUgraphExec_st {
    std::vector<std::function<void()>> work;
};

// A capture: begun on an origin stream; other streams join it by waiting on an event recorded in
// it, and must be joined back (the origin, or another capturing stream, waits on an event recorded
// after their last work) before the origin ends it — as CUDA requires.
struct Capture {
    CUgraph graph = nullptr;
    CUstream origin = nullptr;
    int mode = 0;
    std::thread::id thread;   // the capturing thread (thread-local mode refuses its unsafe calls only)
    bool invalidated = false;
};

struct CUstream_st {
    std::shared_ptr<Capture> capture;     // non-null while capturing (origin or joined)
    unsigned long long last_work = 0;     // sequence number of the last work submitted
    unsigned long long joined_up_to = 0;  // work up to this number has been waited on by the capture
};

struct CUevent_st {
    std::chrono::steady_clock::time_point time{};
    bool recorded = false;
    std::shared_ptr<Capture> capture;     // the capture it was recorded in, if any
    CUstream recorded_on = nullptr;
    unsigned long long recorded_after = 0;   // the stream's last work when recorded
};

namespace {

constexpr long long kMiB = 1024LL * 1024;
constexpr int kSharedPerBlock = 48 * 1024;
constexpr int kSharedPerBlockOptIn = 227 * 1024;
constexpr int kSharedPerSm = 228 * 1024;
constexpr int kThreadsPerSm = 2048;
constexpr int kBlocksPerSm = 32;
constexpr unsigned kFatbinMagic = 0xBA55ED50u;

std::recursive_mutex lock;
bool initialised = false;
CUctx_st primary;
CUstream_st default_stream;
std::map<std::uintptr_t, std::size_t> allocations;   // base → bytes, device memory
std::set<void*> host_allocations;                      // page-locked host memory (cuMemAllocHost)
std::size_t allocated_bytes = 0;
std::set<CUstream> streams;
std::set<CUevent> events;
std::set<CUmodule> modules;
std::set<CUgraph> graphs;
std::set<CUgraphExec> graph_execs;
std::set<std::shared_ptr<Capture>> captures;   // active captures
unsigned long long work_sequence = 0;
thread_local std::vector<CUcontext> context_stack;

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

int multiprocessors() {
    static int sms = env_int("JLSTM_STANDIN_SMS", 8);
    return sms;
}

std::size_t total_memory() {
    static std::size_t bytes = (std::size_t) env_int("JLSTM_STANDIN_MEMORY_MB", 16384) * kMiB;
    return bytes;
}

void complain(const char* format, ...) __attribute__((format(printf, 1, 2)));
void complain(const char* format, ...) {
    std::fprintf(stderr, "jlstm CUDA stand-in: ");
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
    std::fprintf(stderr, "\n");
}

CUresult need_context() {
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (context_stack.empty() || context_stack.back()->retained == 0) {
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    return CUDA_SUCCESS;
}

/** Whether [p, p + bytes) lies inside one live device allocation. */
bool device_range(CUdeviceptr p, std::size_t bytes) {
    auto it = allocations.upper_bound((std::uintptr_t) p);
    if (it == allocations.begin()) {
        return false;
    }
    --it;
    return (std::uintptr_t) p >= it->first && (std::uintptr_t) p + bytes <= it->first + it->second;
}

CUresult check_range(CUdeviceptr p, std::size_t bytes, const char* call, const char* operand) {
    if (bytes == 0 || device_range(p, bytes)) {
        return CUDA_SUCCESS;
    }
    complain("%s: %s [0x%llx, +%zu bytes) is not inside one device allocation", call, operand, p, bytes);
    return CUDA_ERROR_INVALID_VALUE;
}

CUstream resolve(CUstream s) {
    // 0, CU_STREAM_LEGACY (1) and CU_STREAM_PER_THREAD (2): the one default stream.
    return (std::uintptr_t) s <= 2 ? &default_stream : s;
}

/**
 * A synchronous call (one the CUDA driver orders against all streams, or that allocates) while a
 * capture is active in global mode, or in thread-local mode on the capturing thread: CUDA refuses
 * it and invalidates the capture, and so does this.
 */
CUresult refuse_during_capture(const char* call) {
    bool refused = false;
    for (const auto& c : captures) {
        bool applies = c->mode == CU_STREAM_CAPTURE_MODE_GLOBAL ||
                       (c->mode == CU_STREAM_CAPTURE_MODE_THREAD_LOCAL && c->thread == std::this_thread::get_id());
        if (applies) {
            c->invalidated = true;
            refused = true;
        }
    }
    if (!refused) {
        return CUDA_SUCCESS;
    }
    complain("%s during a stream capture: not permitted (the capture is invalidated)", call);
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

/** Runs stream work now, or records it into the capture the stream belongs to. */
CUresult submit(CUstream stream, std::function<void()> work) {
    CUstream s = resolve(stream);
    s->last_work = ++work_sequence;
    if (s->capture) {
        if (!s->capture->invalidated) {
            s->capture->graph->work.push_back(std::move(work));
        }
        return CUDA_SUCCESS;
    }
    work();
    return CUDA_SUCCESS;
}

bool known_stream(CUstream s) {
    return (std::uintptr_t) s <= 2 || streams.count(s) != 0;
}

CUresult copy_bytes(void* dst, const void* src, std::size_t bytes) {
    if (bytes != 0) {
        std::memmove(dst, src, bytes);
    }
    return CUDA_SUCCESS;
}

int blocks_per_sm(const standin::KernelInfo& kernel, int block_threads, std::size_t dynamic_shared) {
    (void) kernel;
    int warps = (block_threads + 31) / 32;
    int by_threads = kThreadsPerSm / (warps * 32);
    std::size_t shared = standin::static_shared_bytes() + dynamic_shared;
    int by_shared = shared == 0 ? kBlocksPerSm : (int) (kSharedPerSm / shared);
    return std::max(0, std::min({kBlocksPerSm, by_threads, by_shared}));
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

void free_everything() {
    if (!allocations.empty()) {
        complain("%zu device allocations (%zu bytes) were still live when the primary context was released",
                 allocations.size(), allocated_bytes);
    }
    for (auto& a : allocations) {
        std::free(reinterpret_cast<void*>(a.first));
    }
    allocations.clear();
    allocated_bytes = 0;
}

}  // namespace

// ---------------------------------------------------------------- the stand-in's own entry points

/** For the cuBLAS stand-in: runs (or captures) work on a stream. ctx is copied. */
CUAPI int jlstm_standin_submit(CUstream stream, void (*fn)(void*), const void* ctx, std::size_t ctx_bytes) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (!known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    auto copy = std::make_shared<std::vector<unsigned char>>((const unsigned char*) ctx,
                                                              (const unsigned char*) ctx + ctx_bytes);
    return submit(stream, [fn, copy] { fn(copy->data()); });
}

/** For the cuBLAS stand-in: whether [p, p + bytes) lies in one device allocation. */
CUAPI int jlstm_standin_device_range(const void* p, std::size_t bytes) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return bytes == 0 || device_range((CUdeviceptr) p, bytes);
}

/** A marker the Java side and the tests can look for: this libcuda.so.1 is the stand-in. */
CUAPI const char* jlstm_standin_description(void) {
    static std::string text = std::string("jlstm CPU stand-in (not a GPU): ") + std::to_string(multiprocessors()) +
                              " simulated multiprocessors, blocks in " + standin::block_order_description() +
                              " order";
    return text.c_str();
}

// ---------------------------------------------------------------- initialisation, errors

CUAPI CUresult cuInit(unsigned flags) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (flags != 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    initialised = true;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDriverGetVersion(int* version) {
    if (version == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *version = 13000;
    return CUDA_SUCCESS;
}

namespace {
struct ErrorText {
    int code;
    const char* name;
    const char* text;
};
const ErrorText error_texts[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE, "CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE",
     "too many blocks in cooperative launch"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported (by the jlstm CPU stand-in)"},
    {CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED",
     "operation not permitted when stream is capturing"},
    {CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED",
     "operation failed due to a previous error during capture"},
    {CUDA_ERROR_STREAM_CAPTURE_UNMATCHED, "CUDA_ERROR_STREAM_CAPTURE_UNMATCHED",
     "capture was not initiated in this stream"},
    {CUDA_ERROR_STREAM_CAPTURE_UNJOINED, "CUDA_ERROR_STREAM_CAPTURE_UNJOINED",
     "capture has unjoined work"},
    {CUDA_ERROR_ILLEGAL_STATE, "CUDA_ERROR_ILLEGAL_STATE", "the operation is not permitted in this state"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};
}  // namespace

CUAPI CUresult cuGetErrorName(CUresult error, const char** name) {
    if (name == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    for (const ErrorText& e : error_texts) {
        if (e.code == error) {
            *name = e.name;
            return CUDA_SUCCESS;
        }
    }
    *name = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

CUAPI CUresult cuGetErrorString(CUresult error, const char** text) {
    if (text == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    for (const ErrorText& e : error_texts) {
        if (e.code == error) {
            *text = e.text;
            return CUDA_SUCCESS;
        }
    }
    *text = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

// ---------------------------------------------------------------- device

CUAPI CUresult cuDeviceGetCount(int* count) {
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (count == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *count = 1;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (device == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (ordinal != 0) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    *device = 0;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceGetName(char* name, int length, CUdevice device) {
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (device != 0) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (name == nullptr || length <= 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    std::snprintf(name, (std::size_t) length, "%s", "jlstm CPU stand-in (not a GPU)");
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceTotalMem_v2(std::size_t* bytes, CUdevice device) {
    if (device != 0) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (bytes == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *bytes = total_memory();
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice device) {
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (device != 0) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (value == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    switch (attribute) {
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X: *value = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: *value = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: *value = 64; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: *value = 2147483647; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: *value = 65535; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: *value = 65535; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *value = kSharedPerBlock; break;
        case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY: *value = 65536; break;
        case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *value = 32; break;
        case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK: *value = 65536; break;
        case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: *value = 1000000; break;
        case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *value = multiprocessors(); break;
        case CU_DEVICE_ATTRIBUTE_INTEGRATED: *value = 1; break;
        case CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS: *value = 0; break;
        case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *value = 1000000; break;
        case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *value = 64; break;
        case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *value = 1 << 20; break;
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: *value = kThreadsPerSm; break;
        case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING: *value = 1; break;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *value = 9; break;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *value = 0; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: *value = kSharedPerSm; break;
        case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: *value = 65536; break;
        case CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH: *value = 1; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *value = kSharedPerBlockOptIn; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR: *value = kBlocksPerSm; break;
        case CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK: *value = 0; break;
        default:
            complain("cuDeviceGetAttribute: attribute %d is not modelled (answering 0)", attribute);
            *value = 0;
    }
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice device) {
    if (device != 0) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (major == nullptr || minor == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *major = 9;
    *minor = 0;
    return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- contexts

CUAPI CUresult cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice device) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (device != 0) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (context == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    primary.retained++;
    *context = &primary;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (device != 0) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (primary.retained == 0) {
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    if (--primary.retained == 0) {
        free_everything();
    }
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDevicePrimaryCtxGetState(CUdevice device, unsigned* flags, int* active) {
    if (device != 0) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (flags != nullptr) {
        *flags = 0;
    }
    if (active != nullptr) {
        *active = primary.retained > 0;
    }
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxPushCurrent_v2(CUcontext context) {
    if (context != &primary) {
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    context_stack.push_back(context);
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxPopCurrent_v2(CUcontext* context) {
    if (context_stack.empty()) {
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    if (context != nullptr) {
        *context = context_stack.back();
    }
    context_stack.pop_back();
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxGetCurrent(CUcontext* context) {
    if (context == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *context = context_stack.empty() ? nullptr : context_stack.back();
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxSetCurrent(CUcontext context) {
    if (context != nullptr && context != &primary) {
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    if (!context_stack.empty()) {
        context_stack.pop_back();
    }
    if (context != nullptr) {
        context_stack.push_back(context);
    }
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxGetDevice(CUdevice* device) {
    if (CUresult r = need_context()) {
        return r;
    }
    *device = 0;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxSynchronize(void) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    return refuse_during_capture("cuCtxSynchronize");
}

// ---------------------------------------------------------------- memory

CUAPI CUresult cuMemAlloc_v2(CUdeviceptr* pointer, std::size_t bytes) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (pointer == nullptr || bytes == 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (CUresult r = refuse_during_capture("cuMemAlloc")) {
        return r;
    }
    if (allocated_bytes + bytes > total_memory()) {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    void* p = nullptr;
    if (posix_memalign(&p, 256, bytes) != 0) {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    std::memset(p, 0xFF, bytes);   // NaN in every float: fresh device memory is garbage
    allocations[(std::uintptr_t) p] = bytes;
    allocated_bytes += bytes;
    *pointer = (CUdeviceptr) p;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuMemFree_v2(CUdeviceptr pointer) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (pointer == 0) {
        return CUDA_SUCCESS;
    }
    if (CUresult r = refuse_during_capture("cuMemFree")) {
        return r;
    }
    auto it = allocations.find((std::uintptr_t) pointer);
    if (it == allocations.end()) {
        complain("cuMemFree(0x%llx): not the start of a live device allocation", pointer);
        return CUDA_ERROR_INVALID_VALUE;
    }
    allocated_bytes -= it->second;
    std::free(reinterpret_cast<void*>(it->first));
    allocations.erase(it);
    return CUDA_SUCCESS;
}

CUAPI CUresult cuMemGetInfo_v2(std::size_t* free_bytes, std::size_t* total_bytes) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (free_bytes == nullptr || total_bytes == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *total_bytes = total_memory();
    *free_bytes = total_memory() - allocated_bytes;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuMemAllocHost_v2(void** pointer, std::size_t bytes) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (pointer == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    void* p = nullptr;
    if (posix_memalign(&p, 4096, bytes == 0 ? 1 : bytes) != 0) {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    host_allocations.insert(p);
    *pointer = p;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuMemHostAlloc(void** pointer, std::size_t bytes, unsigned flags) {
    (void) flags;
    return cuMemAllocHost_v2(pointer, bytes);
}

CUAPI CUresult cuMemFreeHost(void* pointer) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (host_allocations.erase(pointer) == 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    std::free(pointer);
    return CUDA_SUCCESS;
}

// Copies. The synchronous forms are refused during a capture (as CUDA does); the Async forms are
// stream work. Device operands must lie inside one allocation.

CUAPI CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, std::size_t bytes) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (CUresult r = refuse_during_capture("cuMemcpyHtoD")) {
        return r;
    }
    if (CUresult r = check_range(dst, bytes, "cuMemcpyHtoD", "destination")) {
        return r;
    }
    return copy_bytes(reinterpret_cast<void*>(dst), src, bytes);
}

CUAPI CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, std::size_t bytes) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (CUresult r = refuse_during_capture("cuMemcpyDtoH")) {
        return r;
    }
    if (CUresult r = check_range(src, bytes, "cuMemcpyDtoH", "source")) {
        return r;
    }
    return copy_bytes(dst, reinterpret_cast<const void*>(src), bytes);
}

CUAPI CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, std::size_t bytes) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (CUresult r = refuse_during_capture("cuMemcpyDtoD")) {
        return r;
    }
    if (CUresult r = check_range(src, bytes, "cuMemcpyDtoD", "source")) {
        return r;
    }
    if (CUresult r = check_range(dst, bytes, "cuMemcpyDtoD", "destination")) {
        return r;
    }
    return copy_bytes(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
}

CUAPI CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, std::size_t bytes, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (!known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (CUresult r = check_range(dst, bytes, "cuMemcpyHtoDAsync", "destination")) {
        return r;
    }
    return submit(stream, [dst, src, bytes] { copy_bytes(reinterpret_cast<void*>(dst), src, bytes); });
}

CUAPI CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, std::size_t bytes, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (!known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (CUresult r = check_range(src, bytes, "cuMemcpyDtoHAsync", "source")) {
        return r;
    }
    return submit(stream, [dst, src, bytes] { copy_bytes(dst, reinterpret_cast<const void*>(src), bytes); });
}

CUAPI CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, std::size_t bytes, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (!known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (CUresult r = check_range(src, bytes, "cuMemcpyDtoDAsync", "source")) {
        return r;
    }
    if (CUresult r = check_range(dst, bytes, "cuMemcpyDtoDAsync", "destination")) {
        return r;
    }
    return submit(stream, [dst, src, bytes] {
        copy_bytes(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
    });
}

namespace {
CUresult copy_2d(const CUDA_MEMCPY2D* c, CUstream stream, bool async) {
    if (CUresult r = need_context()) {
        return r;
    }
    if (c == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const char* call = async ? "cuMemcpy2DAsync" : "cuMemcpy2D";
    if (c->srcMemoryType == CU_MEMORYTYPE_ARRAY || c->dstMemoryType == CU_MEMORYTYPE_ARRAY) {
        complain("%s: CUDA arrays are not supported", call);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (c->Height > 0 && (c->srcPitch < c->WidthInBytes || c->dstPitch < c->WidthInBytes)) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    auto base = [](int type, const void* host, CUdeviceptr device) {
        return type == CU_MEMORYTYPE_HOST ? reinterpret_cast<std::uintptr_t>(host) : (std::uintptr_t) device;
    };
    std::uintptr_t src = base(c->srcMemoryType, c->srcHost, c->srcDevice) + c->srcXInBytes + c->srcY * c->srcPitch;
    std::uintptr_t dst = base(c->dstMemoryType, c->dstHost, c->dstDevice) + c->dstXInBytes + c->dstY * c->dstPitch;
    std::size_t width = c->WidthInBytes, height = c->Height, src_pitch = c->srcPitch, dst_pitch = c->dstPitch;
    if (height > 0 && width > 0) {
        std::size_t src_span = (height - 1) * src_pitch + width, dst_span = (height - 1) * dst_pitch + width;
        if (c->srcMemoryType == CU_MEMORYTYPE_DEVICE) {
            if (CUresult r = check_range(src, src_span, call, "source")) {
                return r;
            }
        }
        if (c->dstMemoryType == CU_MEMORYTYPE_DEVICE) {
            if (CUresult r = check_range(dst, dst_span, call, "destination")) {
                return r;
            }
        }
    }
    auto work = [src, dst, width, height, src_pitch, dst_pitch] {
        for (std::size_t row = 0; row < height; row++) {
            std::memmove(reinterpret_cast<void*>(dst + row * dst_pitch),
                         reinterpret_cast<const void*>(src + row * src_pitch), width);
        }
    };
    if (!async) {
        if (CUresult r = refuse_during_capture(call)) {
            return r;
        }
        work();
        return CUDA_SUCCESS;
    }
    if (!known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    return submit(stream, work);
}

CUresult memset_elements(CUdeviceptr dst, unsigned value, std::size_t count, std::size_t element_bytes,
                         CUstream stream, bool async, const char* call) {
    if (CUresult r = need_context()) {
        return r;
    }
    if (CUresult r = check_range(dst, count * element_bytes, call, "destination")) {
        return r;
    }
    auto work = [dst, value, count, element_bytes] {
        unsigned char* p = reinterpret_cast<unsigned char*>(dst);
        for (std::size_t n = 0; n < count; n++) {
            std::memcpy(p + n * element_bytes, &value, element_bytes);   // little-endian: the low bytes
        }
    };
    if (!async) {
        if (CUresult r = refuse_during_capture(call)) {
            return r;
        }
        work();
        return CUDA_SUCCESS;
    }
    if (!known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    return submit(stream, work);
}
}  // namespace

CUAPI CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D* copy) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return copy_2d(copy, nullptr, false);
}

CUAPI CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D* copy, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return copy_2d(copy, stream, true);
}

CUAPI CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned value, std::size_t count) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return memset_elements(dst, value, count, 4, nullptr, false, "cuMemsetD32");
}

CUAPI CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, std::size_t count, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return memset_elements(dst, value, count, 4, stream, true, "cuMemsetD32Async");
}

CUAPI CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, std::size_t count) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return memset_elements(dst, value, count, 1, nullptr, false, "cuMemsetD8");
}

CUAPI CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, std::size_t count, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return memset_elements(dst, value, count, 1, stream, true, "cuMemsetD8Async");
}

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
        case CU_FUNC_ATTRIBUTE_NUM_REGS: *value = 32; break;
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

// ---------------------------------------------------------------- streams, events, graphs

CUAPI CUresult cuStreamCreate(CUstream* stream, unsigned flags) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    (void) flags;
    if (CUresult r = need_context()) {
        return r;
    }
    if (stream == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    auto* s = new CUstream_st();
    streams.insert(s);
    *stream = s;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamCreateWithPriority(CUstream* stream, unsigned flags, int priority) {
    (void) priority;
    return cuStreamCreate(stream, flags);
}

CUAPI CUresult cuStreamDestroy_v2(CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (streams.erase(stream) == 0) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (stream->capture && stream->capture->origin == stream) {
        captures.erase(stream->capture);
        delete stream->capture->graph;
    }
    delete stream;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamSynchronize(CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (!known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (resolve(stream)->capture) {
        resolve(stream)->capture->invalidated = true;
        complain("cuStreamSynchronize on a capturing stream: not permitted (the capture is invalidated)");
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return CUDA_SUCCESS;   // the work ran when it was submitted
}

CUAPI CUresult cuStreamQuery(CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return known_stream(stream) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUAPI CUresult cuStreamWaitEvent(CUstream stream, CUevent event, unsigned flags) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    (void) flags;
    if (!known_stream(stream) || events.count(event) == 0) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    CUstream s = resolve(stream);
    if (event->capture && captures.count(event->capture) != 0) {
        if (!s->capture) {
            s->capture = event->capture;             // the stream joins the capture (a fork)
            s->joined_up_to = s->last_work;
        } else if (s->capture != event->capture) {
            complain("cuStreamWaitEvent: the stream waits on an event of another capture");
            return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        }
        CUstream from = event->recorded_on;
        if (from != s && from->capture == event->capture) {   // a join: from's work so far is waited for
            from->joined_up_to = std::max(from->joined_up_to, event->recorded_after);
        }
    }
    // Outside captures there is nothing to wait for: work runs in order when submitted.
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamBeginCapture_v2(CUstream stream, int mode) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if ((std::uintptr_t) stream <= 2 || streams.count(stream) == 0) {
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;   // the legacy default stream cannot capture
    }
    if (stream->capture) {
        return CUDA_ERROR_ILLEGAL_STATE;
    }
    auto c = std::make_shared<Capture>();
    c->graph = new CUgraph_st();
    c->origin = stream;
    c->mode = mode;
    c->thread = std::this_thread::get_id();
    captures.insert(c);
    stream->capture = c;
    stream->joined_up_to = stream->last_work;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamEndCapture(CUstream stream, CUgraph* graph) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (graph == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if ((std::uintptr_t) stream <= 2 || streams.count(stream) == 0 || !stream->capture ||
        stream->capture->origin != stream) {
        return CUDA_ERROR_STREAM_CAPTURE_UNMATCHED;
    }
    std::shared_ptr<Capture> c = stream->capture;
    bool unjoined = false;
    for (CUstream s : streams) {
        if (s->capture == c) {
            unjoined |= s != stream && s->last_work > s->joined_up_to;
            s->capture = nullptr;
        }
    }
    captures.erase(c);
    *graph = nullptr;
    if (unjoined) {
        complain("cuStreamEndCapture: a stream forked into the capture has work the origin stream never waited for");
        delete c->graph;
        return CUDA_ERROR_STREAM_CAPTURE_UNJOINED;
    }
    if (c->invalidated) {
        delete c->graph;
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    graphs.insert(c->graph);
    *graph = c->graph;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamIsCapturing(CUstream stream, int* status) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (status == nullptr || !known_stream(stream)) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    CUstream s = resolve(stream);
    *status = !s->capture ? CU_STREAM_CAPTURE_STATUS_NONE
              : s->capture->invalidated ? CU_STREAM_CAPTURE_STATUS_INVALIDATED : CU_STREAM_CAPTURE_STATUS_ACTIVE;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuThreadExchangeStreamCaptureMode(int* mode) {
    if (mode == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *mode = CU_STREAM_CAPTURE_MODE_GLOBAL;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphDestroy(CUgraph graph) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (graphs.erase(graph) == 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    delete graph;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphGetNodes(CUgraph graph, void** nodes, std::size_t* count) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (graphs.count(graph) == 0 || count == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (nodes != nullptr) {
        complain("cuGraphGetNodes: node handles are not modelled (pass null to count them)");
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    *count = graph->work.size();
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph graph, unsigned long long flags) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    (void) flags;
    if (CUresult r = need_context()) {
        return r;
    }
    if (exec == nullptr || graphs.count(graph) == 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    auto* e = new CUgraphExec_st{graph->work};
    graph_execs.insert(e);
    *exec = e;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphUpload(CUgraphExec exec, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return graph_execs.count(exec) != 0 && known_stream(stream) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUAPI CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (graph_execs.count(exec) == 0 || !known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    auto work = exec->work;
    return submit(stream, [work] {
        for (const auto& w : work) {
            w();
        }
    });
}

CUAPI CUresult cuGraphExecDestroy(CUgraphExec exec) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (graph_execs.erase(exec) == 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    delete exec;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventCreate(CUevent* event, unsigned flags) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    (void) flags;
    if (CUresult r = need_context()) {
        return r;
    }
    if (event == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    auto* e = new CUevent_st();
    events.insert(e);
    *event = e;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventDestroy_v2(CUevent event) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (events.erase(event) == 0) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    delete event;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventRecord(CUevent event, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (events.count(event) == 0 || !known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    CUstream s = resolve(stream);
    event->capture = s->capture;
    event->recorded_on = s;
    CUresult r = submit(stream, [event] {
        event->time = std::chrono::steady_clock::now();
        event->recorded = true;
    });
    event->recorded_after = s->last_work;   // the record itself is part of what a waiter joins
    return r;
}

CUAPI CUresult cuEventRecordWithFlags(CUevent event, CUstream stream, unsigned flags) {
    (void) flags;
    return cuEventRecord(event, stream);
}

CUAPI CUresult cuEventSynchronize(CUevent event) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return events.count(event) != 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUAPI CUresult cuEventQuery(CUevent event) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return events.count(event) != 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUAPI CUresult cuEventElapsedTime(float* milliseconds, CUevent start, CUevent end) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (milliseconds == nullptr || events.count(start) == 0 || events.count(end) == 0) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (!start->recorded || !end->recorded) {
        return CUDA_ERROR_NOT_READY;
    }
    *milliseconds = std::chrono::duration<float, std::milli>(end->time - start->time).count();
    return CUDA_SUCCESS;
}
