package jlstm;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Map;

/**
 * Compares results with special values against PyTorch's: NaN exactly where PyTorch has NaN, the
 * same infinities, finite values where PyTorch's are finite and within rtol · max(1, max|finite
 * expected|) of them. (Signed zeros compare as equal values: −0.0 and +0.0 are within any tolerance.)
 */
public final class SpecialValueAssert {
    private SpecialValueAssert() {
    }

    /** Every expected tensor of a golden case against the actual one of the same name. */
    public static void assertAllMatch(String what, Map<String, Tensor> expected, Map<String, Tensor> actual, double rtol) {
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor got = actual.get(e.getKey());
            assertTrue(got != null, what + ": no '" + e.getKey() + "'");
            assertMatches(what + " " + e.getKey(), e.getValue(), got, rtol);
        }
    }

    public static void assertMatches(String name, Tensor expected, Tensor actual, double rtol) {
        if (!Arrays.equals(expected.shape(), actual.shape())) {
            fail(name + ": shape " + actual.shapeString() + ", expected " + expected.shapeString());
        }
        float[] e = expected.data(), a = actual.data();
        double scale = 1;
        for (float v : e) {
            if (Float.isFinite(v)) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        double tolerance = rtol * scale;
        for (int i = 0; i < e.length; i++) {
            boolean ok;
            if (Float.isNaN(e[i])) {
                ok = Float.isNaN(a[i]);
            } else if (Float.isInfinite(e[i])) {
                ok = a[i] == e[i];
            } else {
                ok = Float.isFinite(a[i]) && Math.abs((double) e[i] - a[i]) <= tolerance;
            }
            if (!ok) {
                fail(name + ": element " + i + " of " + expected.shapeString() + " is " + a[i] + ", PyTorch gives "
                        + e[i] + " (finite values within " + tolerance + "; NaN and ±Inf exactly)");
            }
        }
    }
}
