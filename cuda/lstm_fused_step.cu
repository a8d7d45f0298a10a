// lstm_fused_step.cu — one whole forward step in one launch: the recurrent product for a slice
// of hidden units (all four gates of each unit) and the cell update, so no gate pre-activation
// makes a round trip through global memory. Launched once per step by jlstm.internal.cuda.FusedSchedule.
//
// Glossary: T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions;
// row-major, rightmost index fastest; gate order i, f, g, o (a gate row is 4H wide).
//
// Kernels (names in jlstm.internal.cuda.Kernel):
//   lstm_fused_step_inference   h_t, c_t from Xp_t, h_{t-1}, c_{t-1}, W_hh, biases
//   lstm_fused_step_training    the same, and saves the activated gates
// Layout: xp, gates [B, 4H]; w_hh [4H, H] (PyTorch layout: row q·H + j is gate q of unit j);
//         h_prev row b at h_prev + b·h_prev_ld; c_prev, c_out [B, H]; h_out row b at h_out + b·h_ld.
// Launch: block = kWarpsPerBlock warps (128 threads), 1-D grid of lstm_ceil_div(H, kWarpsPerBlock / split)
//         blocks. split ∈ {1, 2, 4} warps share one hidden unit, each summing one contiguous part of
//         the k range (split > 1 fills the GPU when H is small: H / 4 blocks would leave SMs idle).
//         Warp w of block x: unit j = x·(kWarpsPerBlock / split) + w / split, k part w % split.
//         Batch rows go kRows at a time: per k a lane loads the four gate weights once and uses them
//         for every row of the group, so W_hh is read ⌈B / kRows⌉ times per step (not B times).
//         Each lane sums k = part start + lane, + 32, …; a fixed butterfly reduces the lanes and the
//         split parts are added in warp order from shared memory: results are deterministic.
//         h_out must not alias h_prev (other blocks still read h_prev).
// Precision (an LstmPrecision, lstm_cell_math.cuh): the product's operands, h_{t-1} and W_hh, are
//         rounded to TF32 or BF16 before each multiply, as the tensor cores would take them; the
//         sums stay float32 (one template instance per mode, so fp32 carries no rounding).
#include "lstm_cell_math.cuh"

static constexpr int kWarpSize = 32;
static constexpr int kWarpsPerBlock = 4;
static constexpr int kRows = 4;  // batch rows per pass over the k range

