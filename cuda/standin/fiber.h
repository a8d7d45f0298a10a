// fiber.h — cooperative user-space threads for the executor: a fiber has its own stack and runs
// until it switches to another fiber. x86-64 only: a switch saves the six callee-saved registers
// on the old stack and restores them from the new one (a few instructions; ucontext's
// swapcontext also saves the signal mask with a system call and is several times slower).
//
// Sanitizers: under AddressSanitizer every switch is announced with __sanitizer_start/
// finish_switch_fiber; under ThreadSanitizer every fiber is a TSan fiber and switches carry no
// synchronisation (__tsan_switch_to_fiber_no_sync), so two CUDA threads are ordered only by the
// barriers and warp exchanges the executor annotates — a missing __syncthreads shows as a race.
#pragma once

#include <cstddef>

namespace standin {

struct Fiber {
    void* saved_sp = nullptr;          // stack pointer while switched out
    char* stack = nullptr;             // lowest usable address (a guard page, or a canary, lies there)
    bool guarded = false;              // a PROT_NONE page below the stack (else a canary at its bottom)
    std::size_t stack_size = 0;        // usable bytes; 0 for the OS thread's own stack
    void (*entry)(void*) = nullptr;    // what a fresh fiber runs; it must never return
    void* argument = nullptr;
    void* asan_fake_stack = nullptr;   // AddressSanitizer's per-fiber bookkeeping
    void* tsan_fiber = nullptr;        // ThreadSanitizer's fiber (null for the OS thread: set on use)
};

/** Gives {@code f} a stack of at least {@code stack_bytes} (kept across resets). */
void fiber_allocate(Fiber& f, std::size_t stack_bytes);

/** Makes {@code f} start {@code entry(argument)} from the top of its stack at the next switch to it. */
void fiber_reset(Fiber& f, void (*entry)(void*), void* argument);

/** Frees the stack and sanitizer state of a fiber that is not running. */
void fiber_release(Fiber& f);

/**
 * Saves the current context into {@code from} and continues {@code to}. Returns when some fiber
 * switches back to {@code from}. {@code from_is_finished}: {@code from} will never run again
 * (lets the sanitizers drop its state).
 */
void fiber_switch(Fiber& from, Fiber& to, bool from_is_finished = false);

/** Call first thing in a fiber's entry function (sanitizer bookkeeping of the first switch). */
void fiber_started(Fiber& self);

/** ThreadSanitizer happens-before annotations (no-ops in other builds). */
void tsan_release(void* sync_object);
void tsan_acquire(void* sync_object);
void tsan_ignore_begin();
void tsan_ignore_end();

}  // namespace standin
