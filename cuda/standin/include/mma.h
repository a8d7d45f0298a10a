// mma.h — CUDA's warp matrix functions (nvcuda::wmma) for the CPU stand-in (cuda/standin), as far
// as the jlstm kernels use them: the shapes m16n16k8 with precision::tf32 operands and m16n16k16
// with __nv_bfloat16 operands, float accumulators. Found before the toolkit's header because the
// stand-in compiles cuda/*.cu with -I cuda/standin/include.
//
// What it computes: D = A·B + C for one 16×16 tile, each product of two operands exact (a TF32 or
// BF16 product fits in a float32 mantissa), summed in float32 in the order k = 0 … K−1 onto C.
// A GPU's tensor cores sum in an order of their own, so results agree to float32 rounding of the
// sums, not bitwise; what they multiply is the same. TF32 operands must already be TF32 values
// (rounded by __float_to_tf32, here as PTX cvt.rna.tf32.f32: to nearest, ties away from zero):
// what a tensor core does with the low 13 bits of a raw float32 is not specified, so the stand-in
// refuses them instead of guessing. BF16 operands are __nv_bfloat16 (cuda_bf16.h: rounded to
// nearest, ties to even, when the kernel converts them).
//
// CUDA's rules it enforces (each misuse aborts with the kernel's file:line):
//   - load_matrix_sync, store_matrix_sync and mma_sync are warp-collective: all 32 lanes of a full
//     warp must reach the same call (the executor's rendezvous; a lane that exited, a warp of fewer
//     than 32 threads, or lanes at different calls abort);
//   - the pointer of a load or store is 256-bit (32-byte) aligned, and ldm is a multiple of 16
//     bytes (8 elements of a 16-bit type, 4 of a 32-bit one);
//   - the fragment's layout is opaque: a lane holds num_elements elements of the tile, here
//     elements lane, lane + 32, … of the tile in row-major order — not the GPU's mapping, so a
//     kernel that reads or writes x[i] as a particular element (rather than through load/store or
//     a uniform operation) gets other results on the GPU than here; fill_fragment and
//     uniform per-element operations are fine.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include <cuda_bf16.h>

extern "C" {
void jlstm_standin_warp_collective(const char* what, unsigned long long value, unsigned long long* gathered,
                                   const char* file, int line);
void jlstm_standin_misuse(const char* what, const char* file, int line, const char* message);
}

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

namespace detail {
template <class T>
struct storage {
    using type = T;
};
template <>
struct storage<precision::tf32> {
    using type = float;
};

// Rows and columns of the tile a fragment holds: A is M×K, B is K×N, C and D are M×N.
template <class Use, int M, int N, int K>
struct tile;
template <int M, int N, int K>
struct tile<matrix_a, M, N, K> {
    static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct tile<matrix_b, M, N, K> {
    static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct tile<accumulator, M, N, K> {
    static constexpr int rows = M, cols = N;
};

template <class Use, int M, int N, int K, class T>
struct supported {
    static constexpr bool value =
        (M == 16 && N == 16 && K == 8 &&
         (std::is_same<T, precision::tf32>::value || (std::is_same<Use, accumulator>::value && std::is_same<T, float>::value))) ||
        (M == 16 && N == 16 && K == 16 &&
         (std::is_same<T, __nv_bfloat16>::value || (std::is_same<Use, accumulator>::value && std::is_same<T, float>::value)));
};

inline int lane() {
    unsigned linear = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    return (int) (linear % 32u);
}

inline float as_float(float v) { return v; }
inline float as_float(__nv_bfloat16 v) { return __bfloat162float(v); }

inline bool is_tf32(float v) {
    unsigned int u;
    std::memcpy(&u, &v, sizeof u);
    return (u & 0x7f800000u) == 0x7f800000u || (u & 0x1fffu) == 0;
}

template <class S>
inline void check_pointer(const char* what, const S* p, unsigned ldm, const char* file, int line) {
    char message[200];
    if (((std::uintptr_t) p) % 32 != 0) {
        std::snprintf(message, sizeof message, "pointer %p is not 256-bit aligned", (const void*) p);
        jlstm_standin_misuse(what, file, line, message);
    }
    if ((ldm * sizeof(S)) % 16 != 0) {
        std::snprintf(message, sizeof message, "ldm %u (%zu-byte elements) is not a multiple of 16 bytes", ldm,
                      sizeof(S));
        jlstm_standin_misuse(what, file, line, message);
    }
}
}  // namespace detail

template <class Use, int M, int N, int K, class T, class Layout = void>
class fragment {
    static_assert(detail::supported<Use, M, N, K, T>::value,
                  "the stand-in emulates wmma m16n16k8 (tf32) and m16n16k16 (bf16) with float accumulators only");

public:
    using storage_element_type = typename detail::storage<T>::type;
    using element_type = storage_element_type;
    static constexpr int rows = detail::tile<Use, M, N, K>::rows;
    static constexpr int cols = detail::tile<Use, M, N, K>::cols;
    static constexpr int num_elements = rows * cols / 32;
    storage_element_type x[num_elements];
};

// TF32 rounding as cvt.rna.tf32.f32: to nearest, ties away from zero; ±Inf and NaN unchanged.
inline float __float_to_tf32(float v) {
    unsigned int u;
    std::memcpy(&u, &v, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) {
        return v;
    }
    u = (u + 0x1000u) & 0xffffe000u;
    float r;
    std::memcpy(&r, &u, sizeof r);
    return r;
}

template <class Use, int M, int N, int K, class T, class Layout, class V>
inline void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, const V& value) {
    for (int i = 0; i < f.num_elements; i++) {
        f.x[i] = (typename fragment<Use, M, N, K, T, Layout>::storage_element_type) value;
    }
}

// A or B from memory: element (r, c) of the tile at p[r·ldm + c] (row_major) or p[c·ldm + r] (col_major).
template <class Use, int M, int N, int K, class T, class Layout, class S>
inline void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const S* p, unsigned ldm,
                             const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    static_assert(!std::is_same<Use, accumulator>::value, "an accumulator load names its layout (mem_row_major …)");
    static_assert(std::is_same<S, typename fragment<Use, M, N, K, T, Layout>::storage_element_type>::value,
                  "load_matrix_sync: the pointer's type is the fragment's element type");
    jlstm_standin_warp_collective("wmma::load_matrix_sync", 0, nullptr, file, line);
    detail::check_pointer("wmma::load_matrix_sync", p, ldm, file, line);
    constexpr int cols = fragment<Use, M, N, K, T, Layout>::cols;
    int l = detail::lane();
    for (int i = 0; i < f.num_elements; i++) {
        int e = l + 32 * i, r = e / cols, c = e % cols;
        f.x[i] = std::is_same<Layout, row_major>::value ? p[(std::size_t) r * ldm + c] : p[(std::size_t) c * ldm + r];
    }
}

