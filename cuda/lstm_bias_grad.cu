// lstm_bias_grad.cu — deterministic bias gradients: column sums of dG over all T·B rows.
//
// Glossary: T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions;
// row-major, rightmost index fastest; gate order i, f, g, o (a gate row is 4H wide).
//
// Kernel (launched by jlstm.cuda.CudaLstmEngine, name in jlstm.cuda.Kernel):
//   lstm_bias_grad   db_ih[q] = db_hh[q] = Σ_r dG[r, q]  (both biases get the same gradient)
// Layout: d_gates [rows, cols] with rows = T·B, cols = 4H; db_ih, db_hh [cols].
// Launch: block (32, 8) = 256 threads; block x owns columns x·32 … x·32+31, grid lstm_ceil_div(cols, 32).
//         Thread (tx, ty) sums rows ty, ty+8, … of column x·32+tx in order; the 8 partial sums
//         are then added in a fixed order from shared memory. No atomics: every run adds the same
//         numbers in the same order, so two backward passes give identical bits.
#include "lstm_cell_math.cuh"

static constexpr int kColumnsPerBlock = 32;
static constexpr int kRowLanes = 8;

extern "C" __global__ void lstm_bias_grad(
        int rows, int cols,
        const float* __restrict__ d_gates,  // [rows, cols]
        float* __restrict__ db_ih,          // [cols] out
        float* __restrict__ db_hh) {        // [cols] out (a copy of db_ih)
    __shared__ float partial[kRowLanes][kColumnsPerBlock];  // one partial sum per (row lane, column)
    int column = blockIdx.x * kColumnsPerBlock + threadIdx.x;  // gate column this thread sums
    float sum = 0.f;
    if (column < cols) {
        for (int r = threadIdx.y; r < rows; r += kRowLanes) {
            sum += d_gates[(size_t) r * cols + column];
        }
    }
    partial[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();  // every partial sum is written before row lane 0 adds them
    if (threadIdx.y == 0 && column < cols) {
        float total = 0.f;
        for (int lane = 0; lane < kRowLanes; lane++) {
            total += partial[lane][threadIdx.x];
        }
        db_ih[column] = total;
        db_hh[column] = total;
    }
}
