// lstm_persistent_tiled.cu — the persistent recurrence as a tiled matrix product, forward and
// backward: one cooperative launch runs every step of one layer and direction.
// Forward: each block owns a slice of U hidden units (all four gates of each) for the whole batch,
// keeps that slice of W_hh in shared memory for all T steps (rounded to the mode once, in bf16 mode
// stored as bf16: half the bytes), stages h_{t-1} of the whole batch into shared memory once per
// step, and multiplies
//     G_slice [4U, B] = W_slice [4U, H] · h_{t-1}ᵀ [H, B]
// Backward: each block owns U hidden units (U a multiple of 16), keeps the columns of W_hh of those
// units (all 4H gate rows) in shared memory, forms dG_t of its units pointwise, and after one grid
// barrier stages dG_t of the whole batch and multiplies
//     dh_slice [U, B] = W_hh[:, slice]ᵀ [U, 4H] · dG_tᵀ [4H, B]
// Both with the batch as the N dimension of 16×16 tiles: tensor cores (nvcuda::wmma, m16n16k8 TF32
// or m16n16k16 BF16, float32 accumulators) in tf32 and bf16 mode on sm_80 and newer, float32 FMA
// on the CUDA cores in fp32 mode (and on older GPUs, where the staged operands are already
// rounded, so the mode's math is the same). One grid-wide barrier (cooperative groups) per step.
// Launched by jlstm.internal.cuda.RecurrentPasses with the plans of
// jlstm.internal.cuda.PersistentPlan.Tiled (one for each direction of the pass), which fall back to
// lstm_persistent.cu's warp-per-unit kernels where a slice does not fit.
//
// Glossary: T = steps, B = batch, I = input size, H = hidden size, L = layers, D = directions;
// row-major, rightmost index fastest; gate order i, f, g, o (a gate row is 4H wide).
//
// Kernels (names in jlstm.internal.cuda.Kernel):
//   lstm_persistent_tiled_forward_inference   all T steps of h_t, c_t from Xp (input projection, no bias)
//   lstm_persistent_tiled_forward_training    the same, saving activated gates (over Xp) and c_t per step
//   lstm_persistent_tiled_backward            all T steps of dG_t and dh = dG_t · W_hh, dc carried
//                                             (tiled_backward below says how; the rest of this
//                                             header describes the forward kernels, the backward
//                                             takes the same layout with M = U, K = 4H and the
//                                             state dh [U][B], dc [U][B] in place of c)
// Launch: block = kTiledThreads (8 warps); block x owns units j = x·U + u, u < U (U = units, a
//   multiple of 4, so the block's 4U gate rows are whole 16-row tiles); grid = ⌈H / U⌉ blocks, all
//   resident (cooperative). The block's gate row m = q·U + u is W_hh row q·H + j (gate q of unit u).
//   Tiles: (4U / 16) × ⌈B / 16⌉, at most kTiledMaxTiles per warp (TiledWork): with 8 tiles or more
//   tile p is done by warp p mod 8 over all of k; with fewer, ⌊8 / tiles⌋ warps share a tile, each
//   summing every ⌊8 / tiles⌋-th group of 16 columns of k into a partial tile of its own.
//   Dynamic shared memory (tiled_shared_layout; the Java plan computes the same bytes), with
//   Hp = H rounded up to 16, Bp = B rounded up to 16, E = 4 bytes (fp32, tf32) or 2 (bf16):
//     W slice  [4U][Hp + 16/E] of E            rounded once, zero past H and for units past H
//     h chunk  [Bp][chunk + 16/E] of E         h_{t-1}[b, k0 … k0+chunk) for every b, zero past B, H
//     gates    [splits][4U][Bp + 4] float      the step's product, one partial tile per split of k
//     c        [U][B] float                    the cell state of the block's units
//   from the first 32-byte aligned address (32 bytes added for that), each section 32-byte aligned
//   and each row padded by 16 bytes: wmma's 256-bit aligned tiles, fewer bank conflicts.
//   chunk: a multiple of 16; h is staged in chunks of columns when the whole [Bp][Hp] does not fit
//   beside the weights (each element still staged once per step).
// Order of sums: each partial is summed by one warp over its k groups in order (the tensor core's
//   order inside one k-tile of 8 or 16), and the cell update adds the partials in split order; no
//   atomics: two runs give the same bits.
// direction 0 walks t = 0 … T-1, direction 1 walks t = T-1 … 0 (the backward kernel the other way).
// precision (an LstmPrecision, lstm_cell_math.cuh): fp32 multiplies float32 operands; tf32 and
//   bf16 round W_hh and h_{t-1} as they are staged (TF32: to nearest, ties away; BF16: to nearest,
//   ties to even); sums, c and the activations stay float32.
#include "lstm_device.cuh"

