package jlstm.spark;

import java.util.List;

/**
 * Reads the values of a Spark array column as floats, whatever form the row holds them in: a
 * Scala {@code Seq} (what a {@code Row} of a Dataset gives), a Java {@code List}, or a Java
 * {@code float[]}/{@code double[]}; elements float, double or any other {@link Number}.
 */
final class SequenceValues {
    private SequenceValues() {
    }

    /** The element count of an array value. */
    static int length(Object array, String column) {
        if (array instanceof scala.collection.Seq<?> s) {
            return s.length();
        }
        if (array instanceof List<?> l) {
            return l.size();
        }
        if (array instanceof float[] f) {
            return f.length;
        }
        if (array instanceof double[] d) {
            return d.length;
        }
        if (array instanceof Object[] o) {
            return o.length;
        }
        throw new IllegalArgumentException("column '" + column + "' holds " + describe(array) + ", expected an array");
    }

    /** Element i of an array value. */
    static Object element(Object array, int i) {
        if (array instanceof scala.collection.Seq<?> s) {
            return s.apply(i);
        }
        if (array instanceof List<?> l) {
            return l.get(i);
        }
        if (array instanceof float[] f) {
            return f[i];
        }
        if (array instanceof double[] d) {
            return d[i];
        }
        return ((Object[]) array)[i];
    }

    /** Copies a flat numeric array value into {@code out} at {@code offset}; returns its length. */
    static int copyFloats(Object array, float[] out, int offset, String column) {
        int n = length(array, column);
        if (array instanceof float[] f) {
            System.arraycopy(f, 0, out, offset, n);
            return n;
        }
        for (int i = 0; i < n; i++) {
            Object v = element(array, i);
            if (!(v instanceof Number number)) {
                throw new IllegalArgumentException("column '" + column + "': element " + i + " is " + describe(v)
                        + ", expected a number (null values are not allowed)");
            }
            out[offset + i] = number.floatValue();
        }
        return n;
    }

    static String describe(Object value) {
        return value == null ? "null" : value.getClass().getSimpleName();
    }
}
