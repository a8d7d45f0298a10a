// JNI side of jlstm.internal.cpu.NativeKernels: ISA detection and dispatch, native memory, and the copies
// between PyTorch's layouts (Java float[]) and the engine's padded, gate-blocked layouts.
// Built without ISA flags, so loading it is safe on any x86-64 CPU; the kernels of the chosen ISA
// (kernels_avx512.cpp / kernels_avx2.cpp) are reached only after cpuid says the CPU has it.
//
// Layouts: PyTorch weight W [4H][K_in] (rows gate-major: q·H + u, gates i, f, g, o). Engine row
// (or column) of gate q of unit u: eng(q, u) = (u / W)·4W + q·W + u % W, W = the unit block.
// Input features of layer k > 0 are the previous layer's [forward | reverse] outputs, each padded
// from H to Hp: feature f ↦ (f / H)·Hp + f % H ("kBlockIn" = H, "kBlockPad" = Hp); for layer 0
// kBlockIn = kBlockPad = I (no padding).
#include <jni.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "args.h"

namespace jlstm_avx512 {
void forward(const int64_t *args, int worker, int workers);
void backward(const int64_t *args, int worker, int workers);
}  // namespace jlstm_avx512
namespace jlstm_avx2 {
void forward(const int64_t *args, int worker, int workers);
void backward(const int64_t *args, int worker, int workers);
}  // namespace jlstm_avx2

namespace {

// 2: AVX-512 F/VL/BW/DQ (with OS support for the zmm state), 1: AVX2 + FMA, 0: neither.
int detect_level() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}

const int level_at_load = detect_level();  // computed when the library loads (no lazy guard needed)

int cpu_level() { return level_at_load; }

inline long eng(int q, int u, int W) { return (long)(u / W) * 4 * W + (long)q * W + u % W; }
inline int padded_feature(int f, int block_in, int block_pad) { return f / block_in * block_pad + f % block_in; }

// Reads a Java float[] (or int[]) without copying (GC briefly held off while the copy loops run).
template <typename A, typename E>
struct CriticalOf {
    JNIEnv *env;
    A array;
    E *data;
    CriticalOf(JNIEnv *e, A a) : env(e), array(a), data(nullptr) {
        if (a) data = static_cast<E *>(e->GetPrimitiveArrayCritical(a, nullptr));
    }
    ~CriticalOf() {
        if (data) env->ReleasePrimitiveArrayCritical(array, data, 0);
    }
};
typedef CriticalOf<jfloatArray, float> Critical;
typedef CriticalOf<jintArray, jint> CriticalInts;

}  // namespace