#include <cuda_bf16.h>
#include <mma.h>

static constexpr int kTiledThreads = 256;   // 8 warps
static constexpr int kTiledWarps = kTiledThreads / 32;
static constexpr int kTiledSide = 16;       // M and N of a tile
static constexpr int kTiledMaxTiles = 4;    // tiles per warp: registers for 4 accumulators

// Tensor cores for tf32/bf16 on sm_80+ (and on the stand-in, which emulates wmma); else CUDA cores.
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
#define JLSTM_TILED_WMMA 1
#else
#define JLSTM_TILED_WMMA 0
#endif

// The staged operand type of a mode: bf16 halves the bytes of W's slice and of h.
template <int kPrecision>
struct TiledOperand {
    using type = float;
};
template <>
struct TiledOperand<kPrecisionBf16> {
    using type = __nv_bfloat16;
};

// x rounded to the mode and stored as its operand type.
template <int kPrecision>
__device__ __forceinline__ typename TiledOperand<kPrecision>::type tiled_stage(float x);
template <>
__device__ __forceinline__ float tiled_stage<kPrecisionFp32>(float x) {
    return x;
}
template <>
__device__ __forceinline__ float tiled_stage<kPrecisionTf32>(float x) {
    return lstm_round_tf32(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 tiled_stage<kPrecisionBf16>(float x) {
    return __float2bfloat16_rn(x);
}

__device__ __forceinline__ float tiled_value(float x) {
    return x;
}
__device__ __forceinline__ float tiled_value(__nv_bfloat16 x) {
    return __bfloat162float(x);
}

__device__ __forceinline__ int tiled_round_up(int n, int m) {
    return lstm_ceil_div(n, m) * m;
}

__device__ __forceinline__ size_t tiled_align32(size_t bytes) {
    return (bytes + 31) / 32 * 32;
}

// Which tiles and which part of k each warp of a block multiplies. With 8 tiles or more, warp w
// takes tiles w, w + 8, … over all of k (splits = 1). With fewer, the 8 / tiles splits of k share
// a tile: work item w (one per warp) is tile w mod tiles, split w / tiles, which takes the 16-column
// groups g of k with g mod splits = split; the cell update sums the splits' partial tiles in split
// order, so the sums still have one fixed order.
struct TiledWork {
    int m_tiles;   // M / 16: 4U / 16 forward, U / 16 backward
    int tiles;     // m_tiles · ⌈B / 16⌉
    int splits;    // 1, or ⌊8 / tiles⌋ when tiles < 8

    __device__ __forceinline__ TiledWork(int rows, int batch) {
        m_tiles = rows / kTiledSide;
        tiles = m_tiles * lstm_ceil_div(batch, kTiledSide);
        splits = tiles >= kTiledWarps ? 1 : kTiledWarps / tiles;
    }
    // item (warp + 8·i) → its tile and split; false when the warp has no i-th item
    __device__ __forceinline__ bool item(int warp, int i, int* tile, int* split) const {
        int n = warp + kTiledWarps * i;
        *tile = n % tiles;
        *split = n / tiles;
        return *split < splits;
    }
};

// The shared-memory sections of one block (see the header; PersistentPlan.Tiled mirrors it), for a
// product of M = rows by K = depth weights (forward: 4U × H; backward: U × 4H) with the batch as N.
template <class E>
struct TiledShared {
    E* w;        // [M][ldw]: the weight slice, rows of the A operand
    E* h;        // [Bp][ldh]: the staged chunk of the B operand (h_{t-1} forward, dG_t backward)
    float* g;    // [splits][M][ldg]: the product's partial tiles
    float* c;    // the block's state: forward c [U][B]; backward dh [U][B], then dc [U][B]
    int ldw, ldh, ldg;
};

template <class E>
__device__ __forceinline__ TiledShared<E> tiled_shared_layout(int rows, int depth, int batch, int chunk,
                                                              int splits) {
    TiledShared<E> s;
    int pad = 16 / (int) sizeof(E);
    s.ldw = tiled_round_up(depth, kTiledSide) + pad;
    s.ldh = chunk + pad;
    s.ldg = tiled_round_up(batch, kTiledSide) + 4;
    // wmma wants 256-bit aligned tiles; the launch's base is only 16-byte aligned (the plan adds 32 bytes)
    char* base = reinterpret_cast<char*>(lstm_dynamic_shared());
    base += (32 - reinterpret_cast<size_t>(base) % 32) % 32;
    size_t offset = 0;
    s.w = reinterpret_cast<E*>(base + offset);
    offset += tiled_align32((size_t) rows * s.ldw * sizeof(E));
    s.h = reinterpret_cast<E*>(base + offset);
    offset += tiled_align32((size_t) tiled_round_up(batch, kTiledSide) * s.ldh * sizeof(E));
    s.g = reinterpret_cast<float*>(base + offset);
    offset += tiled_align32((size_t) splits * rows * s.ldg * sizeof(float));
    s.c = reinterpret_cast<float*>(base + offset);
    return s;
}

// The accumulators of one warp's tiles, and the products of one chunk of k into them.
// CUDA cores (fp32, or any mode before sm_80): lane l keeps elements l + 32·i (i < 8) of each tile,
// that is column n = l mod 16 and rows l / 16 + 2i.
template <int kPrecision, bool kWmma>
struct TiledAccumulators {
    using E = typename TiledOperand<kPrecision>::type;
    float acc[kTiledMaxTiles][8];

    __device__ __forceinline__ void zero() {
        #pragma unroll
        for (int i = 0; i < kTiledMaxTiles; i++) {
            #pragma unroll
            for (int e = 0; e < 8; e++) {
                acc[i][e] = 0.f;
            }
        }
    }

    // += W_s[tile rows][k0 … k0+kc) · h_s[tile columns][0 … kc)ᵀ for each item of this warp,
    // over its split's 16-column groups
    __device__ __forceinline__ void multiply(const TiledShared<E>& s, const TiledWork& work, int k0, int kc,
                                             int warp, int lane) {
        int n = lane % kTiledSide, r0 = lane / kTiledSide;
        #pragma unroll
        for (int i = 0; i < kTiledMaxTiles; i++) {
            int p, split;
            if (work.item(warp, i, &p, &split)) {
                int mt = p % work.m_tiles, nt = p / work.m_tiles;
                const E* h_col = s.h + (size_t) (nt * kTiledSide + n) * s.ldh;
                const E* w_row = s.w + (size_t) (mt * kTiledSide + r0) * s.ldw + k0;
                for (int g = 0; g < kc; g += kTiledSide) {
                    if ((k0 + g) / kTiledSide % work.splits != split) {
                        continue;
                    }
                    for (int k = g; k < g + kTiledSide; k++) {
                        float hk = tiled_value(h_col[k]);
                        #pragma unroll
                        for (int e = 0; e < 8; e++) {
                            acc[i][e] += tiled_value(w_row[(size_t) 2 * e * s.ldw + k]) * hk;
                        }
                    }
                }
            }
        }
    }

    // each item's tile into its split's gate tile
    __device__ __forceinline__ void store(const TiledShared<E>& s, const TiledWork& work, int warp, int lane) {
        int n = lane % kTiledSide, r0 = lane / kTiledSide;
        #pragma unroll
        for (int i = 0; i < kTiledMaxTiles; i++) {
            int p, split;
            if (work.item(warp, i, &p, &split)) {
                int mt = p % work.m_tiles, nt = p / work.m_tiles;
                float* g = s.g + (size_t) split * work.m_tiles * kTiledSide * s.ldg;
                #pragma unroll
                for (int e = 0; e < 8; e++) {
                    g[(size_t) (mt * kTiledSide + r0 + 2 * e) * s.ldg + nt * kTiledSide + n] = acc[i][e];
                }
            }
        }
    }
};

#if JLSTM_TILED_WMMA
// Tensor cores: one wmma accumulator per tile; k-tiles of 8 (TF32) or 16 (BF16).
template <int kPrecision>
struct TiledWmmaTypes;
template <>
struct TiledWmmaTypes<kPrecisionTf32> {
    static constexpr int kK = 8;
    using A = nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 8, nvcuda::wmma::precision::tf32,
                                     nvcuda::wmma::row_major>;
    using B = nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 8, nvcuda::wmma::precision::tf32,
                                     nvcuda::wmma::col_major>;
    using C = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 8, float>;
};
template <>
struct TiledWmmaTypes<kPrecisionBf16> {
    static constexpr int kK = 16;
    using A = nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, __nv_bfloat16, nvcuda::wmma::row_major>;
    using B = nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, __nv_bfloat16, nvcuda::wmma::col_major>;
    using C = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float>;
};

// TF32 fragments take their elements through __float_to_tf32 (the staged values are TF32 already,
// so this changes nothing; it is what the API asks for). BF16 fragments are bf16 as loaded.
template <class F>
__device__ __forceinline__ void tiled_tf32_elements(F& f, float) {
    #pragma unroll
    for (int e = 0; e < f.num_elements; e++) {
        f.x[e] = nvcuda::wmma::__float_to_tf32(f.x[e]);
    }
}
template <class F>
__device__ __forceinline__ void tiled_tf32_elements(F&, __nv_bfloat16) {}

template <int kPrecision>
struct TiledAccumulators<kPrecision, true> {
    using E = typename TiledOperand<kPrecision>::type;
    using Types = TiledWmmaTypes<kPrecision>;
    typename Types::C acc[kTiledMaxTiles];

    __device__ __forceinline__ void zero() {
        #pragma unroll
        for (int i = 0; i < kTiledMaxTiles; i++) {
            nvcuda::wmma::fill_fragment(acc[i], 0.f);
        }
    }

    // Every branch below depends on the warp only, so all 32 lanes make each wmma call together.
    __device__ __forceinline__ void multiply(const TiledShared<E>& s, const TiledWork& work, int k0, int kc,
                                             int warp, int) {
        #pragma unroll
        for (int i = 0; i < kTiledMaxTiles; i++) {
            int p, split;
            if (work.item(warp, i, &p, &split)) {
                int mt = p % work.m_tiles, nt = p / work.m_tiles;
                for (int k = 0; k < kc; k += Types::kK) {
                    if ((k0 + k) / kTiledSide % work.splits != split) {
                        continue;
                    }
                    typename Types::A a;
                    typename Types::B b;
                    // A: W_s rows of the tile, row-major; B: h_s[n][k] is column n of h_{t-1}ᵀ, col-major
                    nvcuda::wmma::load_matrix_sync(a, s.w + (size_t) mt * kTiledSide * s.ldw + k0 + k, s.ldw);
                    nvcuda::wmma::load_matrix_sync(b, s.h + (size_t) nt * kTiledSide * s.ldh + k, s.ldh);
                    tiled_tf32_elements(a, E());
                    tiled_tf32_elements(b, E());
                    nvcuda::wmma::mma_sync(acc[i], a, b, acc[i]);
                }
            }
        }
    }

    __device__ __forceinline__ void store(const TiledShared<E>& s, const TiledWork& work, int warp, int) {
        #pragma unroll
        for (int i = 0; i < kTiledMaxTiles; i++) {
            int p, split;
            if (work.item(warp, i, &p, &split)) {
                int mt = p % work.m_tiles, nt = p / work.m_tiles;
                float* g = s.g + (size_t) split * work.m_tiles * kTiledSide * s.ldg;
                nvcuda::wmma::store_matrix_sync(g + (size_t) mt * kTiledSide * s.ldg + nt * kTiledSide, acc[i],
                                                s.ldg, nvcuda::wmma::mem_row_major);
            }
        }
    }
};
#endif

template <bool kTraining, int kPrecision>
__device__ __forceinline__ void tiled_forward(
        int steps, int batch, int hidden, int direction,
        int units,                          // U: hidden units per block, a multiple of 4
        int chunk,                          // columns of h staged at a time, a multiple of 16
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
        float* gates_out) {                 // training: [T, B, 4H] = xp (the thread of (b, j) reads, then writes)
    using E = typename TiledOperand<kPrecision>::type;
    constexpr bool kWmma = JLSTM_TILED_WMMA && kPrecision != kPrecisionFp32;
    cooperative_groups::grid_group grid = cooperative_groups::this_grid();
    const TiledWork work(4 * units, batch);
    TiledShared<E> s = tiled_shared_layout<E>(4 * units, hidden, batch, chunk, work.splits);
    const int rows = 4 * units;                            // the block's gate rows (M)
    const int hp = tiled_round_up(hidden, kTiledSide);     // K, zero-padded
    const int bp = tiled_round_up(batch, kTiledSide);      // N, zero-padded
    const int j0 = blockIdx.x * units;                     // the block's first unit
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

    // W_hh slice, rounded once: row m = q·U + u is W_hh row q·H + j0 + u; zero past H
    for (int idx = threadIdx.x; idx < rows * hp; idx += blockDim.x) {
        int m = idx / hp, k = idx % hp;
        int q = m / units, j = j0 + m % units;
        float w = j < hidden && k < hidden ? w_hh[((size_t) q * hidden + j) * hidden + k] : 0.f;
        s.w[(size_t) m * s.ldw + k] = tiled_stage<kPrecision>(w);
    }
    // c of the block's units; thread idx keeps (u, b) = (idx mod U, idx / U) in every step
    for (int idx = threadIdx.x; idx < units * batch; idx += blockDim.x) {
        int u = idx % units, b = idx / units, j = j0 + u;
        s.c[idx] = j < hidden ? c0[(size_t) b * hidden + j] : 0.f;
    }

    for (int step = 0; step < steps; step++) {
        int t = direction == 0 ? step : steps - 1 - step;
        int prev = direction == 0 ? t - 1 : t + 1;
        const float* h_prev = step == 0 ? h0 : out + (size_t) prev * batch * out_ld;
        int h_prev_ld = step == 0 ? hidden : out_ld;
        TiledAccumulators<kPrecision, kWmma> acc;
        acc.zero();
        for (int k0 = 0; k0 < hp; k0 += chunk) {
            int kc = min(chunk, hp - k0);
            __syncthreads();   // W and c staged (first chunk); the previous chunk's products done
            // h_{t-1}[b, k0 + k] for the whole batch, rounded; written by other blocks: through L2
            for (int idx = threadIdx.x; idx < bp * kc; idx += blockDim.x) {
                int b = idx / kc, k = idx % kc;
                float h = b < batch && k0 + k < hidden ? __ldcg(h_prev + (size_t) b * h_prev_ld + k0 + k) : 0.f;
                s.h[(size_t) b * s.ldh + k] = tiled_stage<kPrecision>(h);
            }
            __syncthreads();   // the chunk is staged before any warp multiplies it
            acc.multiply(s, work, k0, kc, warp, lane);
        }
        acc.store(s, work, warp, lane);
        __syncthreads();   // the step's products are in s.g before the cell update reads them

        for (int idx = threadIdx.x; idx < units * batch; idx += blockDim.x) {
            int u = idx % units, b = idx / units, j = j0 + u;
            if (j >= hidden) {
                continue;
            }
            size_t row = ((size_t) t * batch + b) * 4 * hidden;
            size_t gi = row + j, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
            float sum[4];   // the splits' partial products, summed in split order
            #pragma unroll
            for (int q = 0; q < 4; q++) {
                const float* g = s.g + (size_t) (q * units + u) * s.ldg + b;
                sum[q] = g[0];
                for (int split = 1; split < work.splits; split++) {
                    sum[q] += g[(size_t) split * rows * s.ldg];
                }
            }
            float pre_i = xp[gi] + sum[0];
            float pre_f = xp[gf] + sum[1];
            float pre_g = xp[gg] + sum[2];
            float pre_o = xp[go] + sum[3];
            lstm_add_biases(&pre_i, &pre_f, &pre_g, &pre_o, bias_ih, bias_hh, hidden, j);
            LstmGates a = lstm_activate(pre_i, pre_f, pre_g, pre_o);
            float c = lstm_cell_update(a, s.c[idx]);
            s.c[idx] = c;
            out[((size_t) t * batch + b) * out_ld + j] = lstm_hidden(a, c);
            if (kTraining) {
                cells[((size_t) t * batch + b) * hidden + j] = c;
                gates_out[gi] = a.i;
                gates_out[gf] = a.f;
                gates_out[gg] = a.g;
                gates_out[go] = a.o;
            }
        }
        grid.sync();  // every h_t is written before any block stages it as h_{t-1}
    }
    for (int idx = threadIdx.x; idx < units * batch; idx += blockDim.x) {
        int u = idx % units, b = idx / units, j = j0 + u;
        if (j < hidden) {
            c_last[(size_t) b * hidden + j] = s.c[idx];
        }
    }
}

// The forward kernel for a runtime precision (an LstmPrecision): one template instance per mode.
template <bool kTraining>
__device__ __forceinline__ void tiled_forward_in(
        int precision, int steps, int batch, int hidden, int direction, int units, int chunk, const float* xp,
        const float* w_hh, const float* bias_ih, const float* bias_hh, const float* h0, const float* c0, float* out,
        int out_ld, float* cells, float* c_last, float* gates_out) {
    if (precision == kPrecisionTf32) {
        tiled_forward<kTraining, kPrecisionTf32>(steps, batch, hidden, direction, units, chunk, xp, w_hh, bias_ih,
                                                 bias_hh, h0, c0, out, out_ld, cells, c_last, gates_out);
    } else if (precision == kPrecisionBf16) {
        tiled_forward<kTraining, kPrecisionBf16>(steps, batch, hidden, direction, units, chunk, xp, w_hh, bias_ih,
                                                 bias_hh, h0, c0, out, out_ld, cells, c_last, gates_out);
    } else {
        tiled_forward<kTraining, kPrecisionFp32>(steps, batch, hidden, direction, units, chunk, xp, w_hh, bias_ih,
                                                 bias_hh, h0, c0, out, out_ld, cells, c_last, gates_out);
    }
}

extern "C" __global__ void __launch_bounds__(kTiledThreads) lstm_persistent_tiled_forward_inference(
        int steps, int batch, int hidden, int direction, int precision, int units, int chunk, const float* xp,
        const float* w_hh, const float* bias_ih, const float* bias_hh, const float* h0, const float* c0, float* out,
        int out_ld, float* c_last) {
    tiled_forward_in<false>(precision, steps, batch, hidden, direction, units, chunk, xp, w_hh, bias_ih, bias_hh, h0,
                            c0, out, out_ld, nullptr, c_last, nullptr);
}

extern "C" __global__ void __launch_bounds__(kTiledThreads) lstm_persistent_tiled_forward_training(
        int steps, int batch, int hidden, int direction, int precision, int units, int chunk, float* xp,
        const float* w_hh, const float* bias_ih, const float* bias_hh, const float* h0, const float* c0, float* out,
        int out_ld, float* cells, float* c_last) {
    tiled_forward_in<true>(precision, steps, batch, hidden, direction, units, chunk, xp, w_hh, bias_ih, bias_hh, h0,
                           c0, out, out_ld, cells, c_last, xp);
}

// The backward recurrence of one layer and direction, every step in one cooperative launch. Block x
// owns hidden units j = x·U + u, u < U (U a multiple of 16: whole 16-row tiles), keeps the columns
// of W_hh of those units for all 4H gate rows in shared memory (rounded once, in bf16 mode stored
// as bf16), and carries dh and dc of its units for the whole batch. Per step t (in the opposite
// order of the forward pass):
//   (a) dG_t[b, q·H + j] of its units from the saved gates, c_t and c_{t-1}, with dh = dy_t + dh
//       carried and dc carried (lstm_gate_grads, as lstm_backward_pointwise.cu); dc carried ← dc ⊙ f
//   (b) grid.sync(): every block's dG_t is written
//   (c) dh carried [U, B] = W_sliceᵀ [U, 4H] · dG_tᵀ [4H, B]: the dG_t rows of the whole batch are
//       staged into shared memory (rounded to the mode) `chunk` columns of 4H at a time, the
//       product runs as TiledAccumulators' 16 × 16 tiles with the batch as N (wmma in tf32 and
//       bf16 on sm_80+, FMA on the CUDA cores otherwise), the splits' partial tiles summed in split
//       order into dh carried: no atomics, no cross-block sums, the same bits every run.
// One grid barrier per step; dh0 and dc0 are the carries after the last step. The weight
// gradients (dW_hh, dW_ih, db) are GEMMs over all steps after this kernel (RecurrentPasses).
template <int kPrecision>
__device__ __forceinline__ void tiled_backward(
        int steps, int batch, int hidden, int direction,
        int units,                         // U: hidden units per block, a multiple of 16
        int chunk,                         // columns of dG_t staged at a time, a multiple of 16
        const float* __restrict__ gates,   // [T, B, 4H] activated gates of the forward pass
        const float* __restrict__ cells,   // [T, B, H] c_t
        const float* __restrict__ c0,      // [B, H] c before the first step of the forward pass
        const float* __restrict__ dy,      // dL/dh_t of row b at dy + (t·B + b)·dy_ld (H values)
        int dy_ld,
        const float* __restrict__ w_hh,    // [4H, H]
        const float* __restrict__ dhn,     // [B, H] gradient of the last h, or null (zeros)
        const float* __restrict__ dcn,     // [B, H] gradient of the last c, or null (zeros)
        float* d_gates,                    // [T, B, 4H] out: dG_t (other blocks stage it)
        float* __restrict__ dh0,           // [B, H] out
        float* __restrict__ dc0) {         // [B, H] out
    using E = typename TiledOperand<kPrecision>::type;
    constexpr bool kWmma = JLSTM_TILED_WMMA && kPrecision != kPrecisionFp32;
    cooperative_groups::grid_group grid = cooperative_groups::this_grid();
    const int depth = 4 * hidden;                          // K: the gate rows of W_hh
    const TiledWork work(units, batch);
    TiledShared<E> s = tiled_shared_layout<E>(units, depth, batch, chunk, work.splits);
    float* dh_s = s.c;                                     // [U][B] at (u, b) = u + U·b
    float* dc_s = s.c + (size_t) units * batch;            // [U][B]
    const int kp = tiled_round_up(depth, kTiledSide);      // K, zero-padded
    const int bp = tiled_round_up(batch, kTiledSide);      // N, zero-padded
    const int j0 = blockIdx.x * units;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

    // W_hh columns, rounded once: row u is column j0 + u of W_hh over its 4H gate rows; zero past
    // H (units) and past 4H (k). Consecutive threads take consecutive units: coalesced reads.
    for (int idx = threadIdx.x; idx < units * kp; idx += blockDim.x) {
        int u = idx % units, r = idx / units, j = j0 + u;
        float w = j < hidden && r < depth ? w_hh[(size_t) r * hidden + j] : 0.f;
        s.w[(size_t) u * s.ldw + r] = tiled_stage<kPrecision>(w);
    }
    // thread idx keeps (u, b) = (idx mod U, idx / U) in every step, as the forward kernel
    for (int idx = threadIdx.x; idx < units * batch; idx += blockDim.x) {
        int u = idx % units, b = idx / units, j = j0 + u;
        bool live = j < hidden;
        dh_s[idx] = live && dhn != nullptr ? dhn[(size_t) b * hidden + j] : 0.f;
        dc_s[idx] = live && dcn != nullptr ? dcn[(size_t) b * hidden + j] : 0.f;
    }

    for (int step = 0; step < steps; step++) {
        int t = direction == 0 ? steps - 1 - step : step;
        int prev = direction == 0 ? t - 1 : t + 1;
        const float* c_prev = step == steps - 1 ? c0 : cells + (size_t) prev * batch * hidden;
        // (a) the gate gradients of the block's units
        for (int idx = threadIdx.x; idx < units * batch; idx += blockDim.x) {
            int u = idx % units, b = idx / units, j = j0 + u;
            if (j >= hidden) {
                continue;
            }
            size_t row = ((size_t) t * batch + b) * depth;
            LstmGates a;
            a.i = gates[row + j];
            a.f = gates[row + hidden + j];
            a.g = gates[row + 2 * hidden + j];
            a.o = gates[row + 3 * hidden + j];
            float dh = dy[((size_t) t * batch + b) * dy_ld + j] + dh_s[idx];
            LstmGateGrads g = lstm_gate_grads(a, cells[((size_t) t * batch + b) * hidden + j],
                                              c_prev[(size_t) b * hidden + j], dh, dc_s[idx]);
            d_gates[row + j] = g.di;
            d_gates[row + hidden + j] = g.df;
            d_gates[row + 2 * hidden + j] = g.dg;
            d_gates[row + 3 * hidden + j] = g.dout;
            dc_s[idx] = g.dc_prev;
        }
        grid.sync();  // every dG_t is written before any block stages it
        // (c) dh for the step before: W_sliceᵀ · dG_tᵀ
        TiledAccumulators<kPrecision, kWmma> acc;
        acc.zero();
        for (int k0 = 0; k0 < kp; k0 += chunk) {
            int kc = min(chunk, kp - k0);
            __syncthreads();   // the previous chunk's products are done
            // dG_t[b, k0 + k] for the whole batch, rounded; written by other blocks: through L2
            for (int idx = threadIdx.x; idx < bp * kc; idx += blockDim.x) {
                int b = idx / kc, k = idx % kc;
                float dg = b < batch && k0 + k < depth ? __ldcg(d_gates + ((size_t) t * batch + b) * depth + k0 + k)
                                                       : 0.f;
                s.h[(size_t) b * s.ldh + k] = tiled_stage<kPrecision>(dg);
            }
            __syncthreads();   // the dG chunk is staged before any warp multiplies it
            acc.multiply(s, work, k0, kc, warp, lane);
        }
        acc.store(s, work, warp, lane);
        __syncthreads();   // the partial tiles are in s.g before they are summed
        for (int idx = threadIdx.x; idx < units * batch; idx += blockDim.x) {
            int u = idx % units, b = idx / units;
            const float* g = s.g + (size_t) u * s.ldg + b;
            float sum = g[0];   // the splits' partial products, summed in split order
            for (int split = 1; split < work.splits; split++) {
                sum += g[(size_t) split * units * s.ldg];
            }
            dh_s[idx] = sum;
        }
    }
    for (int idx = threadIdx.x; idx < units * batch; idx += blockDim.x) {
        int u = idx % units, b = idx / units, j = j0 + u;
        if (j < hidden) {
            dh0[(size_t) b * hidden + j] = dh_s[idx];
            dc0[(size_t) b * hidden + j] = dc_s[idx];
        }
    }
}

extern "C" __global__ void __launch_bounds__(kTiledThreads) lstm_persistent_tiled_backward(
        int steps, int batch, int hidden, int direction, int precision, int units, int chunk, const float* gates,
        const float* cells, const float* c0, const float* dy, int dy_ld, const float* w_hh, const float* dhn,
        const float* dcn, float* d_gates, float* dh0, float* dc0) {
    if (precision == kPrecisionTf32) {
        tiled_backward<kPrecisionTf32>(steps, batch, hidden, direction, units, chunk, gates, cells, c0, dy, dy_ld,
                                       w_hh, dhn, dcn, d_gates, dh0, dc0);
    } else if (precision == kPrecisionBf16) {
        tiled_backward<kPrecisionBf16>(steps, batch, hidden, direction, units, chunk, gates, cells, c0, dy, dy_ld,
                                       w_hh, dhn, dcn, d_gates, dh0, dc0);
    } else {
        tiled_backward<kPrecisionFp32>(steps, batch, hidden, direction, units, chunk, gates, cells, c0, dy, dy_ld,
                                       w_hh, dhn, dcn, d_gates, dh0, dc0);
    }
}
