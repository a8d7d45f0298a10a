package jlstm;

import java.util.Arrays;

/**
 * A dense float32 array with a shape, row-major (rightmost index fastest).
 *
 * <p>The data array is shared, not copied: a tensor is a view that gives a flat {@code float[]}
 * a shape. Optimizers update parameter tensors in place through {@link #data()}.
 */
public final class Tensor {
    private final float[] data;
    private final int[] shape;

    private Tensor(float[] data, int[] shape) {
        this.data = data;
        this.shape = shape;
    }

    /** Wraps {@code data} (not copied) with the given shape; the element counts must agree. */
    public static Tensor of(float[] data, int... shape) {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but the data has " + data.length);
        }
        return new Tensor(data, shape.clone());
    }

    /** A tensor of zeros. */
    public static Tensor zeros(int... shape) {
        long n = numel(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large for one array");
        }
        return new Tensor(new float[(int) n], shape.clone());
    }

    /** Number of elements of a shape; every dimension must be non-negative. */
    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        return n;
    }

    /** The flat data, row-major; writes go to the tensor. */
    public float[] data() {
        return data;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis];
    }

    public int numel() {
        return data.length;
    }

    /** True when this tensor has exactly the given shape. */
    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /** The same data seen with another shape of equal element count. */
    public Tensor reshape(int... newShape) {
        return of(data, newShape);
    }

    /** A deep copy. */
    public Tensor copy() {
        return new Tensor(data.clone(), shape.clone());
    }

    /** Swaps the first two axes of a rank-3 tensor: [A, B, C] → [B, A, C] (a copy). */
    public Tensor swapFirstTwoAxes() {
        if (shape.length != 3) {
            throw new IllegalArgumentException("swapFirstTwoAxes needs a rank-3 tensor, got " + shapeString());
        }
        int a = shape[0], b = shape[1], c = shape[2];
        float[] out = new float[data.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(data, (i * b + j) * c, out, (j * a + i) * c, c);
            }
        }
        return new Tensor(out, new int[] {b, a, c});
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return "Tensor" + shapeString();
    }
}
