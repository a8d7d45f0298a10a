// lstm_fused_step.cu — one whole forward step in one launch: the recurrent product for a slice
// of hidden units (all four gates of each unit) and the cell update, so no gate pre-activation
// makes a round trip through global memory. Wins over cuBLAS + pointwise where launch cost and
// tiny GEMMs dominate (small B); jlstm.cuda.CudaLstmEngine picks the schedule per shape.
//
// Glossary: T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions;
// row-major, rightmost index fastest; gate order i, f, g, o (a gate row is 4H wide).
//
// Kernels (launched by jlstm.cuda.CudaLstmEngine, names in jlstm.cuda.Kernel):
//   lstm_fused_step_inference   h_t, c_t from Xp_t, h_{t-1}, c_{t-1}, W_hh, biases
//   lstm_fused_step_training    the same, and saves the activated gates
// Layout: xp, gates [B, 4H]; w_hh [4H, H] (PyTorch layout: row q·H + j is gate q of unit j);
//         h_prev row b at h_prev + b·h_prev_ld; c_prev, c_out [B, H]; h_out row b at h_out + b·h_ld.
// Launch: block = kWarpsPerBlock warps (128 threads); warp w of block x handles hidden unit
//         j = x·kWarpsPerBlock + w; grid = (lstm_ceil_div(H, kWarpsPerBlock), min(B, 65535)),
//         batch rows strided by gridDim.y. Each lane sums k = lane, lane+32, … (coalesced W_hh and
//         h_prev reads), then a fixed shuffle tree reduces the four sums, so results are
//         deterministic. h_out must not alias h_prev (other warps still read h_prev).
#include "lstm_cell_math.cuh"

static constexpr int kWarpSize = 32;
static constexpr int kWarpsPerBlock = 4;

template <bool kTraining>
__device__ __forceinline__ void fused_step(
        int batch, int hidden,
        const float* xp,                    // [B, 4H] input projection (no bias); may alias gates_out
        const float* __restrict__ h_prev,   // row b at h_prev + b·h_prev_ld, H values: h_{t-1}
        int h_prev_ld,
        const float* __restrict__ w_hh,     // [4H, H]
        const float* __restrict__ bias_ih,  // [4H] or null
        const float* __restrict__ bias_hh,  // [4H] or null
        const float* c_prev,                // [B, H]; may alias c_out (same thread reads then writes)
        float* c_out,                       // [B, H]
        float* __restrict__ h_out,          // row b at h_out + b·h_ld
        int h_ld,
        float* gates_out) {                 // [B, 4H] activated gates (training only); lane 0 reads
                                            // xp[q] before writing gates_out[q], so aliasing is safe
    int lane = threadIdx.x % kWarpSize;                               // lane within the warp
    int j = blockIdx.x * kWarpsPerBlock + threadIdx.x / kWarpSize;    // hidden unit of this warp
    if (j >= hidden) {
        return;  // whole warp leaves together, so the shuffles below stay full-warp
    }
    const float* w_i = w_hh + (size_t) j * hidden;                    // row of gate i, unit j
    const float* w_f = w_i + (size_t) hidden * hidden;
    const float* w_g = w_f + (size_t) hidden * hidden;
    const float* w_o = w_g + (size_t) hidden * hidden;
    for (int b = blockIdx.y; b < batch; b += gridDim.y) {             // batch row
        const float* h = h_prev + (size_t) b * h_prev_ld;
        float sum_i = 0.f, sum_f = 0.f, sum_g = 0.f, sum_o = 0.f;
        for (int k = lane; k < hidden; k += kWarpSize) {
            float hk = h[k];
            sum_i += hk * w_i[k];
            sum_f += hk * w_f[k];
            sum_g += hk * w_g[k];
            sum_o += hk * w_o[k];
        }
        for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {  // butterfly: fixed order
            sum_i += __shfl_xor_sync(0xffffffffu, sum_i, offset);
            sum_f += __shfl_xor_sync(0xffffffffu, sum_f, offset);
            sum_g += __shfl_xor_sync(0xffffffffu, sum_g, offset);
            sum_o += __shfl_xor_sync(0xffffffffu, sum_o, offset);
        }
        if (lane != 0) {
            continue;
        }
        size_t row = (size_t) b * 4 * hidden;
        size_t gi = row + j, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
        float pre_i = xp[gi] + sum_i;
        float pre_f = xp[gf] + sum_f;
        float pre_g = xp[gg] + sum_g;
        float pre_o = xp[go] + sum_o;
        if (bias_ih != nullptr) {
            pre_i += bias_ih[j] + bias_hh[j];
            pre_f += bias_ih[hidden + j] + bias_hh[hidden + j];
            pre_g += bias_ih[2 * hidden + j] + bias_hh[2 * hidden + j];
            pre_o += bias_ih[3 * hidden + j] + bias_hh[3 * hidden + j];
        }
        LstmGates a = lstm_activate(pre_i, pre_f, pre_g, pre_o);
        size_t state = (size_t) b * hidden + j;
        float c = lstm_cell_update(a, c_prev[state]);
        c_out[state] = c;
        h_out[(size_t) b * h_ld + j] = lstm_hidden(a, c);
        if (kTraining) {
            gates_out[gi] = a.i;
            gates_out[gf] = a.f;
            gates_out[gg] = a.g;
            gates_out[go] = a.o;
        }
    }
}

extern "C" __global__ void lstm_fused_step_inference(
        int batch, int hidden, const float* xp, const float* h_prev, int h_prev_ld, const float* w_hh,
        const float* bias_ih, const float* bias_hh, const float* c_prev, float* c_out, float* h_out,
        int h_ld) {
    fused_step<false>(batch, hidden, xp, h_prev, h_prev_ld, w_hh, bias_ih, bias_hh, c_prev, c_out, h_out,
                      h_ld, nullptr);
}

extern "C" __global__ void lstm_fused_step_training(
        int batch, int hidden, const float* xp, const float* h_prev, int h_prev_ld, const float* w_hh,
        const float* bias_ih, const float* bias_hh, const float* c_prev, float* c_out, float* h_out,
        int h_ld, float* gates_out) {
    fused_step<true>(batch, hidden, xp, h_prev, h_prev_ld, w_hh, bias_ih, bias_hh, c_prev, c_out, h_out,
                     h_ld, gates_out);
}
