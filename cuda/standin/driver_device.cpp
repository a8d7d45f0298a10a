// driver_device.cpp — the stand-in driver: device queries and the primary context.
#include "driver_state.h"

using namespace standin::driver;

// ---------------------------------------------------------------- device

CUAPI CUresult cuDeviceGetCount(int* count) {
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (count == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *count = device_count();
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (device == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (!valid_device(ordinal)) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    *device = ordinal;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceGetName(char* name, int length, CUdevice device) {
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (!valid_device(device)) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (name == nullptr || length <= 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    std::snprintf(name, (std::size_t) length, "%s", "jlstm CPU stand-in (not a GPU)");
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceTotalMem_v2(std::size_t* bytes, CUdevice device) {
    if (!valid_device(device)) {
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
    if (!valid_device(device)) {
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
        case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK: *value = kRegistersPerBlock; break;
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
        case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: *value = kRegistersPerSm; break;
        case CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH: *value = 1; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *value = kSharedPerBlockOptIn; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR: *value = kBlocksPerSm; break;
        case CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK: *value = kReservedSharedPerBlock; break;
        default:
            complain("cuDeviceGetAttribute: attribute %d is not modelled (answering 0)", attribute);
            *value = 0;
    }
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice device) {
    if (!valid_device(device)) {
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
    if (!valid_device(device)) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (context == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    primaries[device].device = device;
    primaries[device].retained++;
    *context = &primaries[device];
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (!valid_device(device)) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    CUctx_st& primary = primaries[device];
    if (primary.retained == 0) {
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    if (--primary.retained == 0) {
        free_everything(&primary);
    }
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDevicePrimaryCtxGetState(CUdevice device, unsigned* flags, int* active) {
    if (!valid_device(device)) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (flags != nullptr) {
        *flags = 0;
    }
    if (active != nullptr) {
        *active = primaries[device].retained > 0;
    }
    return CUDA_SUCCESS;
}

namespace {
bool is_primary(CUcontext context) {
    return context >= &primaries[0] && context < &primaries[device_count()];
}
}  // namespace

CUAPI CUresult cuCtxPushCurrent_v2(CUcontext context) {
    if (!is_primary(context)) {
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
    if (context != nullptr && !is_primary(context)) {
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
    *device = current_context()->device;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxSynchronize(void) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    return refuse_during_capture("cuCtxSynchronize");
}
