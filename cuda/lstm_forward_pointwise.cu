// lstm_forward_pointwise.cu — the fused forward cell update of one step (cuBLAS schedule).
//
// Glossary: T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions;
// row-major, rightmost index fastest; gate order i, f, g, o (a gate row is 4H wide).
//
// Kernels (launched by jlstm.internal.cuda.CudaLstmEngine, names in jlstm.internal.cuda.Kernel):
//   lstm_forward_pointwise_inference  G = Xp_t + R_t + b_ih + b_hh → c_t, h_t; saves nothing
//   lstm_forward_pointwise_training   the same, and saves the activated gates and c_t
// Layout: xp, rec, gates [B, 4H] (gates may be xp: the engine overwrites Xp_t in place);
//         c_prev, c_out [B, H]; h_out row b at h_out + b·h_ld.
// Launch: 1-D, one thread per (b, j) element of the B×H state; block 256 threads,
//         grid lstm_ceil_div(B·H, 256). Indices are bounded, so any B, H works.
#include "lstm_cell_math.cuh"

template <bool kTraining>
__device__ __forceinline__ void forward_pointwise(
        int batch, int hidden,
        const float* xp,                    // [B, 4H] input projection X_t·W_ihᵀ; may alias gates_out
        const float* __restrict__ rec,      // [B, 4H] recurrent product h_{t-1}·W_hhᵀ
        const float* __restrict__ bias_ih,  // [4H], or null when the model has no bias
        const float* __restrict__ bias_hh,  // [4H], or null when the model has no bias
        const float* c_prev,                // [B, H] c_{t-1}; may alias c_out (read before written)
        float* c_out,                       // [B, H] c_t
        float* __restrict__ h_out,          // row b at h_out + b·h_ld, H values: h_t
        int h_ld,
        float* gates_out) {                 // [B, 4H] activated gates (training only); each element
                                            // is written by the thread that read it from xp
    int element = blockIdx.x * blockDim.x + threadIdx.x;  // flat index into the B×H state
    if (element >= batch * hidden) {
        return;
    }
    int b = element / hidden;   // batch row
    int j = element % hidden;   // hidden unit
    int row = b * 4 * hidden;   // start of this row's gate block
    int gi = row + j, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
    float pre_i = xp[gi] + rec[gi];
    float pre_f = xp[gf] + rec[gf];
    float pre_g = xp[gg] + rec[gg];
    float pre_o = xp[go] + rec[go];
    lstm_add_biases(&pre_i, &pre_f, &pre_g, &pre_o, bias_ih, bias_hh, hidden, j);
    LstmGates a = lstm_activate(pre_i, pre_f, pre_g, pre_o);
    float c = lstm_cell_update(a, c_prev[element]);
    c_out[element] = c;
    h_out[b * h_ld + j] = lstm_hidden(a, c);
    if (kTraining) {
        gates_out[gi] = a.i;
        gates_out[gf] = a.f;
        gates_out[gg] = a.g;
        gates_out[go] = a.o;
    }
}

extern "C" __global__ void lstm_forward_pointwise_inference(
        int batch, int hidden, const float* xp, const float* rec, const float* bias_ih,
        const float* bias_hh, const float* c_prev, float* c_out, float* h_out, int h_ld) {
    forward_pointwise<false>(batch, hidden, xp, rec, bias_ih, bias_hh, c_prev, c_out, h_out, h_ld, nullptr);
}

extern "C" __global__ void lstm_forward_pointwise_training(
        int batch, int hidden, const float* xp, const float* rec, const float* bias_ih,
        const float* bias_hh, const float* c_prev, float* c_out, float* h_out, int h_ld,
        float* gates_out) {
    forward_pointwise<true>(batch, hidden, xp, rec, bias_ih, bias_hh, c_prev, c_out, h_out, h_ld, gates_out);
}
