// driver_state.h — what the parts of the stand-in driver (driver_*.cpp) share: the handle types
// behind CUcontext, CUmodule, CUstream..., the device's limits, the one lock and the tables of live
// objects, and the helpers every call uses (context check, range check, stream work submission).
// Not a public header: libcuda.so.1's interface is the CUDA driver API (driver_api.h).
//
// The device: one, named "jlstm CPU stand-in (not a GPU)", compute capability 9.0,
// JLSTM_STANDIN_SMS multiprocessors (default 8), JLSTM_STANDIN_MEMORY_MB of memory (default
// 16384). Memory is host memory; fresh allocations hold NaN bytes (0xFF), as device memory holds
// garbage; cuMemGetInfo reports what is allocated, so a leak shows. Streams execute their work
// in order, at once, on the calling thread (one global lock: one launch at a time), unless they
// are capturing a graph, in which case the work is recorded and replayed by cuGraphLaunch.
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

namespace standin::driver {

constexpr long long kMiB = 1024LL * 1024;
constexpr int kSharedPerBlock = 48 * 1024;
constexpr int kSharedPerBlockOptIn = 227 * 1024;
constexpr int kSharedPerSm = 228 * 1024;
constexpr int kThreadsPerSm = 2048;
constexpr int kBlocksPerSm = 32;
constexpr unsigned kFatbinMagic = 0xBA55ED50u;

// ---------------------------------------------------------------- the state (driver_state.cpp)

extern std::recursive_mutex lock;   // every call that touches the state holds it
extern bool initialised;
extern CUctx_st primary;
extern CUstream_st default_stream;
extern std::map<std::uintptr_t, std::size_t> allocations;   // base → bytes, device memory
extern std::set<void*> host_allocations;                      // page-locked host memory (cuMemAllocHost)
extern std::size_t allocated_bytes;
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
/** Runs stream work now, or records it into the capture the stream belongs to. */
CUresult submit(CUstream stream, std::function<void()> work);
bool known_stream(CUstream s);
/** Frees every device allocation (the primary context's last release), saying so if any were live. */
void free_everything();

}  // namespace standin::driver