template <bool kTraining, int kPrecision>
__device__ __forceinline__ void fused_step(
        int batch, int hidden, int split,
        const float* xp,                    // [B, 4H] input projection (no bias); may alias gates_out
        const float* __restrict__ h_prev,   // row b at h_prev + b·h_prev_ld, H values: h_{t-1}
        int h_prev_ld,
        const float* __restrict__ w_hh,     // [4H, H]
        const float* __restrict__ bias_ih,  // [4H] or null
        const float* __restrict__ bias_hh,  // [4H] or null
        const float* c_prev,                // [B, H]; may alias c_out (the thread that reads writes)
        float* c_out,                       // [B, H]
        float* __restrict__ h_out,          // row b at h_out + b·h_ld
        int h_ld,
        float* gates_out) {                 // [B, 4H] activated gates (training only); the finishing
                                            // lane reads xp[q] before writing gates_out[q]
    __shared__ float partial[kWarpsPerBlock][kRows][4];  // split > 1: each warp's sums for one row group
    int lane = threadIdx.x % kWarpSize;
    int warp = threadIdx.x / kWarpSize;
    int part = warp % split;                                        // which part of the k range
    int j = blockIdx.x * (kWarpsPerBlock / split) + warp / split;   // hidden unit of this warp
    bool active = j < hidden;   // whole warps are idle together, so the shuffles stay full-warp
    int part_size = lstm_ceil_div(hidden, split);
    int k_begin = part * part_size;
    int k_end = min(hidden, k_begin + part_size);
    const float* w_i = w_hh + (size_t) (active ? j : 0) * hidden;   // row of gate i, unit j
    const float* w_f = w_i + (size_t) hidden * hidden;
    const float* w_g = w_f + (size_t) hidden * hidden;
    const float* w_o = w_g + (size_t) hidden * hidden;

    for (int b0 = 0; b0 < batch; b0 += kRows) {   // same trip count in every warp: barriers match
        float sum[kRows][4];
        #pragma unroll
        for (int r = 0; r < kRows; r++) {
            sum[r][0] = sum[r][1] = sum[r][2] = sum[r][3] = 0.f;
        }
        if (active) {
            for (int k = k_begin + lane; k < k_end; k += kWarpSize) {
                float wi = lstm_operand<kPrecision>(w_i[k]), wf = lstm_operand<kPrecision>(w_f[k]);
                float wg = lstm_operand<kPrecision>(w_g[k]), wo = lstm_operand<kPrecision>(w_o[k]);
                #pragma unroll
                for (int r = 0; r < kRows; r++) {
                    if (b0 + r < batch) {
                        float hk = lstm_operand<kPrecision>(h_prev[(size_t) (b0 + r) * h_prev_ld + k]);
                        sum[r][0] += hk * wi;
                        sum[r][1] += hk * wf;
                        sum[r][2] += hk * wg;
                        sum[r][3] += hk * wo;
                    }
                }
            }
        }
        #pragma unroll
        for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {  // butterfly: every lane gets every sum
            #pragma unroll
            for (int r = 0; r < kRows; r++) {
                #pragma unroll
                for (int q = 0; q < 4; q++) {
                    sum[r][q] += __shfl_xor_sync(0xffffffffu, sum[r][q], offset);
                }
            }
        }
        if (split > 1) {
            if (lane < kRows) {
                #pragma unroll
                for (int q = 0; q < 4; q++) {
                    partial[warp][lane][q] = sum[lane][q];
                }
            }
            __syncthreads();  // every part's sums are in shared memory
            if (part == 0 && lane < kRows) {
                #pragma unroll
                for (int q = 0; q < 4; q++) {
                    float total = 0.f;
                    for (int p = 0; p < split; p++) {  // fixed order: deterministic
                        total += partial[warp + p][lane][q];
                    }
                    sum[lane][q] = total;
                }
            }
            __syncthreads();  // partial[] is free for the next row group
        }
        // Lane r finishes row b0 + r.
        int b = b0 + lane;
        if (!active || part != 0 || lane >= kRows || b >= batch) {
            continue;
        }
        size_t row = (size_t) b * 4 * hidden;
        size_t gi = row + j, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
        float pre_i = xp[gi], pre_f = xp[gf], pre_g = xp[gg], pre_o = xp[go];
        #pragma unroll
        for (int r = 0; r < kRows; r++) {   // pick this lane's row without dynamic register indexing
            if (r == lane) {
                pre_i += sum[r][0];
                pre_f += sum[r][1];
                pre_g += sum[r][2];
                pre_o += sum[r][3];
            }
        }
        lstm_add_biases(&pre_i, &pre_f, &pre_g, &pre_o, bias_ih, bias_hh, hidden, j);
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

// The kernel for a runtime precision (an LstmPrecision): one template instance per mode.
template <bool kTraining>
__device__ __forceinline__ void fused_step_in(
        int precision, int batch, int hidden, int split, const float* xp, const float* h_prev, int h_prev_ld,
        const float* w_hh, const float* bias_ih, const float* bias_hh, const float* c_prev, float* c_out,
        float* h_out, int h_ld, float* gates_out) {
    if (precision == kPrecisionTf32) {
        fused_step<kTraining, kPrecisionTf32>(batch, hidden, split, xp, h_prev, h_prev_ld, w_hh, bias_ih, bias_hh,
                                              c_prev, c_out, h_out, h_ld, gates_out);
    } else if (precision == kPrecisionBf16) {
        fused_step<kTraining, kPrecisionBf16>(batch, hidden, split, xp, h_prev, h_prev_ld, w_hh, bias_ih, bias_hh,
                                              c_prev, c_out, h_out, h_ld, gates_out);
    } else {
        fused_step<kTraining, kPrecisionFp32>(batch, hidden, split, xp, h_prev, h_prev_ld, w_hh, bias_ih, bias_hh,
                                              c_prev, c_out, h_out, h_ld, gates_out);
    }
}

extern "C" __global__ void lstm_fused_step_inference(
        int batch, int hidden, int split, int precision, const float* xp, const float* h_prev, int h_prev_ld,
        const float* w_hh, const float* bias_ih, const float* bias_hh, const float* c_prev, float* c_out,
        float* h_out, int h_ld) {
    fused_step_in<false>(precision, batch, hidden, split, xp, h_prev, h_prev_ld, w_hh, bias_ih, bias_hh, c_prev,
                         c_out, h_out, h_ld, nullptr);
}

extern "C" __global__ void lstm_fused_step_training(
        int batch, int hidden, int split, int precision, const float* xp, const float* h_prev, int h_prev_ld,
        const float* w_hh, const float* bias_ih, const float* bias_hh, const float* c_prev, float* c_out,
        float* h_out, int h_ld, float* gates_out) {
    fused_step_in<true>(precision, batch, hidden, split, xp, h_prev, h_prev_ld, w_hh, bias_ih, bias_hh, c_prev,
                        c_out, h_out, h_ld, gates_out);
}
