// lstm_cell_math.cuh — the per-element math of one LSTM cell, shared by every kernel.
//
// Glossary (same as jlstm/package-info.java): T = steps, B = batch, I = input size, H = hidden
// size, L = layers, D = directions; row-major, rightmost index fastest; gate order i, f, g, o.
//
// Mirrors jlstm.internal.cpu.CellMath (forwardPointwise / backwardPointwise) element by element. The
// functions are __host__ __device__ so that a host-only build (g++ or nvcc without a GPU) can
// check them against the Java reference in CI (see src/test/c/cell_math_check.cpp); only the
// indexing and launch configuration of the kernels are then left for a GPU to prove.
#pragma once

#include <math.h>
#include <string.h>

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

// ---- Precision modes: how the operands of a matrix product are rounded (jlstm.Precision) ----
// Every product of the engine (cuBLAS and the kernels' own) multiplies operands rounded to the
// mode's format and accumulates in float32; storage, biases, activations and c stay float32.
enum LstmPrecision {
    kPrecisionFp32 = 0,  // operands used as they are
    kPrecisionTf32 = 1,  // 10-bit mantissa, round to nearest, ties away from zero (PTX cvt.rna.tf32.f32)
    kPrecisionBf16 = 2,  // 7-bit mantissa, round to nearest, ties to even (cvt.rn.bf16.f32)
};

JLSTM_HD unsigned int lstm_float_bits(float x) {
#ifdef __CUDA_ARCH__
    return __float_as_uint(x);
#else
    unsigned int u;
    memcpy(&u, &x, sizeof u);
    return u;
#endif
}

JLSTM_HD float lstm_bits_float(unsigned int u) {
#ifdef __CUDA_ARCH__
    return __uint_as_float(u);
#else
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
#endif
}

// x rounded to TF32 (8-bit exponent, 10-bit mantissa) as cvt.rna.tf32.f32 does: add half a TF32
// ulp to the magnitude, drop the 13 low mantissa bits. ±Inf and NaN pass unchanged; a finite
// value past TF32's largest rounds to ±Inf, as rna without .satfinite does.
JLSTM_HD float lstm_round_tf32(float x) {
    unsigned int u = lstm_float_bits(x);
    if ((u & 0x7f800000u) == 0x7f800000u) {
        return x;
    }
    return lstm_bits_float((u + 0x1000u) & 0xffffe000u);
}

// x rounded to BF16 (8-bit exponent, 7-bit mantissa), to nearest with ties to even, as
// cvt.rn.bf16.f32 does; NaN stays NaN (quiet), ±Inf unchanged, overflow goes to ±Inf.
JLSTM_HD float lstm_round_bf16(float x) {
    unsigned int u = lstm_float_bits(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return lstm_bits_float((u | 0x00400000u) & 0xffff0000u);
    }
    return lstm_bits_float((u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u);
}

// An operand of a product in precision mode kPrecision (an LstmPrecision; a template argument,
// so the fp32 kernels carry no rounding at all).
template <int kPrecision>
JLSTM_HD float lstm_operand(float x) {
    return kPrecision == kPrecisionTf32 ? lstm_round_tf32(x) : kPrecision == kPrecisionBf16 ? lstm_round_bf16(x) : x;
}

// Grid sizes everywhere go through this one helper.
JLSTM_HD int lstm_ceil_div(int n, int d) {
    return (n + d - 1) / d;
}
