// executor.cpp — runs a kernel launch of the stand-in: every CUDA thread of a block is a fiber
// (fiber.h), all on the calling OS thread, switching only at the synchronising built-ins of
// cuda_on_cpu.h. A round runs every runnable thread until it exits or waits; then waiting
// threads are released where CUDA would release them:
//   __syncthreads   when every thread of the block waits at the same barrier;
//   warp exchanges  when every lane named in the mask waits at the same exchange with that mask;
//   grid sync       when every thread of every block waits there (cooperative launches only, with
//                   all blocks resident; each block's __shared__ contents are swapped in and out).
// A round in which nothing can run or be released is misuse, reported with the kernel's
// file:line before the process aborts: a barrier some threads exited before or that threads reach
// at different places, a mask naming an exited or absent lane, lanes meeting with different masks,
// a shuffle reading a lane outside its mask, or any other deadlock.
//
// Blocks run in the order JLSTM_STANDIN_BLOCK_ORDER says: forward (default), reverse, or
// random[:SEED]; threads of a block in index order. Shared memory (static __shared__ variables in
// section jlstm_shared, and the dynamic buffer) is filled with NaN bytes (0xFF) before each block.
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "fiber.h"
#include "standin.h"

// The built-in variables of cuda_on_cpu.h.
extern "C" {
uint3 threadIdx;
uint3 blockIdx;
dim3 blockDim;
dim3 gridDim;
}

// Bounds of the jlstm_shared section (every static __shared__ variable), provided by the linker.
extern "C" char __start_jlstm_shared[] __attribute__((weak));
extern "C" char __stop_jlstm_shared[] __attribute__((weak));

