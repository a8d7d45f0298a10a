package jlstm.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;

import jlstm.internal.MemoryBudget;
import jlstm.Tensor;

/**
 * One tensor of a safetensors file: dtype, shape and its little-endian bytes. The bytes of a
 * tensor read from a file are a view of the memory-mapped file (nothing is copied until the
 * values are asked for), in one or more chunks, so a tensor of more than 2 GiB of bytes is fine
 * as long as its values fit one Java array. An entry made from a tensor ({@link #of}) shares its
 * values and converts them to bytes only while it is written, a piece at a time.
 */
public final class SafetensorsEntry {
    private final String name;
    private final DType dtype;
    private final int[] shape;
    private final ByteBuffer[] chunks; // read-only, little-endian, position 0; each a multiple of 8 bytes but the last
    /** The values of an entry made by {@link #of} (then chunks is empty): converted only as written. */
    private final float[] values;
    private final long byteSize;

    /**
     * An entry holding bytes in memory.
     *
     * @param name  the tensor's name in the header
     * @param dtype element type
     * @param shape dimensions, row-major
     * @param bytes exactly numel(shape) · dtype.bytes() bytes, little-endian (kept, not copied)
     */
    public SafetensorsEntry(String name, DType dtype, int[] shape, byte[] bytes) {
        this(name, dtype, shape, new ByteBuffer[] {ByteBuffer.wrap(bytes)});
        long expected = Tensor.numel(shape) * dtype.bytes();
        if (bytes.length != expected) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + expected + " bytes, got " + bytes.length);
        }
    }

    /** An entry over buffers (a mapped file's chunks). */
    SafetensorsEntry(String name, DType dtype, int[] shape, ByteBuffer[] chunks) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.values = null;
        this.chunks = new ByteBuffer[chunks.length];
        long size = 0;
        for (int i = 0; i < chunks.length; i++) {
            this.chunks[i] = chunks[i].asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
            size += chunks[i].remaining();
        }
        this.byteSize = size;
    }

    /** An F32 entry over a tensor's values, which it shares (no copy; see {@link #of}). */
    private SafetensorsEntry(String name, Tensor t) {
        this.name = name;
        this.dtype = DType.F32;
        this.shape = t.shape();
        this.values = t.dense().data();
        this.chunks = new ByteBuffer[0];
        this.byteSize = (long) values.length * Float.BYTES; // long: 2 GiB of bytes is only 2²⁹ floats
    }

    /**
     * An F32 entry over a tensor's values, without a copy: they are converted to little-endian
     * bytes a piece at a time as the entry is written, so writing a file of any size costs no
     * second copy of its tensors (and no 2 GiB limit per tensor). The tensor must not change until
     * the entry is written. A view over a slice or a buffer is copied once, here.
     *
     * @param name the tensor's name in the header
     * @param t    the values, float32
     * @return an F32 entry of the tensor's shape
     * @throws NullPointerException if an argument is null
     */
    public static SafetensorsEntry of(String name, Tensor t) {
        java.util.Objects.requireNonNull(name, "name");
        java.util.Objects.requireNonNull(t, "t");
        return new SafetensorsEntry(name, t);
    }

    /**
     * The tensor's name in the header.
     *
     * @return the name, e.g. {@code weight_ih_l0}
     */
    public String name() {
        return name;
    }

    /**
     * The element type.
     *
     * @return the dtype as stored
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * The dimensions, row-major.
     *
     * @return a copy of the shape
     */
    public int[] shape() {
        return shape.clone();
    }

    /**
     * The number of elements.
     *
     * @return the product of the shape
     */
    public long numel() {
        return Tensor.numel(shape);
    }

    /**
     * The size of the data.
     *
     * @return bytes: numel · dtype size
     */
    public long byteSize() {
        return byteSize;
    }

    /**
     * A copy of the raw little-endian bytes (at most 2 GiB).
     *
     * @return a new array of {@link #byteSize()} bytes
     * @throws IllegalArgumentException if the data is larger than one array holds
     */
    public byte[] bytes() {
        if (byteSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + byteSize + " bytes, too many for one array");
        }
        byte[] out = new byte[(int) byteSize];
        if (values != null) {
            ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
            return out;
        }
        int at = 0;
        for (ByteBuffer c : chunks) {
            ByteBuffer view = c.duplicate();
            int n = view.remaining();
            view.get(out, at, n);
            at += n;
        }
        return out;
    }

    /**
     * The values as a float32 tensor: F32 as stored, F16 and BF16 widened exactly, F64 rounded to
     * the nearest float. Other dtypes are refused (no silent reinterpretation of integers).
     *
     * @return a new dense tensor of the entry's shape (a copy: it does not alias the file)
     * @throws IllegalArgumentException for a non-float dtype or more values than one array holds
     * @throws jlstm.InsufficientMemoryException when the heap cannot hold the values
     */
    public Tensor toTensor() {
        if (!dtype.isFloat()) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + dtype
                    + ", expected a float type (F32, or F16, BF16, F64 converted to F32)");
        }
        long numel = numel();
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + numel + " values, more than one Java array holds");
        }
        MemoryBudget.require(numel * Float.BYTES, "tensor '" + name + "' (" + numel + " float32 values)");
        if (values != null) {
            return Tensor.of(values.clone(), shape);
        }
        float[] v = new float[(int) numel];
        int at = 0;
        for (ByteBuffer c : chunks) {
            ByteBuffer b = c.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            int n = b.remaining() / dtype.bytes();
            switch (dtype) {
                case F32 -> b.asFloatBuffer().get(v, at, n);
                case F64 -> {
                    for (int i = 0; i < n; i++) {
                        v[at + i] = (float) b.getDouble();
                    }
                }
                case BF16 -> {
                    for (int i = 0; i < n; i++) {
                        v[at + i] = Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
                    }
                }
                case F16 -> {
                    for (int i = 0; i < n; i++) {
                        v[at + i] = halfToFloat(b.getShort());
                    }
                }
                default -> throw new IllegalStateException(dtype + " is not a float type");
            }
            at += n;
        }
        return Tensor.of(v, shape);
    }

    /** IEEE 754 binary16 → binary32, exactly (normal, subnormal, zero, infinity, NaN with its payload). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) { // infinity or NaN
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Zero or subnormal: mantissa · 2^-24, exact in float32.
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /**
     * The values of an integer entry (I8 … I64, U8 … U64; U64 above 2⁶³ − 1 wraps) as longs.
     *
     * @return a new array of {@link #numel()} values
     * @throws IllegalArgumentException for a float, BOOL or F8 dtype, or more values than one array holds
     * @throws jlstm.InsufficientMemoryException when the heap cannot hold the values
     */
    public long[] toLongs() {
        if (dtype.isFloat() || dtype == DType.BOOL || dtype == DType.F8_E4M3 || dtype == DType.F8_E5M2) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + dtype + ", expected an integer type");
        }
        long numel = numel();
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + numel + " values, more than one Java array holds");
        }
        MemoryBudget.require(numel * Long.BYTES, "tensor '" + name + "' (" + numel + " integers)");
        long[] out = new long[(int) numel];
        int at = 0;
        for (ByteBuffer c : chunks) {
            ByteBuffer b = c.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            int n = b.remaining() / dtype.bytes();
            for (int i = 0; i < n; i++) {
                out[at + i] = switch (dtype) {
                    case I8 -> b.get();
                    case U8 -> b.get() & 0xffL;
                    case I16 -> b.getShort();
                    case U16 -> b.getShort() & 0xffffL;
                    case I32 -> b.getInt();
                    case U32 -> b.getInt() & 0xffffffffL;
                    default -> b.getLong(); // I64, U64
                };
            }
            at += n;
        }
        return out;
    }

    /** Values converted per piece while writing an entry made by {@link #of}: 256 KiB of bytes. */
    static final int WRITE_PIECE_FLOATS = 1 << 16;

    /** Writes the raw bytes to a channel (an entry over a tensor: converted a piece at a time). */
    void writeTo(WritableByteChannel out) throws IOException {
        if (values != null) {
            ByteBuffer piece = ByteBuffer.allocate(Math.min(values.length, WRITE_PIECE_FLOATS) * Float.BYTES)
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (int at = 0; at < values.length; at += WRITE_PIECE_FLOATS) {
                int n = Math.min(WRITE_PIECE_FLOATS, values.length - at);
                piece.clear();
                piece.asFloatBuffer().put(values, at, n);
                piece.limit(n * Float.BYTES);
                while (piece.hasRemaining()) {
                    out.write(piece);
                }
            }
            return;
        }
        for (ByteBuffer c : chunks) {
            ByteBuffer view = c.duplicate();
            while (view.hasRemaining()) {
                out.write(view);
            }
        }
    }

    @Override
    public String toString() {
        return name + ":" + dtype + Arrays.toString(shape);
    }
}
