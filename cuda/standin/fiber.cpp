// fiber.cpp — see fiber.h.
#include "fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#define STANDIN_ASAN 1
extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old, std::size_t* size_old);
extern "C" void __asan_unpoison_memory_region(void const volatile* addr, std::size_t size);
#endif
// ThreadSanitizer: the harness compiles this file and executor.cpp uninstrumented (their bookkeeping
// is the hardware, not CUDA threads) with STANDIN_TSAN_ANNOTATIONS, and everything else with TSan.
#if defined(__SANITIZE_THREAD__) || defined(STANDIN_TSAN_ANNOTATIONS)
#define STANDIN_TSAN 1
extern "C" void* __tsan_get_current_fiber(void);
extern "C" void* __tsan_create_fiber(unsigned flags);
extern "C" void __tsan_destroy_fiber(void* fiber);
extern "C" void __tsan_switch_to_fiber(void* fiber, unsigned flags);
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
extern "C" void __tsan_ignore_thread_begin(void);
extern "C" void __tsan_ignore_thread_end(void);
#endif

#if !defined(__x86_64__)
#error "the CUDA stand-in's fibers are written for x86-64"
#endif

// standin_switch_stack(save, load): pushes rbp, rbx, r12–r15, stores rsp into *save, loads rsp
// from load, pops the six registers of the fiber being resumed and returns into it.
// standin_fiber_trampoline: where a fresh fiber's first switch "returns" to; calls entry(argument),
// which the stack set-up in fiber_reset placed in r13 and r12.
extern "C" void standin_switch_stack(void** save_sp, void* load_sp);
extern "C" void standin_fiber_trampoline();
asm(R"(
    .pushsection .text
    .globl standin_switch_stack
    .type standin_switch_stack, @function
standin_switch_stack:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size standin_switch_stack, .-standin_switch_stack

    .globl standin_fiber_trampoline
    .type standin_fiber_trampoline, @function
standin_fiber_trampoline:
    movq %r12, %rdi
    call *%r13
    ud2
    .size standin_fiber_trampoline, .-standin_fiber_trampoline
    .popsection
)");

