package jlstm.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import jlstm.Tensor;

/**
 * One tensor of a safetensors file, as stored: dtype, shape and its little-endian bytes.
 *
 * @param name  the tensor's name in the header
 * @param dtype element type
 * @param shape dimensions, row-major
 * @param bytes exactly numel(shape) · dtype.bytes() bytes, little-endian
 */
public record SafetensorsEntry(String name, DType dtype, int[] shape, byte[] bytes) {

    /** The values as a float32 tensor; only F32 entries convert (no silent narrowing). */
    public Tensor toTensor() {
        if (dtype != DType.F32) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + dtype + ", expected F32");
        }
        float[] v = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return Tensor.of(v, shape);
    }

    /** The values of an integer entry (I32 or I64) as longs. */
    public long[] toLongs() {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long[] out;
        switch (dtype) {
            case I32 -> {
                out = new long[bytes.length / 4];
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.getInt();
                }
            }
            case I64 -> {
                out = new long[bytes.length / 8];
                b.asLongBuffer().get(out);
            }
            default -> throw new IllegalArgumentException("tensor '" + name + "' is " + dtype + ", expected I32 or I64");
        }
        return out;
    }

    /** An F32 entry holding a tensor's values. */
    public static SafetensorsEntry of(String name, Tensor t) {
        ByteBuffer b = ByteBuffer.allocate(t.numel() * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(t.data());
        return new SafetensorsEntry(name, DType.F32, t.shape(), b.array());
    }

    @Override
    public String toString() {
        return name + ":" + dtype + Arrays.toString(shape);
    }
}