namespace standin {

void fatal(const char* format, ...) {
    std::fflush(stdout);
    std::fprintf(stderr, "jlstm CUDA stand-in: ");
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
    std::fprintf(stderr, "\n");
    std::fflush(stderr);
    std::abort();
}

const KernelInfo* find_kernel(const char* name) {
    for (int n = 0; n < kernel_count; n++) {
        if (std::strcmp(kernels[n].name, name) == 0) {
            return &kernels[n];
        }
    }
    return nullptr;
}

std::size_t static_shared_bytes() {
    if (__start_jlstm_shared == nullptr || __stop_jlstm_shared == nullptr) {
        return 0;
    }
    return (std::size_t) (__stop_jlstm_shared - __start_jlstm_shared);
}

namespace {

constexpr int kWarp = 32;

enum class Wait : unsigned char { Running, Barrier, Warp, Grid, Exited };

// kCollective: a whole-warp operation of the warp matrix functions (nvcuda::wmma, include/mma.h):
// every lane of a full warp must arrive, and each gets every lane's value.
enum WarpKind { kShflIdx = 0, kShflUp = 1, kShflDown = 2, kShflXor = 3, kSyncWarp = 4, kBallot = 5, kCollective = 6 };

const char* warp_op_name(int kind) {
    static const char* const names[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync",
                                        "__syncwarp", "__ballot_sync", "nvcuda::wmma"};
    return kind >= 0 && kind <= 6 ? names[kind] : "warp op";
}

struct Block;

struct Thread {
    Fiber fiber;
    uint3 idx{};
    int linear = 0;   // index within the block
    int warp = 0;
    int lane = 0;
    Wait wait = Wait::Running;
    const char* file = "";
    int line = 0;
    // the pending warp exchange
    int kind = 0;
    unsigned mask = 0;
    unsigned long long value = 0;
    int operand = 0;
    int width = kWarp;
    unsigned long long result = 0;
    unsigned long long* gathered = nullptr;   // kCollective: every lane's value, by lane (or null)
    Block* block = nullptr;
};

struct Block {
    uint3 idx{};
    Thread* threads = nullptr;
    int count = 0;
    int exited = 0;
    std::vector<unsigned char> static_shared;   // cooperative launches: this block's section contents
    std::vector<unsigned char> dynamic_shared;
    char barrier_token = 0;                     // ThreadSanitizer sync objects
    std::vector<char> warp_tokens;
};

struct Launch {
    const KernelInfo* kernel = nullptr;
    void** params = nullptr;
    bool cooperative = false;
    int threads_per_block = 0;
    std::size_t dynamic_bytes = 0;
};

Fiber scheduler;                 // the OS thread's own context while a launch runs
Thread* current = nullptr;       // the fiber running now, or null
Launch* launch = nullptr;
Block* resident = nullptr;       // the block whose static __shared__ contents are in the section
std::vector<Thread> pool;        // fibers, reused across launches
// ThreadSanitizer sync objects: launch start/end, and one block to the next (blocks of one launch run
// one after the other here, and reuse the same shared-memory addresses).
char launch_start_token, launch_end_token, block_token, grid_token;

std::size_t stack_bytes() {
    static std::size_t bytes = [] {
        const char* kb = std::getenv("JLSTM_STANDIN_STACK_KB");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(STANDIN_TSAN_ANNOTATIONS)
        std::size_t fallback = 512;
#else
        std::size_t fallback = 64;
#endif
        return (kb != nullptr && std::atoi(kb) > 0 ? (std::size_t) std::atoi(kb) : fallback) * 1024;
    }();
    return bytes;
}

// Block order: forward, reverse or random[:seed] (one generator for the process, so every launch
// gets a different but reproducible order).
struct Order {
    enum Mode { kForward, kReverse, kRandom } mode = kForward;
    unsigned long long seed = 1;
    std::mt19937_64 rng;
    std::string text = "forward";
    Order() {
        const char* v = std::getenv("JLSTM_STANDIN_BLOCK_ORDER");
        if (v == nullptr || std::strcmp(v, "") == 0 || std::strcmp(v, "forward") == 0) {
            return;
        }
        if (std::strcmp(v, "reverse") == 0) {
            mode = kReverse;
            text = "reverse";
        } else if (std::strncmp(v, "random", 6) == 0) {
            mode = kRandom;
            if (v[6] == ':') {
                seed = std::strtoull(v + 7, nullptr, 10);
            }
            rng.seed(seed);
            text = "random:" + std::to_string(seed);
        } else {
            fatal("JLSTM_STANDIN_BLOCK_ORDER=%s: expected forward, reverse or random[:SEED]", v);
        }
    }
    std::vector<long> permutation(long n) {
        std::vector<long> order((std::size_t) n);
        for (long i = 0; i < n; i++) {
            order[(std::size_t) i] = mode == kReverse ? n - 1 - i : i;
        }
        if (mode == kRandom) {
            std::shuffle(order.begin(), order.end(), rng);
        }
        return order;
    }
};

Order& order() {
    static Order o;
    return o;
}

// The section is filled and copied without the sanitizers' eyes: AddressSanitizer keeps redzones
// between the variables in it, and these writes stand for the hardware, not for any CUDA thread.
__attribute__((no_sanitize("address", "thread"))) void fill_section(unsigned char byte) {
    volatile unsigned char* p = reinterpret_cast<unsigned char*>(__start_jlstm_shared);
    for (std::size_t n = 0, size = static_shared_bytes(); n < size; n++) {
        p[n] = byte;
    }
}

__attribute__((no_sanitize("address", "thread"))) void copy_section(unsigned char* to, const unsigned char* from) {
    volatile unsigned char* dst = to != nullptr ? to : reinterpret_cast<unsigned char*>(__start_jlstm_shared);
    const volatile unsigned char* src = from != nullptr ? from : reinterpret_cast<unsigned char*>(__start_jlstm_shared);
    for (std::size_t n = 0, size = static_shared_bytes(); n < size; n++) {
        dst[n] = src[n];
    }
}

std::string where(const Thread& t) {
    char text[160];
    std::snprintf(text, sizeof text, "block (%u,%u,%u), thread (%u,%u,%u)", t.block->idx.x, t.block->idx.y,
                  t.block->idx.z, t.idx.x, t.idx.y, t.idx.z);
    return text;
}

void switch_from(Thread& t, bool finished);

void thread_main(void* argument) {
    auto* t = static_cast<Thread*>(argument);
    fiber_started(t->fiber);
    tsan_acquire(&launch_start_token);
    tsan_acquire(&block_token);
    launch->kernel->invoke(launch->params);
    t->wait = Wait::Exited;
    t->block->exited++;
    tsan_release(&launch_end_token);
    switch_from(*t, true);
    fatal("a finished CUDA thread was resumed");
}

void run(Thread& t) {
    current = &t;
    threadIdx = t.idx;
    fiber_switch(scheduler, t.fiber);
    current = nullptr;
}

/** Makes {@code b} the block whose shared memory and blockIdx the kernel sees. */
void activate(Block& b) {
    if (resident == &b) {
        return;
    }
    if (launch->cooperative) {
        if (resident != nullptr) {
            copy_section(resident->static_shared.data(), nullptr);
        }
        copy_section(nullptr, b.static_shared.data());
    }
    resident = &b;
    blockIdx = b.idx;
}

Thread& current_thread(const char* what, const char* file, int line) {
    if (current == nullptr) {
        fatal("%s at %s:%d called outside a kernel launch", what, file, line);
    }
    return *current;
}

/**
 * Where a thread that stops goes next: straight to the next runnable thread of its block (one
 * switch instead of two through the scheduler; warp exchanges make many such stops), or back to
 * the scheduler when none is left.
 */
void switch_from(Thread& t, bool finished) {
    Block& b = *t.block;
    for (int n = t.linear + 1; n < b.count; n++) {
        Thread& next = b.threads[n];
        if (next.wait == Wait::Running) {
            current = &next;
            threadIdx = next.idx;
            fiber_switch(t.fiber, next.fiber, finished);
            return;
        }
    }
    current = nullptr;
    fiber_switch(t.fiber, scheduler, finished);
}

void wait_here(Thread& t, Wait wait, const char* file, int line) {
    t.wait = wait;
    t.file = file;
    t.line = line;
    switch_from(t, false);
}

bool runnable_threads_run(Block& b) {
    bool ran = false;
    for (int n = 0; n < b.count; n++) {
        if (b.threads[n].wait == Wait::Running) {
            run(b.threads[n]);
            ran = true;
        }
    }
    return ran;
}

int lanes_in_warp(const Block& b, int warp) {
    return std::min(kWarp, b.count - warp * kWarp);
}

/** Releases every warp exchange whose named lanes have all arrived with the same op and mask. */
bool warp_exchanges_released(Block& b) {
    bool released = false;
    int warps = (b.count + kWarp - 1) / kWarp;
    for (int w = 0; w < warps; w++) {
        Thread* lanes = b.threads + w * kWarp;
        int present = lanes_in_warp(b, w);
        for (int l = 0; l < present; l++) {
            Thread& first = lanes[l];
            if (first.wait != Wait::Warp) {
                continue;
            }
            unsigned mask = first.mask;
            bool complete = true;
            for (int m = 0; m < present && complete; m++) {
                if (mask & (1u << m)) {
                    const Thread& o = lanes[m];
                    complete = o.wait == Wait::Warp && o.mask == mask && o.kind == first.kind &&
                               o.width == first.width && o.line == first.line && std::strcmp(o.file, first.file) == 0;
                }
            }
            if (!complete) {
                continue;
            }
            unsigned long long ballot = 0;
            for (int m = 0; m < present; m++) {
                if ((mask & (1u << m)) && lanes[m].value != 0) {
                    ballot |= 1ull << m;
                }
            }
            for (int m = 0; m < present; m++) {
                if (!(mask & (1u << m))) {
                    continue;
                }
                Thread& t = lanes[m];
                int width = t.width;
                int base = m & ~(width - 1);
                int source = m;
                switch (t.kind) {
                    case kShflIdx: source = base + (((t.operand % width) + width) % width); break;
                    case kShflUp: source = m - t.operand < base ? m : m - t.operand; break;
                    case kShflDown: source = m + t.operand >= base + width ? m : m + t.operand; break;
                    case kShflXor: source = (m ^ t.operand) >= base + width ? m : (m ^ t.operand); break;
                    default: break;
                }
                if (t.kind == kBallot) {
                    t.result = ballot;
                } else if (t.kind == kSyncWarp) {
                    t.result = 0;
                } else if (t.kind == kCollective) {
                    t.result = 0;
                    for (int l = 0; t.gathered != nullptr && l < present; l++) {
                        t.gathered[l] = lanes[l].value;
                    }
                } else {
                    if (source < 0 || source >= kWarp || !(mask & (1u << source))) {
                        fatal("%s at %s:%d (%s): lane %d reads lane %d, which mask 0x%08x does not name "
                              "(undefined on a GPU)", warp_op_name(t.kind), t.file, t.line, where(t).c_str(), m, source,
                              mask);
                    }
                    t.result = lanes[source].value;
                }
            }
            for (int m = 0; m < present; m++) {
                if (mask & (1u << m)) {
                    lanes[m].wait = Wait::Running;
                }
            }
            released = true;
        }
    }
    return released;
}

/** Releases the block barrier when every thread waits at it. */
bool barrier_released(Block& b) {
    int waiting = 0;
    for (int n = 0; n < b.count; n++) {
        waiting += b.threads[n].wait == Wait::Barrier;
    }
    if (waiting == 0) {
        return false;
    }
    const Thread* first = nullptr;
    for (int n = 0; n < b.count; n++) {
        const Thread& t = b.threads[n];
        if (t.wait != Wait::Barrier) {
            continue;
        }
        if (first == nullptr) {
            first = &t;
        } else if (t.line != first->line || std::strcmp(t.file, first->file) != 0) {
            fatal("__syncthreads: threads of one block wait at different barriers, %s:%d (%s) and %s:%d (%s)",
                  first->file, first->line, where(*first).c_str(), t.file, t.line, where(t).c_str());
        }
    }
    if (waiting + b.exited == b.count && b.exited > 0) {
        const Thread* gone = nullptr;
        for (int n = 0; n < b.count && gone == nullptr; n++) {
            if (b.threads[n].wait == Wait::Exited) {
                gone = &b.threads[n];
            }
        }
        fatal("__syncthreads at %s:%d: %d of %d threads of the block exited before reaching it (first: %s)",
              first->file, first->line, b.exited, b.count, where(*gone).c_str());
    }
    if (waiting != b.count) {
        return false;
    }
    for (int n = 0; n < b.count; n++) {
        b.threads[n].wait = Wait::Running;
    }
    return true;
}

/** Runs a block until it finishes or every live thread waits for something it cannot give itself. */
void advance(Block& b) {
    activate(b);
    for (;;) {
        runnable_threads_run(b);
        if (b.exited == b.count) {
            return;
        }
        if (warp_exchanges_released(b) || barrier_released(b)) {
            continue;
        }
        return;
    }
}

/** Explains why a block cannot go on, and aborts. */
[[noreturn]] void report_stuck(Block& b) {
    int warps = (b.count + kWarp - 1) / kWarp;
    for (int w = 0; w < warps; w++) {
        Thread* lanes = b.threads + w * kWarp;
        int present = lanes_in_warp(b, w);
        for (int l = 0; l < present; l++) {
            Thread& t = lanes[l];
            if (t.wait != Wait::Warp) {
                continue;
            }
            for (int m = 0; m < present; m++) {
                if (!(t.mask & (1u << m))) {
                    continue;
                }
                Thread& o = lanes[m];
                if (o.wait == Wait::Exited) {
                    fatal("%s at %s:%d (%s): mask 0x%08x names lane %d, which has exited", warp_op_name(t.kind),
                          t.file, t.line, where(t).c_str(), t.mask, m);
                }
                if (o.wait == Wait::Warp && o.mask != t.mask) {
                    fatal("divergent masks in warp %d: %s at %s:%d with mask 0x%08x (%s), %s at %s:%d with mask "
                          "0x%08x (%s)", w, warp_op_name(t.kind), t.file, t.line, t.mask, where(t).c_str(),
                          warp_op_name(o.kind), o.file, o.line, o.mask, where(o).c_str());
                }
                if (o.wait == Wait::Warp && (o.kind != t.kind || o.line != t.line || std::strcmp(o.file, t.file) != 0)) {
                    fatal("lanes of warp %d meet at different warp exchanges: %s at %s:%d (%s) and %s at %s:%d (%s)", w,
                          warp_op_name(t.kind), t.file, t.line, where(t).c_str(), warp_op_name(o.kind), o.file, o.line,
                          where(o).c_str());
                }
                if (o.wait != Wait::Warp) {
                    fatal("deadlock: %s at %s:%d (%s) waits for lane %d, which waits at %s:%d", warp_op_name(t.kind),
                          t.file, t.line, where(t).c_str(), m, o.file, o.line);
                }
            }
        }
    }
    const Thread* waiting = nullptr;
    for (int n = 0; n < b.count && waiting == nullptr; n++) {
        if (b.threads[n].wait != Wait::Exited) {
            waiting = &b.threads[n];
        }
    }
    fatal("deadlock in %s: %s waits at %s:%d and nothing can release it", launch->kernel->name,
          where(*waiting).c_str(), waiting->file, waiting->line);
}

void prepare_threads(Block& b, Thread* threads, dim3 block) {
    b.threads = threads;
    b.count = (int) (block.x * block.y * block.z);
    b.exited = 0;
    for (int n = 0; n < b.count; n++) {
        Thread& t = threads[n];
        t.linear = n;
        t.idx = uint3{(unsigned) n % block.x, ((unsigned) n / block.x) % block.y, (unsigned) n / (block.x * block.y)};
        t.warp = n / kWarp;
        t.lane = n % kWarp;
        t.wait = Wait::Running;
        t.file = "";
        t.line = 0;
        t.block = &b;
        fiber_allocate(t.fiber, stack_bytes());
        fiber_reset(t.fiber, &thread_main, &t);
    }
    b.warp_tokens.assign((std::size_t) (b.count + kWarp - 1) / kWarp, 0);
    b.dynamic_shared.assign(launch->dynamic_bytes, 0xFF);
}

uint3 block_index(long linear, dim3 grid) {
    return uint3{(unsigned) (linear % grid.x), (unsigned) ((linear / grid.x) % grid.y),
                 (unsigned) (linear / ((long) grid.x * grid.y))};
}

}  // namespace

const char* block_order_description() {
    return order().text.c_str();
}

void execute(const KernelInfo& kernel, dim3 grid, dim3 block, std::size_t dynamic_shared_bytes, bool cooperative,
             void** params) {
    Launch l;
    l.kernel = &kernel;
    l.params = params;
    l.cooperative = cooperative;
    l.threads_per_block = (int) (block.x * block.y * block.z);
    l.dynamic_bytes = dynamic_shared_bytes;
    launch = &l;
    resident = nullptr;
    scheduler = Fiber();
    blockDim = block;
    gridDim = grid;
    long blocks = (long) grid.x * grid.y * grid.z;
    std::vector<long> sequence = order().permutation(blocks);
    tsan_release(&launch_start_token);

    if (!cooperative) {
        if (pool.size() < (std::size_t) l.threads_per_block) {
            pool.resize((std::size_t) l.threads_per_block);
        }
        Block b;
        for (long linear : sequence) {
            b.idx = block_index(linear, grid);
            prepare_threads(b, pool.data(), block);
            resident = nullptr;
            tsan_acquire(&launch_end_token);   // the previous block's threads are done
            tsan_ignore_begin();
            fill_section(0xFF);
            tsan_ignore_end();
            tsan_release(&block_token);
            advance(b);
            if (b.exited != b.count) {
                report_stuck(b);
            }
        }
    } else {
        std::size_t total = (std::size_t) blocks * (std::size_t) l.threads_per_block;
        if (pool.size() < total) {
            pool.resize(total);
        }
        std::vector<Block> all((std::size_t) blocks);
        for (long n = 0; n < blocks; n++) {
            Block& b = all[(std::size_t) n];
            b.idx = block_index(n, grid);
            prepare_threads(b, pool.data() + n * l.threads_per_block, block);
            b.static_shared.assign(static_shared_bytes(), 0xFF);
        }
        tsan_release(&block_token);   // the blocks' shared memory is set up before any thread runs
        for (;;) {
            for (long linear : sequence) {
                advance(all[(std::size_t) linear]);
            }
            long live = 0, at_grid = 0;
            for (Block& b : all) {
                for (int n = 0; n < b.count; n++) {
                    live += b.threads[n].wait != Wait::Exited;
                    at_grid += b.threads[n].wait == Wait::Grid;
                }
            }
            if (live == 0) {
                break;
            }
            if (at_grid == live) {
                if ((long) total != live) {
                    const Thread* t = nullptr;
                    for (std::size_t n = 0; n < total && t == nullptr; n++) {
                        if (pool[n].wait == Wait::Grid) {
                            t = &pool[n];
                        }
                    }
                    fatal("this_grid().sync() at %s:%d: %ld of %zu threads exited before reaching it", t->file,
                          t->line, (long) total - live, total);
                }
                for (std::size_t n = 0; n < total; n++) {
                    pool[n].wait = Wait::Running;
                }
                continue;
            }
            for (Block& b : all) {
                bool stuck = false;
                for (int n = 0; n < b.count; n++) {
                    stuck |= b.threads[n].wait == Wait::Barrier || b.threads[n].wait == Wait::Warp;
                }
                if (stuck) {
                    activate(b);
                    report_stuck(b);
                }
            }
            fatal("deadlock in cooperative launch of %s", kernel.name);
        }
        if (resident != nullptr) {
            copy_section(resident->static_shared.data(), nullptr);
        }
        tsan_acquire(&launch_end_token);   // every thread is done before the blocks' memory goes
    }
    tsan_acquire(&launch_end_token);
    resident = nullptr;
    launch = nullptr;
}

}  // namespace standin

