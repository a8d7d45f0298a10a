// lstm_persistent.cu — persistent recurrent kernels: one cooperative launch runs every step of one
// layer and direction, each block keeping its slice of W_hh in shared memory for all T steps, with
// one grid-wide barrier per step (Diamos et al. 2016, "Persistent RNNs"). Launched by
// jlstm.internal.cuda.RecurrentPasses with cuLaunchCooperativeKernel, only where every block fits on the
// device at once (the engine checks occupancy and otherwise falls back, saying why). These are the
// persistent schedule's fallback: each pass runs the tiled kernel of lstm_persistent_tiled.cu
// (forward, or backward) where its plan (jlstm.internal.cuda.PersistentPlan.Tiled) fits, and the
// kernel here otherwise.
//
// Glossary: T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions;
// row-major, rightmost index fastest; gate order i, f, g, o (a gate row is 4H wide).
//
// Kernels (names in jlstm.internal.cuda.Kernel):
//   lstm_persistent_forward_inference   all T steps of h_t, c_t from Xp (input projection, no bias)
//   lstm_persistent_forward_training    the same, saving activated gates (over Xp) and c_t per step
//   lstm_persistent_backward            all T steps of dG_t and dh = dG_t · W_hh, dc carried
// Launch (all three): block = U warps (U = blockDim.x / 32), warp u of block x owns hidden unit
//   j = x·U + u for every batch row; grid = ⌈H / U⌉ blocks, all resident (cooperative).
//   Dynamic shared memory: forward 4·U·H + U·B floats (W_hh rows of the block's units, then c);
//   backward 4·U·H + 2·U·B floats (W_hh columns, then dh and dc).
//   Products: each lane sums k = lane, lane + 32, … for kRows batch rows at a time (the weights it
//   loads serve every row of the group), then a fixed butterfly: results are deterministic.
// direction 0 walks t = 0 … T-1, direction 1 walks t = T-1 … 0.
// precision (an LstmPrecision, lstm_cell_math.cuh), after direction in every kernel: the
//   products' operands (W_hh, once as it is staged in shared memory; h_{t-1} or dG_t per load) are
//   rounded to TF32 or BF16 as tensor cores would take them; sums, c and dc stay float32.
#include "lstm_device.cuh"

static constexpr int kPersistentWarp = 32;
static constexpr int kPersistentRows = 4;  // batch rows per pass over the reduction

namespace cg = cooperative_groups;

