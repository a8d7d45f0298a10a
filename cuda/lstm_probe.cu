// lstm_probe.cu — the tiny kernel the backend probe runs to prove the module executes here.
//
// Glossary: T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions.
//
// Kernel (launched by jlstm.internal.cuda.CudaProbe, name in jlstm.internal.cuda.Kernel):
//   lstm_probe_fill   out[n] = scale·n + offset for n < count
// Launch: 1-D, block 128, grid lstm_ceil_div(count, 128); indices bounded.
#include "lstm_cell_math.cuh"

extern "C" __global__ void lstm_probe_fill(int count, float scale, float offset, float* out) {
    int n = blockIdx.x * blockDim.x + threadIdx.x;  // element index
    if (n < count) {
        out[n] = scale * (float) n + offset;
    }
}
