package jlstm.io;

/**
 * The element types of the safetensors format. Every one of them is read (so that a file's
 * offsets and sizes can be checked and tensors that are not needed can be skipped); the float
 * types convert to float32 ({@link SafetensorsEntry#toTensor()}), the integer types I32 and I64 to
 * longs, and the rest are only carried. The writer writes F32, I32 and I64.
 */
public enum DType {
    /** Boolean, one byte (carried only). */
    BOOL(1, Kind.OTHER),
    /** Unsigned 8-bit integer. */
    U8(1, Kind.INTEGER),
    /** Signed 8-bit integer. */
    I8(1, Kind.INTEGER),
    /** 8-bit float, 5 exponent and 2 mantissa bits (carried only). */
    F8_E5M2(1, Kind.OTHER),
    /** 8-bit float, 4 exponent and 3 mantissa bits (carried only). */
    F8_E4M3(1, Kind.OTHER),
    /** Signed 16-bit integer. */
    I16(2, Kind.INTEGER),
    /** Unsigned 16-bit integer. */
    U16(2, Kind.INTEGER),
    /** IEEE half precision; converts to float32 exactly. */
    F16(2, Kind.FLOAT),
    /** bfloat16 (float32's upper 16 bits); converts to float32 exactly. */
    BF16(2, Kind.FLOAT),
    /** Signed 32-bit integer (read as long, written). */
    I32(4, Kind.INTEGER),
    /** Unsigned 32-bit integer. */
    U32(4, Kind.INTEGER),
    /** IEEE single precision, the library's own type (read and written). */
    F32(4, Kind.FLOAT),
    /** Signed 64-bit integer (read as long, written). */
    I64(8, Kind.INTEGER),
    /** Unsigned 64-bit integer. */
    U64(8, Kind.INTEGER),
    /** IEEE double precision; converts to float32 rounded to nearest. */
    F64(8, Kind.FLOAT);

    /** What a dtype's values are, as far as this library is concerned. */
    enum Kind { FLOAT, INTEGER, OTHER }

    private final int bytes;
    private final Kind kind;

    DType(int bytes, Kind kind) {
        this.bytes = bytes;
        this.kind = kind;
    }

    /**
     * The size of one element.
     *
     * @return bytes per element: 1, 2, 4 or 8
     */
    public int bytes() {
        return bytes;
    }

    /**
     * Whether the values convert to float32 ({@link SafetensorsEntry#toTensor()}).
     *
     * @return true for F16, BF16 and F32 (exactly) and F64 (rounded to nearest)
     */
    public boolean isFloat() {
        return kind == Kind.FLOAT;
    }

    /** The dtype of a header's {@code dtype} string, or null when it is not a safetensors dtype. */
    static DType parse(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}