template <int M, int N, int K>
inline void load_matrix_sync(fragment<accumulator, M, N, K, float>& f, const float* p, unsigned ldm, layout_t layout,
                             const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    jlstm_standin_warp_collective("wmma::load_matrix_sync", 0, nullptr, file, line);
    detail::check_pointer("wmma::load_matrix_sync", p, ldm, file, line);
    int l = detail::lane();
    for (int i = 0; i < f.num_elements; i++) {
        int e = l + 32 * i, r = e / N, c = e % N;
        f.x[i] = layout == mem_row_major ? p[(std::size_t) r * ldm + c] : p[(std::size_t) c * ldm + r];
    }
}

template <int M, int N, int K>
inline void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm, layout_t layout,
                              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    jlstm_standin_warp_collective("wmma::store_matrix_sync", 0, nullptr, file, line);
    detail::check_pointer("wmma::store_matrix_sync", p, ldm, file, line);
    int l = detail::lane();
    for (int i = 0; i < f.num_elements; i++) {
        int e = l + 32 * i, r = e / N, c = e % N;
        (layout == mem_row_major ? p[(std::size_t) r * ldm + c] : p[(std::size_t) c * ldm + r]) = f.x[i];
    }
}

// D = A·B + C over the whole warp: the lanes meet once to see each other's fragments (each lane
// then computes its own elements of D), and once more before any lane writes D, which may be C.
template <int M, int N, int K, class T, class LayoutA, class LayoutB>
inline void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, T, LayoutA>& a,
                     const fragment<matrix_b, M, N, K, T, LayoutB>& b, const fragment<accumulator, M, N, K, float>& c,
                     const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    struct Operands {
        const fragment<matrix_a, M, N, K, T, LayoutA>* a;
        const fragment<matrix_b, M, N, K, T, LayoutB>* b;
        const fragment<accumulator, M, N, K, float>* c;
    } mine{&a, &b, &c};
    unsigned long long all[32];
    jlstm_standin_warp_collective("wmma::mma_sync", (unsigned long long) (std::uintptr_t) &mine, all, file, line);
    const Operands* lanes[32];
    for (int l = 0; l < 32; l++) {
        lanes[l] = (const Operands*) (std::uintptr_t) all[l];
    }
    // element e of a tile in row-major order lives in lane e % 32, index e / 32
    auto element_a = [&](int r, int k) {
        int e = r * K + k;
        return detail::as_float(lanes[e % 32]->a->x[e / 32]);
    };
    auto element_b = [&](int k, int n) {
        int e = k * N + n;
        return detail::as_float(lanes[e % 32]->b->x[e / 32]);
    };
    constexpr bool tf32 = std::is_same<T, precision::tf32>::value;
    int l = detail::lane();
    float out[fragment<accumulator, M, N, K, float>::num_elements];
    for (int i = 0; i < d.num_elements; i++) {
        int e = l + 32 * i, r = e / N, n = e % N;
        float sum = lanes[e % 32]->c->x[e / 32];
        for (int k = 0; k < K; k++) {
            float x = element_a(r, k), y = element_b(k, n);
            if (tf32 && (!detail::is_tf32(x) || !detail::is_tf32(y))) {
                char message[200];
                std::snprintf(message, sizeof message, "a tf32 operand holds %.9g, not a TF32 value: convert the "
                              "fragment's elements with wmma::__float_to_tf32", detail::is_tf32(x) ? y : x);
                jlstm_standin_misuse("wmma::mma_sync", file, line, message);
            }
            sum += x * y;   // exact product (11 × 11 or 8 × 8 significant bits), float32 sum
        }
        out[i] = sum;
    }
    jlstm_standin_warp_collective("wmma::mma_sync", 0, nullptr, file, line);
    for (int i = 0; i < d.num_elements; i++) {
        d.x[i] = out[i];
    }
}

}  // namespace wmma
}  // namespace nvcuda
