// cublas.cpp — the cuBLAS API of the stand-in libcublas.so.12: the calls JCuda's libJCublas2
// makes for jlstm, on the CPU, with cuBLAS's exact column-major semantics. Every other function
// libJCublas2 imports is a generated weak stub that names itself on stderr once and answers
// CUBLAS_STATUS_NOT_SUPPORTED. The library carries cuBLAS's symbol version (libcublas.so.12,
// the forwarding library's version script), so libJCublas2 binds to it unchanged.
//
// Work goes through the stand-in driver's streams (jlstm_standin_submit), so it is ordered with
// the kernels and copies of the same stream and recorded when that stream captures a graph.
// Products round their operands as the tensor cores would (cublasGemmEx with
// CUBLAS_COMPUTE_32F_FAST_TF32 / _FAST_16BF, or cublasSgemm under CUBLAS_TF32_TENSOR_OP_MATH):
// each operand element to TF32 (ties away from zero, PTX cvt.rna.tf32.f32) or BF16 (ties to even)
// by the very functions the kernels use (lstm_cell_math.cuh), then float32 sums, as in fp32.
// Operands must lie inside device allocations; a product that would read or write past one fails
// with CUBLAS_STATUS_EXECUTION_FAILED and says which operand (a GPU would fault).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>

#include "../lstm_cell_math.cuh"   // lstm_round_tf32, lstm_round_bf16: one definition of the rounding

typedef int cublasStatus_t;
typedef struct CUstream_st* cudaStream_t;
struct cublasContext;
typedef cublasContext* cublasHandle_t;

enum : int {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_ARCH_MISMATCH = 8,
    CUBLAS_STATUS_MAPPING_ERROR = 11,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_INTERNAL_ERROR = 14,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
    CUBLAS_STATUS_LICENSE_ERROR = 16,
};
enum : int { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };
enum : int { CUBLAS_POINTER_MODE_HOST = 0, CUBLAS_POINTER_MODE_DEVICE = 1 };
enum : int { CUBLAS_TF32_TENSOR_OP_MATH = 3, CUBLAS_MATH_MODE_MASK = 0xf };   // cublasMath_t, low bits
enum : int {   // cublasComputeType_t
    CUBLAS_COMPUTE_32F = 68,
    CUBLAS_COMPUTE_32F_PEDANTIC = 69,
    CUBLAS_COMPUTE_32F_FAST_16BF = 75,
    CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
};
enum : int { CUDA_R_32F = 0 };   // cudaDataType_t

/** How a product's operands are rounded before they are multiplied (the tensor cores' input formats). */
enum class Operands : int { kFp32, kTf32, kBf16 };

// From the stand-in driver (driver_state.cpp), which this library is linked against.
extern "C" int jlstm_standin_submit(cudaStream_t stream, void (*fn)(void*), const void* ctx, std::size_t ctx_bytes);
extern "C" int jlstm_standin_device_range(const void* p, std::size_t bytes);

struct cublasContext {
    cudaStream_t stream = nullptr;
    int math_mode = 0;
    int pointer_mode = CUBLAS_POINTER_MODE_HOST;
    void* workspace = nullptr;
    std::size_t workspace_bytes = 0;
};

#define CUBLASAPI extern "C" __attribute__((visibility("default")))

namespace {

std::mutex handles_lock;
std::set<cublasHandle_t> handles;

bool valid(cublasHandle_t h) {
    std::lock_guard<std::mutex> guard(handles_lock);
    return handles.count(h) != 0;
}

/** cublasSgemm's operands: TF32 under CUBLAS_TF32_TENSOR_OP_MATH, else float32 as they are. */
Operands sgemm_operands(cublasHandle_t handle) {
    return (handle->math_mode & CUBLAS_MATH_MODE_MASK) == CUBLAS_TF32_TENSOR_OP_MATH ? Operands::kTf32
                                                                                   : Operands::kFp32;
}

/** A column-major matrix operand: element (r, c) at data[r + c·ld]. */
struct Matrix {
    const float* data;
    long rows, cols, ld;
};

/** Whether every element an operand can touch lies in one device allocation. */
bool inside(const Matrix& m, const char* call, const char* name) {
    if (m.rows == 0 || m.cols == 0) {
        return true;
    }
    std::size_t span = ((std::size_t) (m.cols - 1) * (std::size_t) m.ld + (std::size_t) m.rows) * sizeof(float);
    if (jlstm_standin_device_range(m.data, span)) {
        return true;
    }
    std::fprintf(stderr, "jlstm CUDA stand-in: %s: operand %s (%ld × %ld, ld %ld at %p) reaches outside its device "
                 "allocation\n", call, name, m.rows, m.cols, m.ld, (const void*) m.data);
    return false;
}

/** An operand element as the product's mode takes it. */
inline float operand(float x, Operands mode) {
    return mode == Operands::kTf32 ? lstm_round_tf32(x) : mode == Operands::kBf16 ? lstm_round_bf16(x) : x;
}

/** C = alpha·op(A)·op(B) + beta·C for batch_count matrices at the given strides (column-major). */
struct Gemm {
    Operands mode;
    int trans_a, trans_b;
    long m, n, k;
    float alpha, beta;
    const float* alpha_device;   // pointer mode device: read at execution
    const float* beta_device;
    const float* a;
    long lda;
    long long stride_a;
    const float* b;
    long ldb;
    long long stride_b;
    float* c;
    long ldc;
    long long stride_c;
    long batch_count;

