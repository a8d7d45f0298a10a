// lstm_device.cuh — device-side helpers the kernels share beyond the cell math: dynamic shared
// memory and grid-wide synchronisation. Compiled by nvcc, and for the host by the CPU stand-in
// (cuda/standin), whose cuda_on_cpu.h provides the host side of what is used here.
//
// Glossary: T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions.
#pragma once

#include <cooperative_groups.h>

#include "lstm_cell_math.cuh"

#ifdef __CUDACC__
// The launch's dynamic shared memory (cuLaunchKernel's sharedMemBytes), 16-byte aligned.
__device__ __forceinline__ float* lstm_dynamic_shared() {
    extern __shared__ float4 lstm_shared_memory[];
    return reinterpret_cast<float*>(lstm_shared_memory);
}
#else
inline float* lstm_dynamic_shared() {
    return static_cast<float*>(jlstm_standin_dynamic_shared());
}
#endif
