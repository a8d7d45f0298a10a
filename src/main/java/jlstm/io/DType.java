package jlstm.io;

/** The safetensors element types this project reads and writes. */
public enum DType {
    F32(4), I32(4), I64(8);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The dtype of a header's {@code dtype} string, or null when it is not one of ours. */
    static DType parse(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}