extern "C" {

JNIEXPORT jint JNICALL Java_jlstm_internal_cpu_NativeKernels_cpuLevel(JNIEnv *, jclass) { return cpu_level(); }

// The kernels for unit block W (16: AVX-512, 8: AVX2); the Java side asks only for what cpuLevel allows.
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_forward(JNIEnv *env, jclass, jlongArray args, jint W,
                                                            jint worker, jint workers) {
    int64_t a[A_COUNT];
    env->GetLongArrayRegion(args, 0, A_COUNT, reinterpret_cast<jlong *>(a));
    if (W == 16 && cpu_level() >= 2) {
        jlstm_avx512::forward(a, worker, workers);
    } else if (W == 8 && cpu_level() >= 1) {
        jlstm_avx2::forward(a, worker, workers);
    }
}

JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_backward(JNIEnv *env, jclass, jlongArray args, jint W,
                                                             jint worker, jint workers) {
    int64_t a[B_COUNT];
    env->GetLongArrayRegion(args, 0, B_COUNT, reinterpret_cast<jlong *>(a));
    if (W == 16 && cpu_level() >= 2) {
        jlstm_avx512::backward(a, worker, workers);
    } else if (W == 8 && cpu_level() >= 1) {
        jlstm_avx2::backward(a, worker, workers);
    }
}

// Zeroed, 64-byte aligned native memory; 0 when out of memory.
JNIEXPORT jlong JNICALL Java_jlstm_internal_cpu_NativeKernels_allocate(JNIEnv *, jclass, jlong bytes) {
    size_t size = ((size_t)bytes + 63) / 64 * 64;
    void *p = std::aligned_alloc(64, size == 0 ? 64 : size);
    if (p) std::memset(p, 0, size);
    return (jlong)(intptr_t)p;
}

JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_release(JNIEnv *, jclass, jlong address) {
    std::free((void *)(intptr_t)address);
}

// Forward panels of W ([4H][kin] PyTorch) for G = X · Wᵀ: Hp/W panels [kp][4W], panel j holding
// the four gates of units [jW, jW+W) in engine column order; padded rows and columns are zero.
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_packForward(JNIEnv *env, jclass, jfloatArray weights, jint W, jint H,
                                                                jint Hp, jint kin, jint kp, jint block_in,
                                                                jint block_pad, jlong out) {
    Critical w(env, weights);
    float *o = (float *)(intptr_t)out;
    int nr = 4 * W;
    std::memset(o, 0, sizeof(float) * (size_t)4 * Hp * kp);
    for (int q = 0; q < 4; q++)
        for (int u = 0; u < H; u++) {
            const float *row = w.data + (long)(q * H + u) * kin;
            float *panel = o + (long)(u / W) * kp * nr + q * W + u % W;
            for (int f = 0; f < kin; f++) panel[(long)padded_feature(f, block_in, block_pad) * nr] = row[f];
        }
}

// Backward panels of W for products · W (dX = dG · W_ih, dh = dG · W_hh): W's rows in engine order
// (4Hp of them), its kp (padded) columns cut into panels of 4W columns: ⌈kp/4W⌉ × [4Hp][4W].
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_packBackward(JNIEnv *env, jclass, jfloatArray weights, jint W, jint H,
                                                                 jint Hp, jint kin, jint kp, jint block_in,
                                                                 jint block_pad, jlong out) {
    Critical w(env, weights);
    float *o = (float *)(intptr_t)out;
    int nr = 4 * W, panels = (kp + nr - 1) / nr;
    std::memset(o, 0, sizeof(float) * (size_t)panels * 4 * Hp * nr);
    for (int q = 0; q < 4; q++)
        for (int u = 0; u < H; u++) {
            const float *row = w.data + (long)(q * H + u) * kin;
            long r = eng(q, u, W);
            for (int f = 0; f < kin; f++) {
                int c = padded_feature(f, block_in, block_pad);
                o[(long)(c / nr) * 4 * Hp * nr + r * nr + c % nr] = row[f];
            }
        }
}

// b_ih + b_hh in engine order [4Hp].
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_packBias(JNIEnv *env, jclass, jfloatArray bih, jfloatArray bhh,
                                                             jint W, jint H, jint Hp, jlong out) {
    float *o = (float *)(intptr_t)out;
    std::memset(o, 0, sizeof(float) * 4 * (size_t)Hp);
    Critical a(env, bih);
    Critical b(env, bhh);
    for (int q = 0; q < 4; q++)
        for (int u = 0; u < H; u++) o[eng(q, u, W)] = a.data[q * H + u] + b.data[q * H + u];
}

// A weight gradient [4Hp][kp] in engine row order → PyTorch's [4H][kin]: PyTorch rows q·H + u in
// [row_from, row_to) (the workers each take a share).
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_unpackWeightGradient(JNIEnv *env, jclass, jlong src, jint W,
                                                                         jint H, jint Hp, jint kin, jint kp, jint block_in,
                                                                         jint block_pad, jfloatArray out, jint row_from,
                                                                         jint row_to) {
    (void)Hp;
    const float *s = (const float *)(intptr_t)src;
    Critical o(env, out);
    for (int r = row_from; r < row_to; r++) {
        const float *row = s + eng(r / H, r % H, W) * kp;
        float *dst = o.data + (long)r * kin;
        if (block_in == block_pad) {
            std::memcpy(dst, row, sizeof(float) * kin);
        } else {
            for (int f = 0; f < kin; f++) dst[f] = row[padded_feature(f, block_in, block_pad)];
        }
    }
}

// The bias gradient [4Hp] (engine order) → both of PyTorch's bias gradients [4H].
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_unpackBiasGradient(JNIEnv *env, jclass, jlong src, jint W,
                                                                       jint H, jint Hp, jfloatArray out1, jfloatArray out2) {
    (void)Hp;
    const float *s = (const float *)(intptr_t)src;
    Critical a(env, out1);
    Critical b(env, out2);
    for (int q = 0; q < 4; q++)
        for (int u = 0; u < H; u++) a.data[q * H + u] = b.data[q * H + u] = s[eng(q, u, W)];
}

// rows × cols floats: row r of dst (stride dst_ld) ← row srcRows[r] (r when srcRows is null) of
// src from src_off (a Java array; null: zeros), stride src_ld.
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_rowsIn(JNIEnv *env, jclass, jfloatArray src, jint src_off,
                                                           jintArray src_rows, jint rows, jint cols, jint src_ld,
                                                           jlong dst, jint dst_ld) {
    float *d = (float *)(intptr_t)dst;
    Critical s(env, src);
    CriticalInts index(env, src_rows);
    for (long r = 0; r < rows; r++) {
        if (s.data) {
            long from = index.data ? index.data[r] : r;
            std::memcpy(d + r * dst_ld, s.data + src_off + from * src_ld, sizeof(float) * cols);
        } else {
            std::memset(d + r * dst_ld, 0, sizeof(float) * cols);
        }
    }
}

// rows × cols floats: row srcRows[i] of src (stride src_ld; i when null) → row dstRows[i] of dst
// from dst_off (a Java array; i when null), stride dst_ld.
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_rowsOut(JNIEnv *env, jclass, jlong src, jint src_ld,
                                                            jintArray src_rows, jint rows, jint cols, jfloatArray dst,
                                                            jint dst_off, jint dst_ld, jintArray dst_rows) {
    const float *s = (const float *)(intptr_t)src;
    Critical d(env, dst);
    CriticalInts from(env, src_rows);
    CriticalInts to(env, dst_rows);
    for (long i = 0; i < rows; i++) {
        long r = from.data ? from.data[i] : i, w = to.data ? to.data[i] : i;
        std::memcpy(d.data + dst_off + w * dst_ld, s + r * src_ld, sizeof(float) * cols);
    }
}

// An int[] into native memory (the schedule tables the kernels read).
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_intsIn(JNIEnv *env, jclass, jintArray src, jlong dst) {
    jsize n = env->GetArrayLength(src);
    CriticalInts s(env, src);
    std::memcpy((void *)(intptr_t)dst, s.data, sizeof(jint) * (size_t)n);
}

// out[i] = a[i] · b[i] for i < n (dropout masks; out may be a). NaN · 0 = NaN, as in PyTorch.
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_multiply(JNIEnv *, jclass, jlong a, jlong b, jlong out, jlong n) {
    const float *x = (const float *)(intptr_t)a, *y = (const float *)(intptr_t)b;
    float *o = (float *)(intptr_t)out;
    for (long i = 0; i < n; i++) o[i] = x[i] * y[i];
}

// Plain panels of a matrix for the products' B operand (the projection W_hr): B[k][n] = W[k][n]
// (W [rows][cols], k < rows, n < cols) or, transposed, B[k][n] = W[n][k] (k < cols, n < rows);
// panels of 4W columns: ⌈N/4W⌉ × [depth][4W], zero past the matrix (depth ≥ its K).
JNIEXPORT void JNICALL Java_jlstm_internal_cpu_NativeKernels_packPanels(JNIEnv *env, jclass, jfloatArray weights, jint rows,
                                                               jint cols, jboolean transposed, jint W, jint depth,
                                                               jlong out) {
    Critical w(env, weights);
    float *o = (float *)(intptr_t)out;
    int nr = 4 * W, n_total = transposed ? rows : cols, k_total = transposed ? cols : rows;
    int panels = (n_total + nr - 1) / nr;
    std::memset(o, 0, sizeof(float) * (size_t)panels * depth * nr);
    for (int k = 0; k < k_total; k++)
        for (int n = 0; n < n_total; n++) {
            float v = transposed ? w.data[(long)n * cols + k] : w.data[(long)k * cols + n];
            o[(long)(n / nr) * depth * nr + (long)k * nr + n % nr] = v;
        }
}

}  // extern "C"
