package jlstm;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;

/**
 * Element-wise comparison of tensors with a tolerance that scales with the expected values; a
 * failure names the tensor and reports the worst element, its index and both values.
 */
public final class TensorAssert {
    /**
     * The accuracy contract against PyTorch (ARCHITECTURE.md, "Accuracy contract", and issue 2's
     * "Done when"): every output and gradient within {@code 1e-4 · max(1, max|expected|)}.
     */
    public static final double PYTORCH_RELATIVE_TOLERANCE = 1e-4;

    private TensorAssert() {
    }

    /** Asserts the shapes agree and max|actual − expected| ≤ rtol · max(1, max|expected|). */
    public static void assertClose(String name, Tensor expected, Tensor actual, double rtol) {
        assertClose(name, expected.shape(), toDoubles(expected.data()), actual.shape(), toDoubles(actual.data()), rtol);
    }

    /** The same for flat double arrays of one shape. */
    public static void assertClose(String name, int[] shape, double[] expected, double[] actual, double rtol) {
        assertClose(name, shape, expected, shape, actual, rtol);
    }

    /** The same for a float result against a double reference of one shape. */
    public static void assertClose(String name, int[] shape, double[] expected, float[] actual, double rtol) {
        assertClose(name, shape, expected, shape, toDoubles(actual), rtol);
    }

    /** The largest |expected − actual| (NaN when either holds a NaN). */
    public static double maxAbsDifference(double[] expected, double[] actual) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            if (Double.isNaN(diff)) {
                return Double.NaN;
            }
            worst = Math.max(worst, diff);
        }
        return worst;
    }

    private static void assertClose(String name, int[] expectedShape, double[] expected, int[] actualShape,
                                    double[] actual, double rtol) {
        if (!Arrays.equals(expectedShape, actualShape) || expected.length != actual.length) {
            fail(name + ": shape " + Arrays.toString(actualShape) + ", expected " + Arrays.toString(expectedShape));
        }
        double scale = 1;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        double tolerance = rtol * scale;
        int worst = -1;
        double worstDiff = -1;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            if (Double.isNaN(diff)) {
                worst = i;
                worstDiff = Double.NaN;
                break;
            }
            if (diff > worstDiff) {
                worstDiff = diff;
                worst = i;
            }
        }
        if (worst >= 0 && !(worstDiff <= tolerance)) {
            fail(String.format("%s %s: worst |difference| %.3e > tolerance %.3e at index %s: expected %.9g, got %.9g",
                    name, Arrays.toString(expectedShape), worstDiff, tolerance, index(expectedShape, worst),
                    expected[worst], actual[worst]));
        }
    }

    /** The multi-index of a flat row-major position. */
    static String index(int[] shape, int flat) {
        int[] idx = new int[shape.length];
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            idx[axis] = shape[axis] == 0 ? 0 : flat % shape[axis];
            flat = shape[axis] == 0 ? 0 : flat / shape[axis];
        }
        return Arrays.toString(idx);
    }

    public static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