namespace standin {

namespace {
#if STANDIN_ASAN
// The OS thread's stack, learnt from the first switch into a fiber.
thread_local const void* main_stack_bottom = nullptr;
thread_local std::size_t main_stack_size = 0;
#endif
}  // namespace

namespace {
// A guard page splits a stack's mapping in two, and Linux allows a process about 65530 mappings
// (vm.max_map_count): a cooperative launch on a large simulated GPU (132 SMs keep some 33000
// threads resident) would run out. So the first kGuardedStacks stacks get a guard page and the
// rest a canary at their bottom, checked whenever the stack is reset or freed (an overflow is then
// caught after the fact, with the same message). Unguarded mappings merge with their neighbours.
constexpr long kGuardedStacks = 12000;
constexpr std::size_t kCanaryBytes = 64;
constexpr unsigned char kCanary = 0xA5;
std::atomic<long> guarded_stacks{0};

void check_canary(const Fiber& f) {
    for (std::size_t i = 0; i < kCanaryBytes; i++) {
        if (static_cast<unsigned char>(f.stack[i]) != kCanary) {
            std::fprintf(stderr, "jlstm CUDA stand-in: a fiber overflowed its %zu-byte stack (canary overwritten)\n",
                         f.stack_size);
            std::abort();
        }
    }
}
}  // namespace

void fiber_allocate(Fiber& f, std::size_t stack_bytes) {
    if (f.stack != nullptr && f.stack_size >= stack_bytes) {
        return;
    }
    fiber_release(f);
    std::size_t page = (std::size_t) sysconf(_SC_PAGESIZE);
    std::size_t usable = (stack_bytes + page - 1) / page * page;
    bool guarded = guarded_stacks.fetch_add(1) < kGuardedStacks;
    if (!guarded) {
        guarded_stacks.fetch_sub(1);
    }
    std::size_t extra = guarded ? page : 0;
    void* mapping = mmap(nullptr, usable + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                         -1, 0);
    if (mapping == MAP_FAILED) {
        std::fprintf(stderr, "jlstm CUDA stand-in: cannot map a %zu-byte fiber stack\n", usable);
        std::abort();
    }
    if (guarded) {
        mprotect(mapping, page, PROT_NONE);  // guard page: a stack overflow faults instead of corrupting
    }
    f.stack = static_cast<char*>(mapping) + extra;
    f.stack_size = usable;
    f.guarded = guarded;
    if (!guarded) {
        std::memset(f.stack, kCanary, kCanaryBytes);
    }
}

void fiber_reset(Fiber& f, void (*entry)(void*), void* argument) {
    if (!f.guarded && f.stack != nullptr) {
        check_canary(f);
    }
    f.entry = entry;
    f.argument = argument;
#if STANDIN_ASAN
    // Frames of the previous thread on this stack never returned: clear their redzones.
    __asan_unpoison_memory_region(f.stack, f.stack_size);
    f.asan_fake_stack = nullptr;
#endif
#if STANDIN_TSAN
    // One TSan fiber per stack, kept across resets: a stack is reused only by a later block, and
    // the executor orders blocks, so its threads need not be told apart from earlier ones.
    if (f.tsan_fiber == nullptr) {
        f.tsan_fiber = __tsan_create_fiber(0);
    }
#endif
    // Initial frame (low → high): r15, r14, r13 = entry, r12 = argument, rbx, rbp, return address.
    // The top stays 16-byte aligned after the return, so the trampoline's call is ABI-aligned.
    auto top = reinterpret_cast<std::uintptr_t>(f.stack + f.stack_size) & ~std::uintptr_t(15);
    auto* frame = reinterpret_cast<void**>(top) - 7;
    frame[0] = nullptr;
    frame[1] = nullptr;
    frame[2] = reinterpret_cast<void*>(entry);
    frame[3] = argument;
    frame[4] = nullptr;
    frame[5] = nullptr;
    frame[6] = reinterpret_cast<void*>(&standin_fiber_trampoline);
    f.saved_sp = frame;
}

void fiber_release(Fiber& f) {
#if STANDIN_TSAN
    if (f.tsan_fiber != nullptr && f.stack != nullptr) {
        __tsan_destroy_fiber(f.tsan_fiber);
        f.tsan_fiber = nullptr;
    }
#endif
    if (f.stack != nullptr) {
        std::size_t page = (std::size_t) sysconf(_SC_PAGESIZE);
        if (f.guarded) {
            munmap(f.stack - page, f.stack_size + page);
            guarded_stacks.fetch_sub(1);
        } else {
            check_canary(f);
            munmap(f.stack, f.stack_size);
        }
        f.stack = nullptr;
        f.stack_size = 0;
        f.guarded = false;
    }
}

void fiber_switch(Fiber& from, Fiber& to, bool from_is_finished) {
#if STANDIN_TSAN
    if (from.tsan_fiber == nullptr) {
        from.tsan_fiber = __tsan_get_current_fiber();
    }
    __tsan_switch_to_fiber(to.tsan_fiber, 1 /* __tsan_switch_to_fiber_no_sync */);
#endif
#if STANDIN_ASAN
    const void* bottom = to.stack_size != 0 ? static_cast<const void*>(to.stack) : main_stack_bottom;
    std::size_t size = to.stack_size != 0 ? to.stack_size : main_stack_size;
    __sanitizer_start_switch_fiber(from_is_finished ? nullptr : &from.asan_fake_stack, bottom, size);
#else
    (void) from_is_finished;
#endif
    standin_switch_stack(&from.saved_sp, to.saved_sp);
#if STANDIN_ASAN
    __sanitizer_finish_switch_fiber(from.asan_fake_stack, nullptr, nullptr);
#endif
}

void fiber_started(Fiber& self) {
#if STANDIN_ASAN
    const void* bottom_old = nullptr;
    std::size_t size_old = 0;
    __sanitizer_finish_switch_fiber(nullptr, &bottom_old, &size_old);
    if (main_stack_bottom == nullptr) {
        main_stack_bottom = bottom_old;
        main_stack_size = size_old;
    }
#endif
    (void) self;
}

void tsan_release(void* sync_object) {
#if STANDIN_TSAN
    __tsan_release(sync_object);
#else
    (void) sync_object;
#endif
}

void tsan_acquire(void* sync_object) {
#if STANDIN_TSAN
    __tsan_acquire(sync_object);
#else
    (void) sync_object;
#endif
}

void tsan_ignore_begin() {
#if STANDIN_TSAN
    __tsan_ignore_thread_begin();
#endif
}

void tsan_ignore_end() {
#if STANDIN_TSAN
    __tsan_ignore_thread_end();
#endif
}

}  // namespace standin
