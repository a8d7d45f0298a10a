// driver_state.cpp — the stand-in driver's state and shared helpers (see driver_state.h), its own
// entry points (for the cuBLAS stand-in and the Java side), initialisation and error texts.
#include "driver_state.h"

using namespace standin::driver;

namespace standin::driver {

std::recursive_mutex lock;
bool initialised = false;
CUctx_st primaries[kMaxDevices];
CUstream_st default_stream;
std::map<std::uintptr_t, std::size_t> allocations;   // base → bytes, device memory
std::map<std::uintptr_t, CUcontext> allocation_context;
std::map<std::uintptr_t, std::size_t> host_allocations;   // base → bytes, page-locked host memory
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

int device_count() {
    static int count = std::min(kMaxDevices, env_int("JLSTM_STANDIN_DEVICES", 1));
    return count;
}

bool valid_device(CUdevice device) {
    return device >= 0 && device < device_count();
}

CUcontext current_context() {
    return context_stack.back();
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

CUresult refuse_legacy_during_blocking_capture(const char* call) {
    bool refused = false;
    for (CUstream s : streams) {
        if (s->blocking && s->capture) {
            s->capture->invalidated = true;
            refused = true;
        }
    }
    if (!refused) {
        return CUDA_SUCCESS;
    }
    complain("%s: legacy-stream work while a blocking stream is capturing (an implicit dependency on the "
             "capture: the capture is invalidated)", call);
    return CUDA_ERROR_STREAM_CAPTURE_IMPLICIT;
}

bool pinned_range(const void* p, std::size_t bytes) {
    auto it = host_allocations.upper_bound((std::uintptr_t) p);
    if (it == host_allocations.begin()) {
        return false;
    }
    --it;
    return (std::uintptr_t) p >= it->first && (std::uintptr_t) p + bytes <= it->first + it->second;
}

CUresult submit(CUstream stream, std::function<void()> work) {
    if ((std::uintptr_t) stream <= 1) {   // 0 and CU_STREAM_LEGACY: the legacy default stream
        if (CUresult r = refuse_legacy_during_blocking_capture("work on the legacy default stream")) {
            return r;
        }
    }
    CUstream s = resolve(stream);
    if (s->capture && s->capture->invalidated) {
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    s->last_work = ++work_sequence;
    if (s->capture) {
        s->capture->graph->work.push_back(std::move(work));
        return CUDA_SUCCESS;
    }
    work();
    return CUDA_SUCCESS;
}

bool known_stream(CUstream s) {
    return (std::uintptr_t) s <= 2 || streams.count(s) != 0;
}


void free_everything(CUcontext context) {
    std::size_t live = 0;
    for (auto it = allocation_context.begin(); it != allocation_context.end();) {
        if (it->second != context) {
            ++it;
            continue;
        }
        live++;
        std::free(reinterpret_cast<void*>(it->first));
        allocations.erase(it->first);
        it = allocation_context.erase(it);
    }
    if (live != 0) {
        complain("%zu device allocations (%zu bytes) of device %d were still live when its primary context was "
                 "released", live, context->allocated_bytes, context->device);
    }
    context->allocated_bytes = 0;
}

}  // namespace standin::driver

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
    static std::string text = std::string("jlstm CPU stand-in (not a GPU): ") + std::to_string(device_count()) +
                              (device_count() == 1 ? " device of " : " devices of ") +
                              std::to_string(multiprocessors()) + " simulated multiprocessors, blocks in " +
                              standin::block_order_description() + " order, registers " +
                              standin::kernel_registers_source;
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
    {CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, "CUDA_ERROR_STREAM_CAPTURE_IMPLICIT",
     "operation would make the legacy stream depend on a capturing blocking stream"},
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
