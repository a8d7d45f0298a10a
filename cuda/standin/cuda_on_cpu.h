// cuda_on_cpu.h — what the CUDA C kernels of cuda/*.cu need to compile and run on the CPU.
//
// Force-included (g++ -include) when the stand-in (cuda/standin/build.sh) compiles the
// unmodified cuda/*.cu files as C++ for the host. Every CUDA thread of a block runs as a fiber
// (see executor.cpp) on one OS thread; the built-ins below are what a kernel sees:
//   threadIdx, blockIdx, blockDim, gridDim, warpSize     the current fiber's coordinates
//   __syncthreads()                                        block barrier (misuse aborts with file:line)
//   __shfl_sync / _up / _down / _xor, __syncwarp,
//   __ballot_sync, __any_sync, __all_sync                  warp exchanges: every lane named in the
//                                                          mask must arrive with the same mask
//   __shared__                                             a static variable in section jlstm_shared,
//                                                          filled with NaN bytes before each block
//   atomics, fast-math intrinsics, vector types            host equivalents (one OS thread runs a block,
//                                                          so plain read-modify-write is atomic)
// The call site (file:line) of every synchronising built-in is passed by __builtin_FILE() /
// __builtin_LINE() default arguments, so misuse reports point into the .cu file.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdio>

#ifdef __CUDACC__
#error "cuda_on_cpu.h is for host compilers only; nvcc has the real built-ins"
#endif

// ---------------------------------------------------------------- qualifiers
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __constant__ static
// __shared__ variables: static storage in their own section, so the executor can refill every
// one of them with NaN bytes before each block (shared memory starts as garbage on a GPU).
#define __shared__ __attribute__((section("jlstm_shared"))) static

// ---------------------------------------------------------------- vector types
struct uint3 { unsigned int x, y, z; };
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) int2 { int x, y; };
struct alignas(16) int4 { int x, y, z, w; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }

// ---------------------------------------------------------------- built-in variables
// Set by the executor before it switches to a fiber (threadIdx) or starts a block (the others).
extern "C" {
extern uint3 threadIdx;
extern uint3 blockIdx;
extern dim3 blockDim;
extern dim3 gridDim;
}
static constexpr int warpSize = 32;

// ---------------------------------------------------------------- synchronisation (executor.cpp)
extern "C" {
void jlstm_standin_syncthreads(const char* file, int line);
// kind: 0 idx, 1 up, 2 down, 3 xor, 4 syncwarp, 5 ballot; returns the exchanged 64-bit value
// (ballot: the vote mask of the lanes named in mask).
unsigned long long jlstm_standin_warp_op(int kind, unsigned mask, unsigned long long value, int operand,
                                         int width, const char* file, int line);
void jlstm_standin_grid_sync(const char* file, int line);
void* jlstm_standin_dynamic_shared(void);
}

inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    jlstm_standin_syncthreads(file, line);
}

inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(),
                       int line = __builtin_LINE()) {
    jlstm_standin_warp_op(4, mask, 0, 0, warpSize, file, line);
}

namespace jlstm_standin_detail {
template <class T>
inline unsigned long long to_bits(T v) {
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 64 bits");
    unsigned long long bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    return bits;
}
template <class T>
inline T from_bits(unsigned long long bits) {
    T v;
    std::memcpy(&v, &bits, sizeof(T));
    return v;
}
template <class T>
inline T shuffle(int kind, unsigned mask, T var, int operand, int width, const char* file, int line) {
    return from_bits<T>(jlstm_standin_warp_op(kind, mask, to_bits(var), operand, width, file, line));
}
}  // namespace jlstm_standin_detail

template <class T>
inline T __shfl_sync(unsigned mask, T var, int srcLane, int width = warpSize, const char* file = __builtin_FILE(),
                     int line = __builtin_LINE()) {
    return jlstm_standin_detail::shuffle(0, mask, var, srcLane, width, file, line);
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                        const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return jlstm_standin_detail::shuffle(1, mask, var, (int) delta, width, file, line);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                          const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return jlstm_standin_detail::shuffle(2, mask, var, (int) delta, width, file, line);
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize,
                         const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return jlstm_standin_detail::shuffle(3, mask, var, laneMask, width, file, line);
}
inline unsigned __ballot_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
    return (unsigned) jlstm_standin_warp_op(5, mask, predicate != 0, 0, warpSize, file, line);
}
inline int __any_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return __ballot_sync(mask, predicate, file, line) != 0;
}
inline int __all_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return __ballot_sync(mask, predicate, file, line) == mask;
}

// ---------------------------------------------------------------- atomics
// One OS thread runs the fibers of a launch and switches only at the synchronising built-ins
// above, so a plain read-modify-write is indivisible here.
template <class T>
inline T atomicAdd(T* address, T value) { T old = *address; *address = old + value; return old; }
template <class T>
inline T atomicSub(T* address, T value) { T old = *address; *address = old - value; return old; }
template <class T>
inline T atomicExch(T* address, T value) { T old = *address; *address = value; return old; }
template <class T>
inline T atomicMax(T* address, T value) { T old = *address; *address = old > value ? old : value; return old; }
template <class T>
inline T atomicMin(T* address, T value) { T old = *address; *address = old < value ? old : value; return old; }
template <class T>
inline T atomicCAS(T* address, T compare, T value) {
    T old = *address;
    if (old == compare) {
        *address = value;
    }
    return old;
}
inline void __threadfence() {}
inline void __threadfence_block() {}

// ---------------------------------------------------------------- math and intrinsics
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : x > 1.f ? 1.f : x; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline int __float_as_int(float x) { int i; std::memcpy(&i, &x, 4); return i; }
inline float __int_as_float(int i) { float x; std::memcpy(&x, &i, 4); return x; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
template <class T>
inline T __ldg(const T* p) { return *p; }
template <class T>
inline T __ldcg(const T* p) { return *p; }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned umin(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned umax(unsigned a, unsigned b) { return a > b ? a : b; }
