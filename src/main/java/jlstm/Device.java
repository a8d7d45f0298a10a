package jlstm;

import java.util.Locale;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

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
    public enum Kind {
        /** CUDA when usable, else the CPU. */
        AUTO,
        /** The CPU engine (native kernels when the machine has them, else pure Java). */
        CPU,
        /** A GPU through JCuda. */
        CUDA
    }

    /** CUDA (GPU 0) when the GPU probe passes, otherwise the CPU (the reason is logged once). */
    public static final Device AUTO = new Device(Kind.AUTO, 0);
    /** The pure-Java engine: always available, the reference for every other backend. */
    public static final Device CPU = new Device(Kind.CPU, 0);
    /** The JCuda engine on GPU 0; fails with the probe's reason when no usable GPU is present. */
    public static final Device CUDA = new Device(Kind.CUDA, 0);

    /** The kind (serialized). */
    private final Kind kind;
    /** The GPU ordinal of a CUDA device, else 0 (serialized). */
    private final int gpu;

    private Device(Kind kind, int gpu) {
        this.kind = kind;
        this.gpu = gpu;
    }

    /**
     * The JCuda engine on one GPU.
     *
     * @param ordinal the GPU's index in the CUDA driver's order (after {@code CUDA_VISIBLE_DEVICES}), ≥ 0
     * @return {@link #CUDA} for 0, else a device for that GPU
     * @throws IllegalArgumentException if {@code ordinal} is negative
     */
    public static Device cuda(int ordinal) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("a GPU ordinal is ≥ 0, got " + ordinal);
        }
        return ordinal == 0 ? CUDA : new Device(Kind.CUDA, ordinal);
    }

    /**
     * A deserialized AUTO, CPU or CUDA is the constant itself, so that {@code ==} keeps working.
     *
     * @return the constant, or an equal device for GPU n &gt; 0
     */
    private Object readResolve() {
        return switch (kind) {
            case AUTO -> AUTO;
            case CPU -> CPU;
            case CUDA -> cuda(gpu);
        };
    }

    /**
     * Parses a device name, as the command line's {@code --device} takes it.
     *
     * @param name {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N} (case-insensitive,
     *             surrounding blanks ignored)
     * @return the device
     * @throws IllegalArgumentException if the name is none of those (the message lists them)
     * @throws NullPointerException     if {@code name} is null
     */
    public static Device parse(String name) {
        Objects.requireNonNull(name, "name");
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

    /**
     * The kind of device.
     *
     * @return AUTO, CPU or CUDA
     */
    public Kind kind() {
        return kind;
    }

    /**
     * The GPU of a CUDA device.
     *
     * @return the GPU ordinal (0 for AUTO and CPU)
     */
    public int ordinal() {
        return gpu;
    }

    /**
     * The device's name, as {@link #parse} reads it.
     *
     * @return {@code auto}, {@code cpu}, {@code cuda} (GPU 0) or {@code cuda:N}
     */
    public String label() {
        return kind == Kind.CUDA && gpu != 0 ? "cuda:" + gpu : kind.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public boolean equals(@Nullable Object other) {
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