// ---------------------------------------------------------------- built-ins called by kernels

extern "C" void jlstm_standin_syncthreads(const char* file, int line) {
    using namespace standin;
    Thread& t = current_thread("__syncthreads", file, line);
    tsan_release(&t.block->barrier_token);
    wait_here(t, Wait::Barrier, file, line);
    tsan_acquire(&t.block->barrier_token);
}

extern "C" unsigned long long jlstm_standin_warp_op(int kind, unsigned mask, unsigned long long value, int operand,
                                                    int width, const char* file, int line) {
    using namespace standin;
    Thread& t = current_thread(warp_op_name(kind), file, line);
    if (width < 1 || width > kWarp || (width & (width - 1)) != 0) {
        fatal("%s at %s:%d (%s): width %d is not a power of two in [1, 32]", warp_op_name(kind), file, line,
              where(t).c_str(), width);
    }
    if (!(mask & (1u << t.lane))) {
        fatal("%s at %s:%d (%s): mask 0x%08x does not name the calling lane %d", warp_op_name(kind), file, line,
              where(t).c_str(), mask, t.lane);
    }
    int present = lanes_in_warp(*t.block, t.warp);
    unsigned valid = present == kWarp ? 0xffffffffu : (1u << present) - 1;
    if (mask & ~valid) {
        fatal("%s at %s:%d (%s): mask 0x%08x names lanes that do not exist (the warp has %d threads)",
              warp_op_name(kind), file, line, where(t).c_str(), mask, present);
    }
    t.kind = kind;
    t.mask = mask;
    t.value = value;
    t.operand = operand;
    t.width = width;
    tsan_release(&t.block->warp_tokens[(std::size_t) t.warp]);
    wait_here(t, Wait::Warp, file, line);
    tsan_acquire(&t.block->warp_tokens[(std::size_t) t.warp]);
    return t.result;
}

