package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import jlstm.internal.Backends;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmParameters;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@link Cublas}'s row-major products on the device against a plain triple loop, with leading
 * dimensions wider than the rows, every transpose combination, accumulation, and C full of NaN
 * when beta = 0 (cuBLAS must not read it) — the semantics the engine relies on, checked on a GPU's
 * cuBLAS and on the CPU stand-in's alike.
 */
@Tag("cuda")
class CublasSemanticsTest {
    @BeforeEach
    void requireCuda() {
        LstmBackend.Availability a = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
    }

    @Test
    void rowMajorGemmMatchesAPlainLoop() {
        try (CudaLstmEngine e = CudaLstmEngine.open(LstmParameters.initialize(LstmConfig.of(2, 3), 1))) {
            CudaDevice device = e.device();
            Random random = new Random(3);
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    for (boolean accumulate : new boolean[] {false, true}) {
                        int m = 5, n = 7, k = 3;
                        int lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3;
                        float[] a = random(random, (transA ? k : m) * lda);
                        float[] b = random(random, (transB ? n : k) * ldb);
                        float[] c = random(random, m * ldc);
                        if (!accumulate) {
                            java.util.Arrays.fill(c, Float.NaN);   // beta = 0: never read
                        }
                        float[] expected = c.clone();
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                double sum = 0;
                                for (int p = 0; p < k; p++) {
                                    sum += (double) (transA ? a[p * lda + i] : a[i * lda + p])
                                            * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                                }
                                expected[i * ldc + j] = (float) (accumulate ? c[i * ldc + j] + sum : sum);
                            }
                        }
                        float[] got = e.inContext(() -> {
                            long da = device.alloc(a.length, "a"), db = device.alloc(b.length, "b");
                            long dc = device.alloc(c.length, "c");
                            try {
                                device.upload(da, a);
                                device.upload(db, b);
                                device.upload(dc, c);
                                device.blas(0).gemm(transA, transB, m, n, k, da, lda, db, ldb, accumulate, dc, ldc);
                                float[] out = new float[c.length];
                                device.download(out, dc);
                                return out;
                            } finally {
                                device.free(da, "a");
                                device.free(db, "b");
                                device.free(dc, "c");
                            }
                        });
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < ldc; j++) {
                                String at = "transA=" + transA + " transB=" + transB + " accumulate=" + accumulate
                                        + " C[" + i + "," + j + "]";
                                if (j < n) {
                                    assertEquals(expected[i * ldc + j], got[i * ldc + j], 1e-5, at);
                                } else {   // past the row's n columns: untouched
                                    assertEquals(Float.floatToRawIntBits(c[i * ldc + j]),
                                            Float.floatToRawIntBits(got[i * ldc + j]), at);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static float[] random(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextFloat() * 2 - 1;
        }
        return v;
    }
}
