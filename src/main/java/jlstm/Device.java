package jlstm;

import java.util.Locale;
import java.util.Objects;

/**
 * Where an {@link LstmLayer} runs: {@link #AUTO}, {@link #CPU}, {@link #CUDA} (GPU 0) or
 * {@link #cuda(int) cuda(n)} (GPU n, in the CUDA driver's order, which {@code CUDA_VISIBLE_DEVICES}
 * sets). Immutable; equal when kind and GPU are equal. The three constants read as the enum
 * constants they once were ({@code Device.CUDA}, {@code == Device.CPU}), also after Java
 * serialization (a Spark task's options carry a device), which resolves them to the constants.
 */
public final class Device implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    /** The kinds of device. */
    public enum Kind { AUTO, CPU, CUDA }

    /** CUDA (GPU 0) when the GPU probe passes, otherwise the CPU (the reason is logged once). */
    public static final Device AUTO = new Device(Kind.AUTO, 0);
    /** The pure-Java engine: always available, the reference for every other backend. */
    public static final Device CPU = new Device(Kind.CPU, 0);
    /** The JCuda engine on GPU 0; fails with the probe's reason when no usable GPU is present. */
    public static final Device CUDA = new Device(Kind.CUDA, 0);

    private final Kind kind;
    private final int gpu;

    private Device(Kind kind, int gpu) {
        this.kind = kind;
        this.gpu = gpu;
    }

    /** The JCuda engine on GPU {@code ordinal} (0 is {@link #CUDA}). */
    public static Device cuda(int ordinal) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("a GPU ordinal is ≥ 0, got " + ordinal);
        }
        return ordinal == 0 ? CUDA : new Device(Kind.CUDA, ordinal);
    }

    /** A deserialized AUTO, CPU or CUDA is the constant itself, so that {@code ==} keeps working. */
    private Object readResolve() {
        return switch (kind) {
            case AUTO -> AUTO;
            case CPU -> CPU;
            case CUDA -> cuda(gpu);
        };
    }

    /** Parses {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N} (case-insensitive). */
    public static Device parse(String name) {
        String text = name.trim().toLowerCase(Locale.ROOT);
        switch (text) {
            case "auto":
                return AUTO;
            case "cpu":
                return CPU;
            case "cuda":
                return CUDA;
            default:
                break;
        }
        if (text.startsWith("cuda:")) {
            try {
                int ordinal = Integer.parseInt(text.substring("cuda:".length()));
                if (ordinal >= 0) {
                    return cuda(ordinal);
                }
            } catch (NumberFormatException e) {
                // falls through to the error below
            }
        }
        throw new IllegalArgumentException("unknown device '" + name + "' (expected auto, cpu, cuda or cuda:N with "
                + "N a GPU ordinal ≥ 0)");
    }

    /** AUTO, CPU or CUDA. */
    public Kind kind() {
        return kind;
    }

    /** The GPU ordinal of a CUDA device (0 for the others). */
    public int ordinal() {
        return gpu;
    }

    /** {@code auto}, {@code cpu}, {@code cuda} (GPU 0) or {@code cuda:N}: what {@link #parse} reads. */
    public String label() {
        return kind == Kind.CUDA && gpu != 0 ? "cuda:" + gpu : kind.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Device d && d.kind == kind && d.gpu == gpu;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, gpu);
    }

    /** The constant's name for AUTO, CPU and CUDA (as the enum printed them), else {@code CUDA:N}. */
    @Override
    public String toString() {
        return label().toUpperCase(Locale.ROOT);
    }
}
