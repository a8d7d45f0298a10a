package jlstm.io;

/**
 * The element types of the safetensors format. Every one of them is read (so that a file's
 * offsets and sizes can be checked and tensors that are not needed can be skipped); the float
 * types convert to float32 ({@link SafetensorsEntry#toTensor()}), the integer types I32 and I64 to
 * longs, and the rest are only carried. The writer writes F32, I32 and I64.
 */
public enum DType {
    BOOL(1, Kind.OTHER), U8(1, Kind.INTEGER), I8(1, Kind.INTEGER), F8_E5M2(1, Kind.OTHER), F8_E4M3(1, Kind.OTHER),
    I16(2, Kind.INTEGER), U16(2, Kind.INTEGER), F16(2, Kind.FLOAT), BF16(2, Kind.FLOAT),
    I32(4, Kind.INTEGER), U32(4, Kind.INTEGER), F32(4, Kind.FLOAT),
    I64(8, Kind.INTEGER), U64(8, Kind.INTEGER), F64(8, Kind.FLOAT);

    /** What a dtype's values are, as far as this library is concerned. */
    enum Kind { FLOAT, INTEGER, OTHER }

    private final int bytes;
    private final Kind kind;

    DType(int bytes, Kind kind) {
        this.bytes = bytes;
        this.kind = kind;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** Whether the values convert to float32: F16, BF16 and F32 exactly, F64 rounded to nearest. */
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