template <bool kTraining, int kPrecision>
__device__ __forceinline__ void persistent_forward(
        int steps, int batch, int hidden, int direction,
        const float* xp,                    // [T, B, 4H] input projection; training: gates written over it
        const float* __restrict__ w_hh,     // [4H, H]
        const float* __restrict__ bias_ih,  // [4H] or null
        const float* __restrict__ bias_hh,  // [4H] or null
        const float* __restrict__ h0,       // [B, H] h before the first step processed
        const float* __restrict__ c0,       // [B, H]
        float* out,                         // h_t of row b at out + (t·B + b)·out_ld (other blocks read it)
        int out_ld,
        float* __restrict__ cells,          // training: [T, B, H] c_t; inference: null
        float* __restrict__ c_last,         // [B, H] c after the last step processed
        float* gates_out) {                 // training: [T, B, 4H] = xp (the finishing lane reads, then writes)
    cg::grid_group grid = cg::this_grid();
    int units = blockDim.x / kPersistentWarp;          // U
    int lane = threadIdx.x % kPersistentWarp;
    int u = threadIdx.x / kPersistentWarp;
    int j = blockIdx.x * units + u;                    // this warp's hidden unit
    bool active = j < hidden;
    float* w_s = lstm_dynamic_shared();                // [U][4][H]: W_hh rows q·H + j of each unit
    float* c_s = w_s + (size_t) 4 * units * hidden;    // [U][B]: c of each unit and row
    float* w_u = w_s + (size_t) 4 * u * hidden;
    float* c_u = c_s + (size_t) u * batch;
    if (active) {
        #pragma unroll
        for (int q = 0; q < 4; q++) {
            for (int k = lane; k < hidden; k += kPersistentWarp) {
                // held rounded to the mode's format: rounded once, not per step
                w_u[q * hidden + k] = lstm_operand<kPrecision>(w_hh[((size_t) q * hidden + j) * hidden + k]);
            }
        }
        for (int b = lane; b < batch; b += kPersistentWarp) {
            c_u[b] = c0[(size_t) b * hidden + j];
        }
    }
    __syncwarp();  // each warp reads back only what its own lanes wrote

    for (int s = 0; s < steps; s++) {
        int t = direction == 0 ? s : steps - 1 - s;
        int prev = direction == 0 ? t - 1 : t + 1;
        const float* h_prev = s == 0 ? h0 : out + (size_t) prev * batch * out_ld;
        int h_prev_ld = s == 0 ? hidden : out_ld;
        for (int b0 = 0; b0 < batch && active; b0 += kPersistentRows) {
            float sum[kPersistentRows][4];
            #pragma unroll
            for (int r = 0; r < kPersistentRows; r++) {
                sum[r][0] = sum[r][1] = sum[r][2] = sum[r][3] = 0.f;
            }
            for (int k = lane; k < hidden; k += kPersistentWarp) {
                float wi = w_u[k], wf = w_u[hidden + k], wg = w_u[2 * hidden + k], wo = w_u[3 * hidden + k];
                #pragma unroll
                for (int r = 0; r < kPersistentRows; r++) {
                    if (b0 + r < batch) {
                        // written by other blocks in the previous step: read through L2, not L1
                        float hk = lstm_operand<kPrecision>(__ldcg(h_prev + (size_t) (b0 + r) * h_prev_ld + k));
                        sum[r][0] += hk * wi;
                        sum[r][1] += hk * wf;
                        sum[r][2] += hk * wg;
                        sum[r][3] += hk * wo;
                    }
                }
            }
            #pragma unroll
            for (int offset = kPersistentWarp / 2; offset > 0; offset /= 2) {
                #pragma unroll
                for (int r = 0; r < kPersistentRows; r++) {
                    #pragma unroll
                    for (int q = 0; q < 4; q++) {
                        sum[r][q] += __shfl_xor_sync(0xffffffffu, sum[r][q], offset);
                    }
                }
            }
            int b = b0 + lane;   // lane r finishes row b0 + r
            if (lane >= kPersistentRows || b >= batch) {
                continue;
            }
            size_t row = ((size_t) t * batch + b) * 4 * hidden;
            size_t gi = row + j, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
            float pre_i = xp[gi], pre_f = xp[gf], pre_g = xp[gg], pre_o = xp[go];
            #pragma unroll
            for (int r = 0; r < kPersistentRows; r++) {
                if (r == lane) {
                    pre_i += sum[r][0];
                    pre_f += sum[r][1];
                    pre_g += sum[r][2];
                    pre_o += sum[r][3];
                }
            }
            lstm_add_biases(&pre_i, &pre_f, &pre_g, &pre_o, bias_ih, bias_hh, hidden, j);
            LstmGates a = lstm_activate(pre_i, pre_f, pre_g, pre_o);
            float c = lstm_cell_update(a, c_u[b]);
            c_u[b] = c;
            out[((size_t) t * batch + b) * out_ld + j] = lstm_hidden(a, c);
            if (kTraining) {
                cells[((size_t) t * batch + b) * hidden + j] = c;
                gates_out[gi] = a.i;
                gates_out[gf] = a.f;
                gates_out[gg] = a.g;
                gates_out[go] = a.o;
            }
        }
        grid.sync();  // every h_t is written before any block reads it as h_{t-1}
    }
    __syncwarp();
    if (active) {
        for (int b = lane; b < batch; b += kPersistentWarp) {
            c_last[(size_t) b * hidden + j] = c_u[b];
        }
    }
}