// A warp matrix function (include/mma.h): a rendezvous of all 32 lanes of a full warp at the same
// call site, which hands each lane every lane's value (gathered[32], or null for a plain rendezvous).
extern "C" void jlstm_standin_warp_collective(const char* what, unsigned long long value,
                                              unsigned long long* gathered, const char* file, int line) {
    using namespace standin;
    Thread& t = current_thread(what, file, line);
    int present = lanes_in_warp(*t.block, t.warp);
    if (present != kWarp) {
        fatal("%s at %s:%d (%s): a warp matrix function needs a whole warp, and this warp has %d threads "
              "(blockDim %u is not a multiple of 32)", what, file, line, where(t).c_str(), present,
              launch->threads_per_block);
    }
    t.kind = kCollective;
    t.mask = 0xffffffffu;
    t.value = value;
    t.operand = 0;
    t.width = kWarp;
    t.gathered = gathered;
    tsan_release(&t.block->warp_tokens[(std::size_t) t.warp]);
    wait_here(t, Wait::Warp, file, line);
    tsan_acquire(&t.block->warp_tokens[(std::size_t) t.warp]);
    t.gathered = nullptr;
}

// Misuse a built-in found (a wmma rule of include/mma.h): aborts with the call site and the thread.
extern "C" void jlstm_standin_misuse(const char* what, const char* file, int line, const char* message) {
    using namespace standin;
    Thread& t = current_thread(what, file, line);
    fatal("%s at %s:%d (%s) in %s: %s", what, file, line, where(t).c_str(), launch->kernel->name, message);
}

extern "C" void jlstm_standin_grid_sync(const char* file, int line) {
    using namespace standin;
    Thread& t = current_thread("this_grid().sync()", file, line);
    if (!launch->cooperative) {
        fatal("this_grid().sync() at %s:%d (%s) in %s, which was not launched cooperatively "
              "(cuLaunchCooperativeKernel)", file, line, where(t).c_str(), launch->kernel->name);
    }
    tsan_release(&grid_token);
    wait_here(t, Wait::Grid, file, line);
    tsan_acquire(&grid_token);
}

extern "C" void* jlstm_standin_dynamic_shared(void) {
    using namespace standin;
    Thread& t = current_thread("dynamic shared memory", "", 0);
    return t.block->dynamic_shared.data();
}
