// lstm_cell_math.cuh — the per-element math of one LSTM cell, shared by every kernel.
//
// Glossary (same as jlstm/package-info.java): T = steps, B = batch, I = input size, H = hidden
// size, L = layers, D = directions; row-major, rightmost index fastest; gate order i, f, g, o.
//
// Mirrors jlstm.cpu.CellMath (forwardPointwise / backwardPointwise) element by element. The
// functions are __host__ __device__ so that a host-only build (g++ or nvcc without a GPU) can
// check them against the Java reference in CI (see src/test/c/cell_math_check.cpp); only the
// indexing and launch configuration of the kernels are then left for a GPU to prove.
#pragma once

#include <math.h>

#ifdef __CUDACC__
#define JLSTM_HD __host__ __device__ __forceinline__
#else
#define JLSTM_HD static inline
#endif

JLSTM_HD float lstm_sigmoid(float x) {
    return 1.0f / (1.0f + expf(-x));
}

JLSTM_HD float lstm_tanh(float x) {
    return tanhf(x);
}

// Activated gates of one hidden unit of one batch row.
struct LstmGates {
    float i;  // input gate σ(G_i)
    float f;  // forget gate σ(G_f)
    float g;  // cell candidate tanh(G_g)
    float o;  // output gate σ(G_o)
};

// Activations from the four pre-activations (bias and both products already summed).
JLSTM_HD LstmGates lstm_activate(float pre_i, float pre_f, float pre_g, float pre_o) {
    LstmGates a;
    a.i = lstm_sigmoid(pre_i);
    a.f = lstm_sigmoid(pre_f);
    a.g = lstm_tanh(pre_g);
    a.o = lstm_sigmoid(pre_o);
    return a;
}

// Adds both biases of hidden unit j (gate q at q·H + j) to its four pre-activations; no bias: nothing.
JLSTM_HD void lstm_add_biases(float* pre_i, float* pre_f, float* pre_g, float* pre_o, const float* bias_ih,
                              const float* bias_hh, int hidden, int j) {
    if (bias_ih != 0) {
        *pre_i += bias_ih[j] + bias_hh[j];
        *pre_f += bias_ih[hidden + j] + bias_hh[hidden + j];
        *pre_g += bias_ih[2 * hidden + j] + bias_hh[2 * hidden + j];
        *pre_o += bias_ih[3 * hidden + j] + bias_hh[3 * hidden + j];
    }
}

// c_t = f ⊙ c_{t-1} + i ⊙ g
JLSTM_HD float lstm_cell_update(LstmGates a, float c_prev) {
    return a.f * c_prev + a.i * a.g;
}

// h_t = o ⊙ tanh(c_t)
JLSTM_HD float lstm_hidden(LstmGates a, float c) {
    return a.o * lstm_tanh(c);
}

// Gate pre-activation gradients of one unit, and the cell gradient carried to step t-1.
struct LstmGateGrads {
    float di;      // dG_i
    float df;      // dG_f
    float dg;      // dG_g
    float dout;    // dG_o
    float dc_prev; // dc ⊙ f, carried to the previous step
};

// dh = dy_t + dh_next (summed by the caller); dc_next is the cell gradient carried from t+1.
//   dc   = dc_next + dh ⊙ o ⊙ (1 - tanh²(c_t))
//   dG_i = dc ⊙ g ⊙ i(1-i)   dG_f = dc ⊙ c_{t-1} ⊙ f(1-f)   dG_g = dc ⊙ i ⊙ (1-g²)
//   dG_o = dh ⊙ tanh(c_t) ⊙ o(1-o)
JLSTM_HD LstmGateGrads lstm_gate_grads(LstmGates a, float c, float c_prev, float dh, float dc_next) {
    float tc = lstm_tanh(c);
    float dc = dc_next + dh * a.o * (1.0f - tc * tc);
    LstmGateGrads r;
    r.di = dc * a.g * a.i * (1.0f - a.i);
    r.df = dc * c_prev * a.f * (1.0f - a.f);
    r.dg = dc * a.i * (1.0f - a.g * a.g);
    r.dout = dh * tc * a.o * (1.0f - a.o);
    r.dc_prev = dc * a.f;
    return r;
}

// Grid sizes everywhere go through this one helper.
JLSTM_HD int lstm_ceil_div(int n, int d) {
    return (n + d - 1) / d;
}
