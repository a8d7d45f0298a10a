package jlstm.cpu;

/**
 * The matrix products of the CPU engine, on row-major float arrays with offsets and leading
 * dimensions (row strides), all accumulating into C. Inner loops run along contiguous rows
 * (C[m,:] += a · B[k,:]) so that the JIT vectorises them.
 *
 * <p>Naming: {@code nn} is C += A·B, {@code tn} is C += Aᵀ·B, {@code multiplyTransposedB} is
 * C += A·Bᵀ. A matrix X with leading dimension ldx has element (r, k) at xOff + r·ldx + k.
 */
public final class Gemm {
    private Gemm() {
    }

    /**
     * C[M,N] += A[M,K] · B[K,N].
     */
    public static void nn(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc) {
        for (int r = 0; r < m; r++) {
            int cRow = cOff + r * ldc;
            int aRow = aOff + r * lda;
            for (int p = 0; p < k; p++) {
                float av = a[aRow + p];
                int bRow = bOff + p * ldb;
                for (int col = 0; col < n; col++) {
                    c[cRow + col] += av * b[bRow + col];
                }
            }
        }
    }

    /**
     * C[M,N] += A[K,M]ᵀ · B[K,N]: A is stored K rows of M.
     */
    public static void tn(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc) {
        for (int p = 0; p < k; p++) {
            int aRow = aOff + p * lda;
            int bRow = bOff + p * ldb;
            for (int r = 0; r < m; r++) {
                float av = a[aRow + r];
                int cRow = cOff + r * ldc;
                for (int col = 0; col < n; col++) {
                    c[cRow + col] += av * b[bRow + col];
                }
            }
        }
    }

    /**
     * C[M,N] += A[M,K] · B[N,K]ᵀ (dot products; used where B is too small to be worth transposing).
     */
    public static void multiplyTransposedB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff,
                                           int ldb, float[] c, int cOff, int ldc) {
        for (int r = 0; r < m; r++) {
            int aRow = aOff + r * lda;
            for (int col = 0; col < n; col++) {
                int bRow = bOff + col * ldb;
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum += a[aRow + p] * b[bRow + p];
                }
                c[cOff + r * ldc + col] += sum;
            }
        }
    }

    /** Writes the transpose of A[rows, cols] into out[cols, rows]. */
    public static void transpose(float[] a, int rows, int cols, float[] out) {
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < cols; col++) {
                out[col * rows + r] = a[r * cols + col];
            }
        }
    }
}
