// cooperative_groups.h — the part of CUDA's cooperative groups the jlstm kernels use, for the
// CPU stand-in (cuda/standin): grid-wide and block-wide synchronisation. Found before the real
// header because the stand-in compiles cuda/*.cu with -I cuda/standin/include.
//
// this_grid().sync() is a rendezvous of every thread of every block: the executor keeps all
// blocks of a cooperative launch (cuLaunchCooperativeKernel) resident as fibers, and aborts
// with file:line when a grid sync is used outside such a launch or some threads exited first.
#pragma once

namespace cooperative_groups {

class grid_group {
public:
    void sync(const char* file = __builtin_FILE(), int line = __builtin_LINE()) const {
        jlstm_standin_grid_sync(file, line);
    }
    unsigned long long size() const {
        return (unsigned long long) gridDim.x * gridDim.y * gridDim.z * blockDim.x * blockDim.y * blockDim.z;
    }
    unsigned long long thread_rank() const {
        unsigned long long block = blockIdx.x + (unsigned long long) gridDim.x * (blockIdx.y + (unsigned long long) gridDim.y * blockIdx.z);
        unsigned long long in_block = threadIdx.x + blockDim.x * (threadIdx.y + (unsigned long long) blockDim.y * threadIdx.z);
        return block * blockDim.x * blockDim.y * blockDim.z + in_block;
    }
    bool is_valid() const { return true; }
};

class thread_block {
public:
    void sync(const char* file = __builtin_FILE(), int line = __builtin_LINE()) const {
        jlstm_standin_syncthreads(file, line);
    }
    unsigned thread_rank() const { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }
    unsigned size() const { return blockDim.x * blockDim.y * blockDim.z; }
};

inline grid_group this_grid() { return grid_group(); }
inline thread_block this_thread_block() { return thread_block(); }

}  // namespace cooperative_groups
