// driver_state.h — what the parts of the stand-in driver (driver_*.cpp) share: the handle types
// behind CUcontext, CUmodule, CUstream..., the device's limits, the one lock and the tables of live
// objects, and the helpers every call uses (context check, range check, stream work submission).
// Not a public header: libcuda.so.1's interface is the CUDA driver API (driver_api.h).
//
// The devices: JLSTM_STANDIN_DEVICES of them (default 1), each named "jlstm CPU stand-in (not a
// GPU)", compute capability 9.0, JLSTM_STANDIN_SMS multiprocessors (default 8; 132 is an H200),
// JLSTM_STANDIN_MEMORY_MB of memory each (default 16384), each with its own primary context,
// whose allocations it counts and frees. Memory is host memory; fresh allocations hold NaN bytes (0xFF), as device memory holds
// garbage; cuMemGetInfo reports what is allocated, so a leak shows. Streams execute their work
// in order, at once, on the calling thread (one global lock: one launch at a time), unless they
// are capturing a graph, in which case the work is recorded and replayed by cuGraphLaunch. The
// legacy default stream's rule is enforced: while a blocking stream captures, legacy-stream work
// from any thread fails with CUDA_ERROR_STREAM_CAPTURE_IMPLICIT and invalidates the capture. Async
// copies to or from pageable host memory are refused during a capture (the graph would read or
// write host memory nobody pinned); outside one they complete before the call returns, which is
// what CUDA documents for pageable memory.
//
// Where each call lives:
//   driver_state.cpp    the state, initialisation, error names, the stand-in's own entry points
//   driver_device.cpp   device queries and the primary context
//   driver_memory.cpp   allocation, copies, memsets
//   driver_launch.cpp   modules, functions, occupancy, kernel launches
//   driver_streams.cpp  streams, events, graph capture and replay
// Every other function JCuda imports is a generated weak stub (see build.sh) that names itself on
// stderr once and answers CUDA_ERROR_NOT_SUPPORTED.
#pragma once

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

// ---------------------------------------------------------------- the handles

// ---------------------------------------------------------------- the stand-in's state

struct CUctx_st {
    int retained = 0;
    int device = 0;                    // the ordinal whose primary context this is
    std::size_t allocated_bytes = 0;   // device memory allocated in it (cuMemGetInfo)
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
    bool blocking = true;                 // created without CU_STREAM_NON_BLOCKING: tied to the legacy stream
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

namespace standin::driver {

constexpr long long kMiB = 1024LL * 1024;
constexpr int kSharedPerBlock = 48 * 1024;
constexpr int kSharedPerBlockOptIn = 227 * 1024;
constexpr int kSharedPerSm = 228 * 1024;
constexpr int kThreadsPerSm = 2048;
constexpr int kBlocksPerSm = 32;
constexpr int kReservedSharedPerBlock = 1024;   // CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK on sm_80+
constexpr int kRegistersPerSm = 65536;
constexpr int kRegistersPerBlock = 65536;
constexpr int kRegisterAllocationUnit = 256;    // registers are given to a warp in units of 256
constexpr unsigned kFatbinMagic = 0xBA55ED50u;

// ---------------------------------------------------------------- the state (driver_state.cpp)

extern std::recursive_mutex lock;   // every call that touches the state holds it
extern bool initialised;
constexpr int kMaxDevices = 16;
extern CUctx_st primaries[kMaxDevices];   // the primary context of each device
extern CUstream_st default_stream;
extern std::map<std::uintptr_t, std::size_t> allocations;   // base → bytes, device memory
extern std::map<std::uintptr_t, CUcontext> allocation_context;   // base → the context it was made in
extern std::map<std::uintptr_t, std::size_t> host_allocations;   // base → bytes, page-locked host memory
extern std::set<CUstream> streams;
extern std::set<CUevent> events;
extern std::set<CUmodule> modules;
extern std::set<CUgraph> graphs;
extern std::set<CUgraphExec> graph_execs;
extern std::set<std::shared_ptr<Capture>> captures;   // active captures
extern unsigned long long work_sequence;
extern thread_local std::vector<CUcontext> context_stack;

// ---------------------------------------------------------------- helpers (driver_state.cpp)

int multiprocessors();
/** Devices offered: JLSTM_STANDIN_DEVICES (default 1, at most kMaxDevices). */
int device_count();
/** Whether {@code device} is an ordinal of an offered device. */
bool valid_device(CUdevice device);
/** The context current on this thread (need_context() must have succeeded). */
CUcontext current_context();
std::size_t total_memory();
void complain(const char* format, ...) __attribute__((format(printf, 1, 2)));
/** CUDA_SUCCESS when the driver is initialised and a retained context is current. */
CUresult need_context();
/** Whether [p, p + bytes) lies inside one live device allocation. */
bool device_range(CUdeviceptr p, std::size_t bytes);
/** CUDA_ERROR_INVALID_VALUE, said on stderr with the call and operand, unless device_range holds. */
CUresult check_range(CUdeviceptr p, std::size_t bytes, const char* call, const char* operand);
/** The stream a handle means: 0, CU_STREAM_LEGACY and CU_STREAM_PER_THREAD are the default stream. */
CUstream resolve(CUstream s);
/** Refuses a synchronous call during a capture that covers this thread, as CUDA does. */
CUresult refuse_during_capture(const char* call);
/**
 * Work on the legacy default stream (a synchronous copy or memset, or work submitted to stream 0 /
 * CU_STREAM_LEGACY) implicitly waits for every blocking stream of the context; when one of them is
 * capturing, CUDA refuses it with CUDA_ERROR_STREAM_CAPTURE_IMPLICIT and invalidates that capture,
 * whatever its mode and whichever thread calls. This does the same.
 */
CUresult refuse_legacy_during_blocking_capture(const char* call);
/** Whether [p, p + bytes) lies inside one page-locked host allocation (cuMemAllocHost). */
bool pinned_range(const void* p, std::size_t bytes);
/**
 * Runs stream work now, or records it into the capture the stream belongs to. Work for an
 * invalidated capture fails with CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, as CUDA's does; work on
 * the legacy stream obeys refuse_legacy_during_blocking_capture.
 */
CUresult submit(CUstream stream, std::function<void()> work);
bool known_stream(CUstream s);
/** Frees every device allocation of a context (its last release), saying so if any were live. */
void free_everything(CUcontext context);

}  // namespace standin::driver