    static void run(void* self) {
        const Gemm& g = *static_cast<const Gemm*>(self);
        float alpha = g.alpha_device != nullptr ? *g.alpha_device : g.alpha;
        float beta = g.beta_device != nullptr ? *g.beta_device : g.beta;
        for (long batch = 0; batch < g.batch_count; batch++) {
            const float* a = g.a + batch * g.stride_a;
            const float* b = g.b + batch * g.stride_b;
            float* c = g.c + batch * g.stride_c;
            for (long j = 0; j < g.n; j++) {
                for (long i = 0; i < g.m; i++) {
                    float sum = 0.f;   // float accumulation in k order, as one GPU thread would
                    for (long p = 0; p < g.k; p++) {
                        float av = operand(g.trans_a == CUBLAS_OP_N ? a[i + p * g.lda] : a[p + i * g.lda], g.mode);
                        float bv = operand(g.trans_b == CUBLAS_OP_N ? b[p + j * g.ldb] : b[j + p * g.ldb], g.mode);
                        sum = std::fma(av, bv, sum);
                    }
                    float& out = c[i + j * g.ldc];
                    // beta = 0: C is not read (it may hold NaN), exactly as cuBLAS specifies.
                    out = beta == 0.f ? alpha * sum : alpha * sum + beta * out;
                }
            }
        }
    }
};

cublasStatus_t gemm(cublasHandle_t handle, Operands mode, int trans_a, int trans_b, long m, long n, long k, const float* alpha,
                    const float* a, long lda, long long stride_a, const float* b, long ldb, long long stride_b,
                    const float* beta, float* c, long ldc, long long stride_c, long batch_count, const char* call) {
    if (!valid(handle)) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    if ((trans_a != CUBLAS_OP_N && trans_a != CUBLAS_OP_T) || (trans_b != CUBLAS_OP_N && trans_b != CUBLAS_OP_T)) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    long a_rows = trans_a == CUBLAS_OP_N ? m : k, a_cols = trans_a == CUBLAS_OP_N ? k : m;
    long b_rows = trans_b == CUBLAS_OP_N ? k : n, b_cols = trans_b == CUBLAS_OP_N ? n : k;
    if (m < 0 || n < 0 || k < 0 || batch_count < 0 || lda < (a_rows > 1 ? a_rows : 1) ||
        ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1) || alpha == nullptr || beta == nullptr) {
        std::fprintf(stderr, "jlstm CUDA stand-in: %s(m=%ld, n=%ld, k=%ld, lda=%ld, ldb=%ld, ldc=%ld): invalid value\n",
                     call, m, n, k, lda, ldb, ldc);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (m == 0 || n == 0 || batch_count == 0) {
        return CUBLAS_STATUS_SUCCESS;
    }
    bool device_scalars = handle->pointer_mode == CUBLAS_POINTER_MODE_DEVICE;
    for (long batch = 0; batch < batch_count; batch++) {
        Matrix ma{a + batch * stride_a, a_rows, a_cols, lda};
        Matrix mb{b + batch * stride_b, b_rows, b_cols, ldb};
        Matrix mc{c + batch * stride_c, m, n, ldc};
        if ((k > 0 && (!inside(ma, call, "A") || !inside(mb, call, "B"))) || !inside(mc, call, "C")) {
            return CUBLAS_STATUS_EXECUTION_FAILED;
        }
    }
    Gemm g{mode, trans_a, trans_b, m, n, k, device_scalars ? 0.f : *alpha, device_scalars ? 0.f : *beta,
           device_scalars ? alpha : nullptr, device_scalars ? beta : nullptr, a, lda, stride_a, b, ldb, stride_b,
           c, ldc, stride_c, batch_count};
    return jlstm_standin_submit(handle->stream, &Gemm::run, &g, sizeof g) == 0 ? CUBLAS_STATUS_SUCCESS
                                                                               : CUBLAS_STATUS_EXECUTION_FAILED;
}

/** y = alpha·op(A)·x + beta·y (column-major A [m, n], strides incx, incy). */
struct Gemv {
    int trans;
    long m, n;
    float alpha, beta;
    const float* alpha_device;
    const float* beta_device;
    const float* a;
    long lda;
    const float* x;
    long incx;
    float* y;
    long incy;

