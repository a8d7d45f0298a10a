package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import jlstm.internal.Backends;
import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.EngineOptions.Precision;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The stand-in's {@code cublasGemmEx} rounds each operand as its compute type says, bit for bit:
 * values on rounding boundaries (ties, just past ties, ±Inf) give products whose exact bits only
 * the specified rounding produces — TF32 to nearest with ties away from zero (cvt.rna), BF16 to
 * nearest with ties to even, fp32 untouched. Stand-in only: on a GPU cuBLAS may run a product this
 * small without tensor cores, in full float32, which is allowed by the FAST compute types.
 */
@Tag("cuda")
class CublasPrecisionTest {
    private static final float TWO_M6 = 0x1p-6f;
    private static final float TWO_M7 = 0x1p-7f;
    private static final float TWO_M8 = 0x1p-8f;
    private static final float TWO_M10 = 0x1p-10f;
    private static final float TWO_M11 = 0x1p-11f;
    private static final float TWO_M12 = 0x1p-12f;
    private static final float TWO_M20 = 0x1p-20f;

    @BeforeEach
    void requireStandIn() {
        jlstm.CudaTestSupport.requireOrSkip(Backends.cuda().availability());
        assumeTrue(CudaStandIn.active(), "checks the stand-in's model of cublasGemmEx");
    }

    @Test
    void tf32RoundsToNearestWithTiesAwayFromZero() {
        // a tie (1 + 2^-11, half a TF32 ulp) goes up in magnitude, where ties-to-even or truncation would give 1
        float[] values = {1 + TWO_M11, -(1 + TWO_M11), 1 + TWO_M12, 1 + TWO_M11 + TWO_M12, Float.POSITIVE_INFINITY};
        float[] rounded = {1 + TWO_M10, -(1 + TWO_M10), 1, 1 + TWO_M10, Float.POSITIVE_INFINITY};
        checkProducts(Precision.TF32, values, rounded, 1 + TWO_M11, 1 + TWO_M10);
    }

    @Test
    void bf16RoundsToNearestWithTiesToEven() {
        // 1 + 2^-8 is a tie between 1 (even) and 1 + 2^-7; 1 + 2^-7 + 2^-8 between 1 + 2^-7 (odd) and 1 + 2^-6
        float[] values = {1 + TWO_M8, 1 + TWO_M7 + TWO_M8, 1 + TWO_M8 + TWO_M20, -(1 + TWO_M8 + TWO_M20)};
        float[] rounded = {1, 1 + TWO_M6, 1 + TWO_M7, -(1 + TWO_M7)};
        checkProducts(Precision.BF16, values, rounded, 1 + TWO_M7 + TWO_M8, 1 + TWO_M6);
    }

    @Test
    void fp32LeavesOperandsAsTheyAre() {
        float[] values = {1 + TWO_M11, -(1 + TWO_M20), 1 + TWO_M8};
        checkProducts(Precision.FP32, values, values, 1 + TWO_M20, 1 + TWO_M20);
    }

    /**
     * C [m, 2] = A [m, 1] · B [1, 2] with A = values and B = [1, w]: column 0 shows A's operands as the
     * mode rounds them, column 1 their product with w as rounded (every product exact in float32).
     */
    private static void checkProducts(Precision precision, float[] values, float[] rounded, float w, float wRounded) {
        int m = values.length;
        float[] b = {1, w};
        try (CudaLstmEngine e = CudaLstmEngine.open(LstmParameters.initialize(LstmConfig.of(2, 3), 1))) {
            CudaDevice device = e.device();
            float[] c = e.inContext(() -> {
                long da = device.alloc(m, "a"), db = device.alloc(2, "b"), dc = device.alloc(2L * m, "c");
                try {
                    device.upload(da, values);
                    device.upload(db, b);
                    device.blas(0).setPrecision(precision);
                    device.blas(0).gemm(false, false, m, 2, 1, da, 1, db, 2, false, dc, 2);
                    float[] out = new float[2 * m];
                    device.download(out, dc);
                    return out;
                } finally {
                    device.blas(0).setPrecision(Precision.FP32);
                    device.free(da, "a");
                    device.free(db, "b");
                    device.free(dc, "c");
                }
            });
            for (int i = 0; i < m; i++) {
                assertEquals(Float.floatToIntBits(rounded[i]), Float.floatToIntBits(c[2 * i]),
                        precision + ": operand " + values[i] + " became " + c[2 * i] + ", expected " + rounded[i]);
                float product = rounded[i] * wRounded;
                assertEquals(Float.floatToIntBits(product), Float.floatToIntBits(c[2 * i + 1]),
                        precision + ": " + values[i] + " · " + w + " gave " + c[2 * i + 1] + ", expected " + product);
            }
        }
    }
}
