package jlstm;

import java.util.Locale;

/** Where an {@link LstmLayer} runs. */
public enum Device {
    /** CUDA when the GPU probe passes, otherwise the CPU (the reason is logged once). */
    AUTO,
    /** The pure-Java engine: always available, the reference for every other backend. */
    CPU,
    /** The JCuda engine; fails with the probe's reason when no usable GPU is present. */
    CUDA;

    /** Parses {@code auto}, {@code cpu} or {@code cuda} (case-insensitive). */
    public static Device parse(String name) {
        for (Device d : values()) {
            if (d.name().equalsIgnoreCase(name.trim())) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown device '" + name + "' (expected auto, cpu or cuda)");
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