    static void run(void* self) {
        const Gemv& g = *static_cast<const Gemv*>(self);
        float alpha = g.alpha_device != nullptr ? *g.alpha_device : g.alpha;
        float beta = g.beta_device != nullptr ? *g.beta_device : g.beta;
        long out_len = g.trans == CUBLAS_OP_N ? g.m : g.n, in_len = g.trans == CUBLAS_OP_N ? g.n : g.m;
        for (long i = 0; i < out_len; i++) {
            float sum = 0.f;
            for (long p = 0; p < in_len; p++) {
                float av = g.trans == CUBLAS_OP_N ? g.a[i + p * g.lda] : g.a[p + i * g.lda];
                sum = std::fma(av, g.x[p * g.incx], sum);
            }
            float& out = g.y[i * g.incy];
            out = beta == 0.f ? alpha * sum : alpha * sum + beta * out;
        }
    }
};

}  // namespace

CUBLASAPI cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
    if (handle == nullptr) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    auto* h = new cublasContext();
    std::lock_guard<std::mutex> guard(handles_lock);
    handles.insert(h);
    *handle = h;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
    std::lock_guard<std::mutex> guard(handles_lock);
    if (handles.erase(handle) == 0) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int* version) {
    if (!valid(handle) || version == nullptr) {
        return version == nullptr ? CUBLAS_STATUS_INVALID_VALUE : CUBLAS_STATUS_NOT_INITIALIZED;
    }
    *version = 0;   // not a cuBLAS release: the probe shows the stand-in by name
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
    if (!valid(handle)) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    handle->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, cudaStream_t* stream) {
    if (!valid(handle) || stream == nullptr) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    *stream = handle->stream;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasSetMathMode(cublasHandle_t handle, int mode) {
    if (!valid(handle)) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    handle->math_mode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasGetMathMode(cublasHandle_t handle, int* mode) {
    if (!valid(handle) || mode == nullptr) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    *mode = handle->math_mode;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, int mode) {
    if (!valid(handle)) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    if (mode != CUBLAS_POINTER_MODE_HOST && mode != CUBLAS_POINTER_MODE_DEVICE) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    handle->pointer_mode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t handle, int* mode) {
    if (!valid(handle) || mode == nullptr) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    *mode = handle->pointer_mode;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, std::size_t bytes) {
    if (!valid(handle)) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    if (bytes > 0 && !jlstm_standin_device_range(workspace, bytes)) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    handle->workspace = workspace;
    handle->workspace_bytes = bytes;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, int trans_a, int trans_b, int m, int n, int k,
                                        const float* alpha, const float* a, int lda, const float* b, int ldb,
                                        const float* beta, float* c, int ldc) {
    return gemm(handle, sgemm_operands(handle), trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc,
                0, 1, "cublasSgemm");
}

CUBLASAPI cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, int trans_a, int trans_b, int m, int n,
                                                   int k, const float* alpha, const float* a, int lda,
                                                   long long stride_a, const float* b, int ldb, long long stride_b,
                                                   const float* beta, float* c, int ldc, long long stride_c,
                                                   int batch_count) {
    return gemm(handle, sgemm_operands(handle), trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b,
                beta, c, ldc, stride_c, batch_count, "cublasSgemmStridedBatched");
}

namespace {

/**
 * The operand rounding of a cublasGemmEx-style call on float32 data, or false (and why on stderr)
 * for types the stand-in does not model: other data types, and compute types other than float32's.
 */
bool ex_operands(cublasHandle_t handle, int a_type, int b_type, int c_type, int compute_type, const char* call,
                 Operands* mode) {
    if (a_type != CUDA_R_32F || b_type != CUDA_R_32F || c_type != CUDA_R_32F) {
        std::fprintf(stderr, "jlstm CUDA stand-in: %s: data types %d, %d, %d not modelled (only CUDA_R_32F)\n", call,
                     a_type, b_type, c_type);
        return false;
    }
    switch (compute_type) {
        case CUBLAS_COMPUTE_32F: *mode = sgemm_operands(handle); return true;   // the math mode decides
        case CUBLAS_COMPUTE_32F_PEDANTIC: *mode = Operands::kFp32; return true;
        case CUBLAS_COMPUTE_32F_FAST_TF32: *mode = Operands::kTf32; return true;
        case CUBLAS_COMPUTE_32F_FAST_16BF: *mode = Operands::kBf16; return true;
        default:
            std::fprintf(stderr, "jlstm CUDA stand-in: %s: compute type %d not modelled\n", call, compute_type);
            return false;
    }
}

}  // namespace

CUBLASAPI cublasStatus_t cublasGemmEx(cublasHandle_t handle, int trans_a, int trans_b, int m, int n, int k,
                                      const void* alpha, const void* a, int a_type, int lda, const void* b, int b_type,
                                      int ldb, const void* beta, void* c, int c_type, int ldc, int compute_type,
                                      int /* algo: every algorithm computes the same in the stand-in */) {
    if (!valid(handle)) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    Operands mode;
    if (!ex_operands(handle, a_type, b_type, c_type, compute_type, "cublasGemmEx", &mode)) {
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    return gemm(handle, mode, trans_a, trans_b, m, n, k, static_cast<const float*>(alpha),
                static_cast<const float*>(a), lda, 0, static_cast<const float*>(b), ldb, 0,
                static_cast<const float*>(beta), static_cast<float*>(c), ldc, 0, 1, "cublasGemmEx");
}

CUBLASAPI cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, int trans_a, int trans_b, int m, int n,
                                                    int k, const void* alpha, const void* a, int a_type, int lda,
                                                    long long stride_a, const void* b, int b_type, int ldb,
                                                    long long stride_b, const void* beta, void* c, int c_type, int ldc,
                                                    long long stride_c, int batch_count, int compute_type,
                                                    int /* algo */) {
    if (!valid(handle)) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    Operands mode;
    if (!ex_operands(handle, a_type, b_type, c_type, compute_type, "cublasGemmStridedBatchedEx", &mode)) {
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    return gemm(handle, mode, trans_a, trans_b, m, n, k, static_cast<const float*>(alpha),
                static_cast<const float*>(a), lda, stride_a, static_cast<const float*>(b), ldb, stride_b,
                static_cast<const float*>(beta), static_cast<float*>(c), ldc, stride_c, batch_count,
                "cublasGemmStridedBatchedEx");
}

CUBLASAPI cublasStatus_t cublasSgemv_v2(cublasHandle_t handle, int trans, int m, int n, const float* alpha,
                                        const float* a, int lda, const float* x, int incx, const float* beta,
                                        float* y, int incy) {
    if (!valid(handle)) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    if ((trans != CUBLAS_OP_N && trans != CUBLAS_OP_T) || m < 0 || n < 0 || lda < (m > 1 ? m : 1) || incx <= 0 ||
        incy <= 0 || alpha == nullptr || beta == nullptr) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (m == 0 || n == 0) {
        return CUBLAS_STATUS_SUCCESS;
    }
    long in_len = trans == CUBLAS_OP_N ? n : m, out_len = trans == CUBLAS_OP_N ? m : n;
    if (!inside(Matrix{a, m, n, lda}, "cublasSgemv", "A") || !inside(Matrix{x, 1, in_len, incx}, "cublasSgemv", "x") ||
        !inside(Matrix{y, 1, out_len, incy}, "cublasSgemv", "y")) {
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    bool device_scalars = handle->pointer_mode == CUBLAS_POINTER_MODE_DEVICE;
    Gemv g{trans, m, n, device_scalars ? 0.f : *alpha, device_scalars ? 0.f : *beta, device_scalars ? alpha : nullptr,
           device_scalars ? beta : nullptr, a, lda, x, incx, y, incy};
    return jlstm_standin_submit(handle->stream, &Gemv::run, &g, sizeof g) == 0 ? CUBLAS_STATUS_SUCCESS
                                                                               : CUBLAS_STATUS_EXECUTION_FAILED;
}

CUBLASAPI const char* cublasGetStatusName(cublasStatus_t status) {
    switch (status) {
        case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        default: return "CUBLAS_STATUS_UNKNOWN";
    }
}

CUBLASAPI const char* cublasGetStatusString(cublasStatus_t status) {
    return cublasGetStatusName(status);
}
