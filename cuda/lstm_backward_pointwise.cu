// lstm_backward_pointwise.cu — the fused backward cell update of one step.
//
// Glossary: T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions;
// row-major, rightmost index fastest; gate order i, f, g, o (a gate row is 4H wide).
//
// Kernel (launched by jlstm.internal.cuda.CudaLstmEngine, name in jlstm.internal.cuda.Kernel):
//   lstm_backward_pointwise   dh = dy_t + dh_next; dc, dG from the saved gates and c_t;
//                             dc is overwritten with dc ⊙ f for step t-1.
// The caller then forms dh_next = dG · W_hh with cuBLAS.
// Layout: gates, d_gates [B, 4H]; c, c_prev, dh_next, dc [B, H]; dy row b at dy + b·dy_ld.
// Launch: 1-D, one thread per (b, j); block 256, grid lstm_ceil_div(B·H, 256); indices bounded.
#include "lstm_cell_math.cuh"

extern "C" __global__ void lstm_backward_pointwise(
        int batch, int hidden,
        const float* __restrict__ gates,    // [B, 4H] activated gates i, f, g, o of step t
        const float* __restrict__ c,        // [B, H] c_t
        const float* __restrict__ c_prev,   // [B, H] c_{t-1} (c0 for the first step processed)
        const float* __restrict__ dy,       // row b at dy + b·dy_ld, H values: gradient from above
        int dy_ld,
        const float* __restrict__ dh_next,  // [B, H] dh carried from step t+1
        float* __restrict__ dc,             // [B, H] in: dc carried from t+1; out: dc ⊙ f
        float* __restrict__ d_gates) {      // [B, 4H] out: dG
    int element = blockIdx.x * blockDim.x + threadIdx.x;  // flat index into the B×H state
    if (element >= batch * hidden) {
        return;
    }
    int b = element / hidden;   // batch row
    int j = element % hidden;   // hidden unit
    int row = b * 4 * hidden;
    int gi = row + j, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
    LstmGates a;
    a.i = gates[gi];
    a.f = gates[gf];
    a.g = gates[gg];
    a.o = gates[go];
    float dh = dy[b * dy_ld + j] + dh_next[element];
    LstmGateGrads r = lstm_gate_grads(a, c[element], c_prev[element], dh, dc[element]);
    d_gates[gi] = r.di;
    d_gates[gf] = r.df;
    d_gates[gg] = r.dg;
    d_gates[go] = r.dout;
    dc[element] = r.dc_prev;
}
