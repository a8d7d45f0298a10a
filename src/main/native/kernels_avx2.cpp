// The kernels of kernels.inc for AVX2 (vector width 8), built with this ISA's -m flags
// (see build.sh); jlstm_cpu.cpp calls them only on a CPU that has the ISA.
#include <immintrin.h>
#include <sched.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "args.h"

namespace jlstm_avx2 {
#define VW 8
#include "kernels.inc"
#undef VW

void forward(const int64_t *args, int worker, int workers) { forward_layer(args, worker, workers); }
void backward(const int64_t *args, int worker, int workers) { backward_layer(args, worker, workers); }
}  // namespace jlstm_avx2
