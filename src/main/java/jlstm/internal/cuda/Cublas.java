package jlstm.internal.cuda;

import static jlstm.internal.cuda.CudaCalls.checkCublas;

import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.cudaDataType;
import jcuda.driver.CUstream;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasStatus;
import jcuda.runtime.cudaStream_t;
import jlstm.EngineOptions.Precision;

/**
 * The one wrapper around cuBLAS: a handle created in the current context and bound to one
 * stream, and the row-major products the engine needs.
 *
 * <p><b>Row-major ↔ column-major.</b> cuBLAS is column-major; everything in jlstm is row-major.
 * A row-major matrix M [r, c] with leading dimension ld is, read column-major, Mᵀ [c, r] with the
 * same ld. So the row-major product C[m, n] = op(A)[m, k] · op(B)[k, n] is computed as the
 * column-major product Cᵀ[n, m] = op(B)ᵀ · op(A)ᵀ: cuBLAS gets B first, then A, with n and m
 * swapped, and each transpose flag unchanged (B stored row-major is already Bᵀ column-major).
 *
 * <p><b>Precision.</b> Math mode is {@code CUBLAS_DEFAULT_MATH} (full FP32, no TF32), so in
 * {@link Precision#FP32} (the default) products are {@code cublasSgemm} and meet the 1e-4 accuracy
 * contract. In {@link Precision#TF32} and {@link Precision#BF16} ({@link #setPrecision}) they are
 * {@code cublasGemmEx} on the same float32 arrays with compute type
 * {@code CUBLAS_COMPUTE_32F_FAST_TF32} or {@code CUBLAS_COMPUTE_32F_FAST_16BF}: cuBLAS converts the
 * operands to TF32 / BF16 for the tensor cores and accumulates in float32; the column sums stay
 * float32. cuBLAS gives identical bits run to run on one GPU and stream. The handle gets
 * its own workspace ({@link #Cublas(CUstream, long)}), so that a stream capture (CUDA graphs)
 * never makes cuBLAS allocate. Calls build no strings unless they fail.
 */
final class Cublas implements AutoCloseable {
    private static final Pointer ONE = Pointer.to(new float[] {1f});
    private static final Pointer ZERO = Pointer.to(new float[] {0f});

    private final cublasHandle handle = new cublasHandle();
    private boolean open;
    private Precision precision = Precision.FP32;