// The forward kernel for a runtime precision (an LstmPrecision): one template instance per mode.
template <bool kTraining>
__device__ __forceinline__ void persistent_forward_in(
        int precision, int steps, int batch, int hidden, int direction, const float* xp, const float* w_hh,
        const float* bias_ih, const float* bias_hh, const float* h0, const float* c0, float* out, int out_ld,
        float* cells, float* c_last, float* gates_out) {
    if (precision == kPrecisionTf32) {
        persistent_forward<kTraining, kPrecisionTf32>(steps, batch, hidden, direction, xp, w_hh, bias_ih, bias_hh, h0,
                                                      c0, out, out_ld, cells, c_last, gates_out);
    } else if (precision == kPrecisionBf16) {
        persistent_forward<kTraining, kPrecisionBf16>(steps, batch, hidden, direction, xp, w_hh, bias_ih, bias_hh, h0,
                                                      c0, out, out_ld, cells, c_last, gates_out);
    } else {
        persistent_forward<kTraining, kPrecisionFp32>(steps, batch, hidden, direction, xp, w_hh, bias_ih, bias_hh, h0,
                                                      c0, out, out_ld, cells, c_last, gates_out);
    }
}

extern "C" __global__ void lstm_persistent_forward_inference(
        int steps, int batch, int hidden, int direction, int precision, const float* xp, const float* w_hh,
        const float* bias_ih, const float* bias_hh, const float* h0, const float* c0, float* out, int out_ld,
        float* c_last) {
    persistent_forward_in<false>(precision, steps, batch, hidden, direction, xp, w_hh, bias_ih, bias_hh, h0, c0, out,
                                 out_ld, nullptr, c_last, nullptr);
}

extern "C" __global__ void lstm_persistent_forward_training(
        int steps, int batch, int hidden, int direction, int precision, float* xp, const float* w_hh,
        const float* bias_ih, const float* bias_hh, const float* h0, const float* c0, float* out, int out_ld,
        float* cells, float* c_last) {
    persistent_forward_in<true>(precision, steps, batch, hidden, direction, xp, w_hh, bias_ih, bias_hh, h0, c0, out,
                                out_ld, cells, c_last, xp);
}

