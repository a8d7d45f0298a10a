package jlstm;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * A float32 array with a shape, row-major (rightmost index fastest).
 *
 * <p>A tensor never copies what it is given; it gives a shape to one of three kinds of storage:
 * <ul>
 *   <li>a whole {@code float[]} ({@link #of(float[], int...)}, {@link #zeros(int...)},
 *       {@link #copy()}): the tensor is <em>dense</em>, and {@link #data()} returns that array
 *       itself, so writes through it change the tensor (optimizers update parameters this way);</li>
 *   <li>a slice of a larger {@code float[]} ({@link #view(float[], int, int...)}): elements
 *       {@code [offset, offset + numel)} of the array;</li>
 *   <li>the elements of a {@link FloatBuffer} from its position ({@link #of(FloatBuffer, int...)}),
 *       heap or direct.</li>
 * </ul>
 * Every kind aliases its storage: a change to the array or buffer is seen by the tensor, and the
 * tensor's writes reach the storage. A view over a slice or a buffer is not dense (unless it
 * happens to cover a whole array from index 0): {@link #data()} refuses it, and {@link #dense()}
 * gives a dense copy. The engines read whole arrays, so a layer, cell, head or loss given a
 * non-dense tensor copies it once ({@code numel} floats) when the call starts; a dense tensor is
 * read in place.
 *
 * <p>Not thread-safe for writes: a tensor that one thread writes must not be read by another
 * without synchronisation. Any number of threads may read a tensor that nobody writes.
 */
public final class Tensor {
    /** The backing array, or null for a tensor over a buffer without an accessible array. */
    private final float @Nullable [] array;
    /** Index of element 0 in {@link #array}. */
    private final int offset;
    /** The buffer of a view over a direct or read-only buffer: position 0, limit numel; else null. */
    private final @Nullable FloatBuffer buffer;
    private final int[] shape;
    private final int numel;

    private Tensor(float @Nullable [] array, int offset, @Nullable FloatBuffer buffer, int[] shape, int numel) {
        this.array = array;
        this.offset = offset;
        this.buffer = buffer;
        this.shape = shape;
        this.numel = numel;
    }

    private static Tensor dense(float[] data, int[] shape) {
        return new Tensor(data, 0, null, shape, data.length);
    }

    /**
     * Wraps a whole array (not copied) with a shape: the tensor is dense and {@link #data()} is
     * {@code data} itself.
     *
     * @param data  the elements, row-major; its length must be the shape's element count
     * @param shape the dimensions, each non-negative (none: a scalar of one element)
     * @return a dense tensor over {@code data}
     * @throws IllegalArgumentException if a dimension is negative or the counts differ
     * @throws NullPointerException     if {@code data} or {@code shape} is null
     */
    public static Tensor of(float[] data, int... shape) {
        Objects.requireNonNull(data, "data");
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but the data has " + data.length);
        }
        return dense(data, shape.clone());
    }

    /**
     * A view over a slice of an array, not a copy: element {@code k} of the tensor (row-major) is
     * {@code data[offset + k]}, for {@code k < numel(shape)}. Writes through the tensor reach the
     * array and the reverse. The view is dense only when {@code offset == 0} and the slice is the
     * whole array; otherwise {@link #data()} refuses it and the library copies it once when a call
     * reads it.
     *
     * @param data   the array that holds the elements
     * @param offset index in {@code data} of the tensor's first element, {@code >= 0}
     * @param shape  the dimensions, each non-negative
     * @return a tensor over {@code data[offset, offset + numel)}
     * @throws IllegalArgumentException if {@code offset} is negative, a dimension is negative, or
     *                                  the slice does not fit the array; nothing is changed then
     * @throws NullPointerException     if {@code data} or {@code shape} is null
     */
    public static Tensor view(float[] data, int offset, int... shape) {
        Objects.requireNonNull(data, "data");
        long n = numel(shape);
        if (offset < 0 || offset + n > data.length) {
            throw new IllegalArgumentException("a view of shape " + Arrays.toString(shape) + " (" + n
                    + " elements) at offset " + offset + " does not fit an array of " + data.length
                    + " elements: it needs 0 <= offset and offset + " + n + " <= " + data.length);
        }
        return new Tensor(data, offset, null, shape.clone(), (int) n);
    }

    /**
     * A view over the elements of a buffer from its position, not a copy: element {@code k} of the
     * tensor is {@code buffer.get(buffer.position() + k)}. Later changes of the buffer's position
     * or limit do not move the view; changes of its contents are seen by the tensor, and the
     * tensor's writes reach the buffer (unless it is read-only: then writing fails with
     * {@link java.nio.ReadOnlyBufferException}). A heap buffer is viewed through its array
     * ({@link #data()} works when the view covers that whole array); a direct or read-only buffer
     * is always copied once when a call reads the tensor.
     *
     * @param buffer the elements, from {@code position()}; at least {@code numel(shape)} of them
     *               must remain (more may remain: the rest is not part of the tensor)
     * @param shape  the dimensions, each non-negative
     * @return a tensor over {@code numel(shape)} elements of {@code buffer}
     * @throws IllegalArgumentException if a dimension is negative or fewer elements remain
     * @throws NullPointerException     if {@code buffer} or {@code shape} is null
     */
    public static Tensor of(FloatBuffer buffer, int... shape) {
        Objects.requireNonNull(buffer, "buffer");
        long n = numel(shape);
        if (n > buffer.remaining()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but the buffer has " + buffer.remaining() + " remaining (position "
                    + buffer.position() + ", limit " + buffer.limit() + ")");
        }
        if (buffer.hasArray()) {
            return view(buffer.array(), buffer.arrayOffset() + buffer.position(), shape);
        }
        FloatBuffer own = buffer.slice(buffer.position(), (int) n);
        return new Tensor(null, 0, own, shape.clone(), (int) n);
    }

    /**
     * A dense tensor of zeros.
     *
     * @param shape the dimensions, each non-negative
     * @return a new tensor over a new zero-filled array
     * @throws IllegalArgumentException if a dimension is negative or the count exceeds one array
     * @throws NullPointerException     if {@code shape} is null
     */
    public static Tensor zeros(int... shape) {
        long n = numel(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large for one array");
        }
        return dense(new float[(int) n], shape.clone());
    }

    /**
     * The number of elements of a shape: the product of its dimensions (1 for no dimensions).
     *
     * @param shape the dimensions
     * @return the product, computed in {@code long}
     * @throws IllegalArgumentException if a dimension is negative
     * @throws NullPointerException     if {@code shape} is null
     */
    public static long numel(int... shape) {
        Objects.requireNonNull(shape, "shape");
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        return n;
    }

    /**
     * Whether {@link #data()} is available: the tensor's elements are exactly one whole array, from
     * index 0 (made by {@link #of(float[], int...)}, {@link #zeros}, {@link #copy()}, or a view
     * that covers a whole array).
     *
     * @return true for a dense tensor
     */
    public boolean isDense() {
        return array != null && offset == 0 && array.length == numel;
    }

    /**
     * The flat data of a dense tensor, row-major: the backing array itself, so writes change the
     * tensor. For a view over a slice or a buffer use {@link #dense()} (a copy) or
     * {@link #toArray()}.
     *
     * @return the backing array, of length {@link #numel()}
     * @throws IllegalStateException if the tensor is not {@linkplain #isDense() dense}
     */
    public float[] data() {
        if (!isDense()) {
            throw new IllegalStateException("this tensor " + shapeString() + " is a view over "
                    + (array == null ? "a buffer" : "elements [" + offset + ", " + (offset + numel) + ") of an array of "
                    + array.length) + ", not a whole array: read it with toArray(), or dense() for a dense copy");
        }
        return array;
    }

    /**
     * This tensor when it is {@linkplain #isDense() dense}, else a dense copy of its elements (same
     * shape). The library calls this on the tensors it reads, so a view costs one copy per call.
     *
     * @return {@code this}, or a new dense tensor that does not alias the view's storage
     */
    public Tensor dense() {
        return isDense() ? this : dense(toArray(), shape.clone());
    }

    /**
     * The elements as a new array, row-major (always a copy, whatever the storage).
     *
     * @return a new array of length {@link #numel()}
     */
    public float[] toArray() {
        float[] out = new float[numel];
        if (array != null) {
            System.arraycopy(array, offset, out, 0, numel);
        } else {
            Objects.requireNonNull(buffer).get(0, out, 0, numel);
        }
        return out;
    }

    /**
     * One element by its flat, row-major index.
     *
     * @param index in [0, {@link #numel()})
     * @return the element
     * @throws IndexOutOfBoundsException if {@code index} is outside the tensor
     */
    public float get(int index) {
        Objects.checkIndex(index, numel);
        return array != null ? array[offset + index] : Objects.requireNonNull(buffer).get(index);
    }

    /**
     * Writes one element by its flat, row-major index (through to the array or buffer viewed).
     *
     * @param index in [0, {@link #numel()})
     * @param value the new value
     * @throws IndexOutOfBoundsException            if {@code index} is outside the tensor
     * @throws java.nio.ReadOnlyBufferException if the tensor views a read-only buffer
     */
    public void set(int index, float value) {
        Objects.checkIndex(index, numel);
        if (array != null) {
            array[offset + index] = value;
        } else {
            Objects.requireNonNull(buffer).put(index, value);
        }
    }

    /**
     * The shape, as a copy (changing it does not change the tensor).
     *
     * @return a new array of the dimensions, outermost first
     */
    public int[] shape() {
        return shape.clone();
    }

    /**
     * The number of dimensions.
     *
     * @return the length of the shape (0 for a scalar)
     */
    public int rank() {
        return shape.length;
    }

    /**
     * One dimension.
     *
     * @param axis in [0, {@link #rank()})
     * @return the size of that axis
     * @throws ArrayIndexOutOfBoundsException if {@code axis} is outside the shape
     */
    public int dim(int axis) {
        return shape[axis];
    }

    /**
     * The number of elements, the product of the shape.
     *
     * @return the element count
     */
    public int numel() {
        return numel;
    }

    /**
     * Whether this tensor has exactly the given shape.
     *
     * @param expected the dimensions to compare with
     * @return true when rank and every dimension agree
     */
    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /**
     * The same elements seen with another shape of equal element count: a tensor over the same
     * storage (not a copy), dense when this one is.
     *
     * @param newShape the new dimensions
     * @return a tensor sharing this one's storage
     * @throws IllegalArgumentException if the element counts differ or a dimension is negative
     */
    public Tensor reshape(int... newShape) {
        long n = numel(newShape);
        if (n != numel) {
            throw new IllegalArgumentException("cannot reshape " + shapeString() + " (" + numel + " elements) to "
                    + Arrays.toString(newShape) + " (" + n + " elements)");
        }
        return new Tensor(array, offset, buffer, newShape.clone(), numel);
    }

    /**
     * A deep copy: a dense tensor over a new array, whatever this one's storage.
     *
     * @return the copy
     */
    public Tensor copy() {
        return dense(toArray(), shape.clone());
    }

    /**
     * Swaps the first two axes of a rank-3 tensor: [A, B, C] → [B, A, C], as a new dense tensor
     * (time-major ↔ batch-first).
     *
     * @return the transposed copy
     * @throws IllegalArgumentException if the rank is not 3
     */
    public Tensor swapFirstTwoAxes() {
        if (shape.length != 3) {
            throw new IllegalArgumentException("swapFirstTwoAxes needs a rank-3 tensor, got " + shapeString());
        }
        int a = shape[0], b = shape[1], c = shape[2];
        float[] data = dense().data();
        float[] out = new float[numel];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(data, (i * b + j) * c, out, (j * a + i) * c, c);
            }
        }
        return dense(out, new int[] {b, a, c});
    }

    /**
     * The shape as text, e.g. {@code [20, 4, 8]}, for messages.
     *
     * @return the dimensions in brackets
     */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return "Tensor" + shapeString() + (isDense() ? "" : " (view)");
    }
}