    /**
     * Creates the handle in the current context, binds it to {@code stream} and gives it the
     * device workspace at {@code workspace} (0: cuBLAS's default workspace).
     */
    Cublas(CUstream stream, long workspace, long workspaceBytes) {
        checkCublas(JCublas2.cublasCreate(handle), "cublasCreate");
        open = true;
        checkCublas(JCublas2.cublasSetStream(handle, new cudaStream_t(stream)), "cublasSetStream");
        checkCublas(JCublas2.cublasSetMathMode(handle, cublasMath.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        if (workspace != 0) {
            checkCublas(JCublas2.cublasSetWorkspace(handle, DeviceAddress.pointer(workspace), workspaceBytes),
                    "cublasSetWorkspace");
        }
    }

    /** A handle on {@code stream} with cuBLAS's default workspace (the probe's). */
    Cublas(CUstream stream) {
        this(stream, 0, 0);
    }

    /** cuBLAS version as reported by the loaded library, e.g. 120604 or 130100. */
    int version() {
        int[] v = new int[1];
        checkCublas(JCublas2.cublasGetVersion(handle, v), "cublasGetVersion");
        return v[0];
    }

    /** The precision of every following {@link #gemm} (FP32 until set). */
    void setPrecision(Precision value) {
        precision = value;
    }

    /** cuBLAS's compute type for a reduced-precision mode (not FP32, which runs cublasSgemm). */
    static int computeType(Precision precision) {
        return switch (precision) {
            case TF32 -> cublasComputeType.CUBLAS_COMPUTE_32F_FAST_TF32;
            case BF16 -> cublasComputeType.CUBLAS_COMPUTE_32F_FAST_16BF;
            case FP32 -> throw new IllegalArgumentException("FP32 products run cublasSgemm");
        };
    }

    /**
     * Row-major C = op(A) · op(B) + beta·C, with alpha = 1, in this handle's precision.
     *
     * @param transA use Aᵀ: A is stored [k, m] (lda ≥ m) instead of [m, k] (lda ≥ k)
     * @param transB use Bᵀ: B is stored [n, k] (ldb ≥ k) instead of [k, n] (ldb ≥ n)
     * @param c      [m, n] with row stride ldc; must not alias A or B
     * @param accumulate beta = 1 (add into C) instead of 0 (overwrite C)
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, long a, int lda, long b, int ldb,
              boolean accumulate, long c, int ldc) {
        int opA = transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        int opB = transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        Pointer beta = accumulate ? ONE : ZERO;
        int status;
        if (precision == Precision.FP32) {
            status = JCublas2.cublasSgemm(handle, opB, opA, n, m, k, ONE, DeviceAddress.pointer(b), ldb,
                    DeviceAddress.pointer(a), lda, beta, DeviceAddress.pointer(c), ldc);
        } else {
            // float32 arrays in and out; cuBLAS rounds the operands for the tensor cores itself.
            status = JCublas2.cublasGemmEx_new(handle, opB, opA, n, m, k, ONE, DeviceAddress.pointer(b),
                    cudaDataType.CUDA_R_32F, ldb, DeviceAddress.pointer(a), cudaDataType.CUDA_R_32F, lda, beta,
                    DeviceAddress.pointer(c), cudaDataType.CUDA_R_32F, ldc, computeType(precision),
                    cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
        }
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException((precision == Precision.FP32 ? "cublasSgemm(" : "cublasGemmEx(" + precision.name().toLowerCase(java.util.Locale.ROOT)
                    + ", ") + ColumnMajorCall.of(transA, transB, m, n, k, lda, ldb, ldc)
                    + ") for row-major m=" + m + ", n=" + n + ", k=" + k + " failed: " + cublasStatus.stringFor(status));
        }
    }

    /**
     * Row-major column sums: y[n] = Σ_r A[r, n] over the {@code rows} rows of A [rows, n] (row
     * stride lda), as the product Aᵀ · ones. Deterministic: cuBLAS sums in a fixed order.
     *
     * @param ones [rows] of 1.0f
     * @param y    [n] out
     */
    void columnSums(int rows, int n, long a, int lda, long ones, long y) {
        // Row-major A [rows, n] is column-major Aᵀ [n, rows]: y = (Aᵀ column-major) · ones, no transpose.
        int status = JCublas2.cublasSgemv(handle, cublasOperation.CUBLAS_OP_N, n, rows, ONE, DeviceAddress.pointer(a),
                lda, DeviceAddress.pointer(ones), 1, ZERO, DeviceAddress.pointer(y), 1);
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException("cublasSgemv(column sums of " + rows + " × " + n + ") failed: "
                    + cublasStatus.stringFor(status));
        }
    }

    /**
     * The arguments of the column-major {@code cublasSgemm} for a row-major product (see the class
     * comment): the first operand is B, the second is A, and m, n are swapped.
     *
     * @param opFirst  operation on the first operand (B)
     * @param opSecond operation on the second operand (A)
     */
    record ColumnMajorCall(int opFirst, int opSecond, int m, int n, int k, int ldFirst, int ldSecond, int ldc) {
        static ColumnMajorCall of(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc) {
            int opA = transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
            int opB = transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
            return new ColumnMajorCall(opB, opA, n, m, k, ldb, lda, ldc);
        }
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            checkCublas(JCublas2.cublasDestroy(handle), "cublasDestroy");
        }
    }
}
