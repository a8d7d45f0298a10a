// lstm_rows.cu — row moves and elementwise helpers of the packed schedule (variable lengths,
// projections, dropout: jlstm.internal.cuda.RecurrentPasses, mirroring jlstm.internal.cpu.CpuLstmEngine's Java path).
//
// Glossary: T = steps, B = batch, N = Σ lengths (packed rows), R = h's width (P under a
// projection, else H); row-major.
//
// Kernels (names in jlstm.internal.cuda.Kernel):
//   lstm_gather_rows   dst row r = src row index[r], or zeros where index[r] < 0
//                      (padded → packed rows, packed → padded with zeros past each length,
//                      states sorted by length and back)
//   lstm_multiply      out = a ⊙ b (dropout masks; out may alias a or b)
//   lstm_add           out = a + b (out may alias a or b)
// Launch: 1-D, one thread per element, block 256, grid lstm_ceil_div(elements, 256).
#include "lstm_cell_math.cuh"

extern "C" __global__ void lstm_gather_rows(int rows, int width,
                                            const float* __restrict__ src,  // row i at src + i·src_ld
                                            int src_ld,
                                            const int* __restrict__ index,  // [rows]: source row, or -1
                                            float* __restrict__ dst,        // row r at dst + r·dst_ld
                                            int dst_ld) {
    long long n = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= (long long) rows * width) {
        return;
    }
    int r = (int) (n / width);
    int c = (int) (n % width);
    int from = index[r];
    dst[(size_t) r * dst_ld + c] = from < 0 ? 0.f : src[(size_t) from * src_ld + c];
}

extern "C" __global__ void lstm_multiply(long long n, const float* a, const float* b, float* out) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = a[i] * b[i];
    }
}

extern "C" __global__ void lstm_add(long long n, const float* a, const float* b, float* out) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = a[i] + b[i];
    }
}
