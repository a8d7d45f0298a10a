package jlstm;

import java.util.Locale;

/**
 * How the matrix products of an LSTM layer are computed (the GPU's tensor-core modes). Storage,
 * biases, activations and the cell state are float32 in every mode; so are the master weights and
 * gradients when training. Each mode has its own accuracy contract (docs/PRECISION.md).
 *
 * <p>Only the CUDA engine offers TF32 and BF16; the CPU engine refuses them with a clear error.
 */
public enum Precision {
    /** Full float32 products: the default, and the 1e-4 contract of every engine. */
    FP32,
    /**
     * TF32 tensor-core products: both operands of every product rounded to TF32 (8-bit exponent,
     * 10-bit mantissa; to nearest, ties away from zero), sums in float32.
     */
    TF32,
    /**
     * BF16 tensor-core products: both operands of every product rounded to bfloat16 (8-bit
     * exponent, 7-bit mantissa; to nearest, ties to even), sums in float32.
     */
    BF16;

    /** System property selecting the precision of layers opened without an explicit one. */
    public static final String PROPERTY = "jlstm.precision";

    /** The name used on the command line and in {@value #PROPERTY}: fp32, tf32 or bf16. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses fp32, tf32 or bf16 (any case).
     *
     * @param what where the value came from, for the error message (e.g. "--precision")
     * @throws IllegalArgumentException naming {@code what} and the accepted values
     */
    public static Precision parse(String value, String what) {
        if (value != null) {
            for (Precision p : values()) {
                if (p.label().equals(value.trim().toLowerCase(Locale.ROOT))) {
                    return p;
                }
            }
        }
        throw new IllegalArgumentException(what + " " + value + ": expected fp32, tf32 or bf16");
    }

    /** The precision {@value #PROPERTY} asks for, FP32 when unset. */
    public static Precision fromProperty() {
        String value = System.getProperty(PROPERTY);
        return value == null || value.isBlank() ? FP32 : parse(value, "-D" + PROPERTY + "=");
    }
}