template <int kPrecision>
__device__ __forceinline__ void persistent_backward(
        int steps, int batch, int hidden, int direction,
        const float* __restrict__ gates,   // [T, B, 4H] activated gates of the forward pass
        const float* __restrict__ cells,   // [T, B, H] c_t
        const float* __restrict__ c0,      // [B, H] c before the first step processed
        const float* __restrict__ dy,      // dL/dh_t of row b at dy + (t·B + b)·dy_ld (H values)
        int dy_ld,
        const float* __restrict__ w_hh,    // [4H, H]
        const float* __restrict__ dhn,     // [B, H] gradient of the last h, or null (zeros)
        const float* __restrict__ dcn,     // [B, H] gradient of the last c, or null (zeros)
        float* d_gates,                    // [T, B, 4H] out: dG_t (other blocks read it)
        float* __restrict__ dh0,           // [B, H] out
        float* __restrict__ dc0) {         // [B, H] out
    cg::grid_group grid = cg::this_grid();
    int units = blockDim.x / kPersistentWarp;
    int lane = threadIdx.x % kPersistentWarp;
    int u = threadIdx.x / kPersistentWarp;
    int j = blockIdx.x * units + u;
    bool active = j < hidden;
    int gates4 = 4 * hidden;
    float* w_s = lstm_dynamic_shared();                  // [U][4H]: column j of W_hh for each unit
    float* dh_s = w_s + (size_t) units * gates4;         // [U][B]: dh carried into the next step
    float* dc_s = dh_s + (size_t) units * batch;         // [U][B]: dc carried into the next step
    float* w_u = w_s + (size_t) u * gates4;
    float* dh_u = dh_s + (size_t) u * batch;
    float* dc_u = dc_s + (size_t) u * batch;
    if (active) {
        for (int r = lane; r < gates4; r += kPersistentWarp) {
            w_u[r] = lstm_operand<kPrecision>(w_hh[(size_t) r * hidden + j]);   // rounded once
        }
        for (int b = lane; b < batch; b += kPersistentWarp) {
            dh_u[b] = dhn != nullptr ? dhn[(size_t) b * hidden + j] : 0.f;
            dc_u[b] = dcn != nullptr ? dcn[(size_t) b * hidden + j] : 0.f;
        }
    }
    __syncwarp();

    for (int s = 0; s < steps; s++) {
        int t = direction == 0 ? steps - 1 - s : s;
        int prev = direction == 0 ? t - 1 : t + 1;
        const float* c_prev = s == steps - 1 ? c0 : cells + (size_t) prev * batch * hidden;
        // (a) the gate gradients of this warp's unit, one batch row per lane
        if (active) {
            for (int b = lane; b < batch; b += kPersistentWarp) {
                size_t row = ((size_t) t * batch + b) * gates4;
                LstmGates a;
                a.i = gates[row + j];
                a.f = gates[row + hidden + j];
                a.g = gates[row + 2 * hidden + j];
                a.o = gates[row + 3 * hidden + j];
                size_t state = ((size_t) t * batch + b) * hidden + j;
                float dh = dy[((size_t) t * batch + b) * dy_ld + j] + dh_u[b];
                LstmGateGrads g = lstm_gate_grads(a, cells[state], c_prev[(size_t) b * hidden + j], dh, dc_u[b]);
                d_gates[row + j] = g.di;
                d_gates[row + hidden + j] = g.df;
                d_gates[row + 2 * hidden + j] = g.dg;
                d_gates[row + 3 * hidden + j] = g.dout;
                dc_u[b] = g.dc_prev;
            }
        }
        grid.sync();  // every dG_t is written before any block forms dh = dG_t · W_hh
        // (b) dh for step t-1 of this warp's unit: Σ_r dG_t[b, r] · W_hh[r, j]
        for (int b0 = 0; b0 < batch && active; b0 += kPersistentRows) {
            float sum[kPersistentRows];
            #pragma unroll
            for (int r = 0; r < kPersistentRows; r++) {
                sum[r] = 0.f;
            }
            for (int k = lane; k < gates4; k += kPersistentWarp) {
                float w = w_u[k];
                #pragma unroll
                for (int r = 0; r < kPersistentRows; r++) {
                    if (b0 + r < batch) {
                        sum[r] += lstm_operand<kPrecision>(__ldcg(d_gates + ((size_t) t * batch + b0 + r) * gates4 + k))
                                  * w;
                    }
                }
            }
            #pragma unroll
            for (int offset = kPersistentWarp / 2; offset > 0; offset /= 2) {
                #pragma unroll
                for (int r = 0; r < kPersistentRows; r++) {
                    sum[r] += __shfl_xor_sync(0xffffffffu, sum[r], offset);
                }
            }
            if (lane == 0) {
                #pragma unroll
                for (int r = 0; r < kPersistentRows; r++) {
                    if (b0 + r < batch) {
                        dh_u[b0 + r] = sum[r];
                    }
                }
            }
        }
        __syncwarp();  // lane 0's dh is read by every lane in the next step's (a)
    }
    if (active) {
        for (int b = lane; b < batch; b += kPersistentWarp) {
            dh0[(size_t) b * hidden + j] = dh_u[b];
            dc0[(size_t) b * hidden + j] = dc_u[b];
        }
    }
}

extern "C" __global__ void lstm_persistent_backward(
        int steps, int batch, int hidden, int direction, int precision, const float* gates, const float* cells,
        const float* c0, const float* dy, int dy_ld, const float* w_hh, const float* dhn, const float* dcn,
        float* d_gates, float* dh0, float* dc0) {
    if (precision == kPrecisionTf32) {
        persistent_backward<kPrecisionTf32>(steps, batch, hidden, direction, gates, cells, c0, dy, dy_ld, w_hh, dhn,
                                            dcn, d_gates, dh0, dc0);
    } else if (precision == kPrecisionBf16) {
        persistent_backward<kPrecisionBf16>(steps, batch, hidden, direction, gates, cells, c0, dy, dy_ld, w_hh, dhn,
                                            dcn, d_gates, dh0, dc0);
    } else {
        persistent_backward<kPrecisionFp32>(steps, batch, hidden, direction, gates, cells, c0, dy, dy_ld, w_hh, dhn,
                                            dcn, d_gates, dh0, dc0);
    }
}
