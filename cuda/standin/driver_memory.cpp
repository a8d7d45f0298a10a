// driver_memory.cpp — the stand-in driver: device and page-locked host allocations, copies, memsets.
#include "driver_state.h"

using namespace standin::driver;

namespace {

CUresult copy_bytes(void* dst, const void* src, std::size_t bytes) {
    if (bytes != 0) {
        std::memmove(dst, src, bytes);
    }
    return CUDA_SUCCESS;
}

/**
 * An async copy to or from pageable host memory: outside a capture it completes before the call
 * returns (the work runs at once here, which is what CUDA documents for pageable memory: staged
 * before return for host to device, complete on return for device to host); inside one it cannot
 * be recorded (the graph would touch host memory nobody pinned), so CUDA refuses it and the capture
 * is invalidated.
 */
CUresult refuse_pageable_in_capture(CUstream stream, const void* host, std::size_t bytes, const char* call) {
    if (bytes == 0 || !known_stream(stream) || pinned_range(host, bytes)) {
        return CUDA_SUCCESS;
    }
    CUstream s = resolve(stream);
    if (!s->capture) {
        return CUDA_SUCCESS;
    }
    s->capture->invalidated = true;
    complain("%s: pageable host memory in a stream capture (only page-locked memory can be captured; the "
             "capture is invalidated)", call);
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

}  // namespace

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
    CUcontext context = current_context();
    if (context->allocated_bytes + bytes > total_memory()) {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    void* p = nullptr;
    if (posix_memalign(&p, 256, bytes) != 0) {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    std::memset(p, 0xFF, bytes);   // NaN in every float: fresh device memory is garbage
    allocations[(std::uintptr_t) p] = bytes;
    allocation_context[(std::uintptr_t) p] = context;
    context->allocated_bytes += bytes;
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
    allocation_context[it->first]->allocated_bytes -= it->second;
    allocation_context.erase(it->first);
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
    *free_bytes = total_memory() - current_context()->allocated_bytes;
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
    host_allocations[(std::uintptr_t) p] = bytes == 0 ? 1 : bytes;
    *pointer = p;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuMemHostAlloc(void** pointer, std::size_t bytes, unsigned flags) {
    (void) flags;
    return cuMemAllocHost_v2(pointer, bytes);
}

CUAPI CUresult cuMemFreeHost(void* pointer) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (host_allocations.erase((std::uintptr_t) pointer) == 0) {
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
    if (CUresult r = refuse_legacy_during_blocking_capture("cuMemcpyHtoD")) {
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
    if (CUresult r = refuse_legacy_during_blocking_capture("cuMemcpyDtoH")) {
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
    if (CUresult r = refuse_legacy_during_blocking_capture("cuMemcpyDtoD")) {
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
    if (CUresult r = refuse_pageable_in_capture(stream, src, bytes, "cuMemcpyHtoDAsync")) {
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
    if (CUresult r = refuse_pageable_in_capture(stream, dst, bytes, "cuMemcpyDtoHAsync")) {
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
/**
 * A synchronous call's work runs now (refused during a capture, as CUDA does); an Async call's is
 * stream work.
 */
CUresult run_now_or_on(CUstream stream, bool async, const char* call, std::function<void()> work) {
    if (!async) {
        if (CUresult r = refuse_during_capture(call)) {
            return r;
        }
        if (CUresult r = refuse_legacy_during_blocking_capture(call)) {
            return r;
        }
        work();
        return CUDA_SUCCESS;
    }
    if (!known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    return submit(stream, std::move(work));
}

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
    return run_now_or_on(stream, async, call, work);
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
    return run_now_or_on(stream, async, call, work);
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
