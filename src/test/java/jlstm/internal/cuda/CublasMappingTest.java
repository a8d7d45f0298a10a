package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import jcuda.jcublas.cublasOperation;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The row-major → column-major mapping of {@link Cublas#gemm}, checked without a GPU: the
 * arguments it hands to cublasSgemm are fed to a plain Java implementation of the column-major
 * SGEMM definition (what cuBLAS computes), and the result must equal the row-major product
 * computed directly. Small integers make both sums exact, so equality is bitwise.
 */
class CublasMappingTest {

    @ParameterizedTest(name = "transA={0} transB={1} m={2} n={3} k={4} pad={5}")
    @CsvSource({
        "false, false, 3, 5, 4, 0", "false, true, 3, 5, 4, 2", "true, false, 6, 2, 7, 1", "true, true, 4, 4, 3, 3",
        "false, true, 1, 9, 5, 0", "true, false, 8, 3, 1, 4"})
    void columnMajorCallComputesTheRowMajorProduct(boolean transA, boolean transB, int m, int n, int k, int pad) {
        Random r = new Random(m * 31 + n * 7 + k);
        // Row-major storage: A is [m, k] (or [k, m] when transposed), B is [k, n] (or [n, k]); row strides padded.
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        float[] a = small(r, aRows * lda);
        float[] b = small(r, bRows * ldb);
        float[] c = small(r, m * ldc);
        float[] expected = c.clone();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += av * bv;
                }
                expected[i * ldc + j] = sum; // beta = 0
            }
        }
        Cublas.ColumnMajorCall call = Cublas.ColumnMajorCall.of(transA, transB, m, n, k, lda, ldb, ldc);
        columnMajorSgemm(call.opFirst(), call.opSecond(), call.m(), call.n(), call.k(), b, call.ldFirst(), a,
                call.ldSecond(), c, call.ldc());
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(expected[i * ldc + j], c[i * ldc + j], "C[" + i + ", " + j + "]");
            }
        }
    }

    /** BLAS SGEMM, column-major, alpha = 1, beta = 0: C[i + j·ldc] = Σ_p op(X)[i, p] · op(Y)[p, j]. */
    private static void columnMajorSgemm(int opX, int opY, int m, int n, int k, float[] x, int ldx, float[] y,
                                         int ldy, float[] c, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0;
                for (int p = 0; p < k; p++) {
                    float xv = opX == cublasOperation.CUBLAS_OP_N ? x[i + p * ldx] : x[p + i * ldx];
                    float yv = opY == cublasOperation.CUBLAS_OP_N ? y[p + j * ldy] : y[j + p * ldy];
                    sum += xv * yv;
                }
                c[i + j * ldc] = sum;
            }
        }
    }

    private static float[] small(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(9) - 4;
        }
        return v;
    }
}
