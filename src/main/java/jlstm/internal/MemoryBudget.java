package jlstm.internal;

import java.util.Locale;

import jlstm.InsufficientMemoryException;

/**
 * Checks an estimate of the heap a step needs against what the JVM can still have, before the
 * allocation, so that a shape too large for the heap ends in a clear message (how much, and the
 * {@code -Xmx} that would do) instead of an {@link OutOfMemoryError} after minutes of work.
 *
 * <p>"Can still have" is the maximum heap ({@code -Xmx}) minus what is in use. Garbage counts as
 * in use until collected, so when the estimate does not fit, one full collection is requested and
 * the check repeated before giving up. Estimates below {@value #SMALL_BYTES} bytes are not checked.
 */
public final class MemoryBudget {
    /** Below this an allocation is too small to be worth a check. */
    public static final long SMALL_BYTES = 16L << 20;

    private MemoryBudget() {
    }

    /**
     * Throws when {@code bytes} more cannot fit the heap.
     *
     * @param bytes the estimate
     * @param what  what needs it, for the message ("run: T=…, B=… forward pass")
     * @throws InsufficientMemoryException when it does not fit, even after a collection
     */
    public static void require(long bytes, String what) {
        if (bytes < SMALL_BYTES) {
            return;
        }
        long available = available();
        if (bytes <= available) {
            return;
        }
        System.gc(); // garbage counts as used until collected; give it one chance
        available = available();
        if (bytes <= available) {
            return;
        }
        long max = Runtime.getRuntime().maxMemory();
        long inUse = max - available;
        long suggested = roundUpGiB(inUse + bytes + bytes / 4);
        throw new InsufficientMemoryException(String.format(Locale.ROOT,
                "not enough memory: %s needs about %s, but the Java heap can give only %s more (maximum heap %s);"
                        + " give Java more memory, e.g. java -Xmx%dg …", what, human(bytes), human(available),
                human(max), suggested), bytes, available);
    }

    /**
     * Throws when {@code bytes} more of native memory (outside the Java heap: the CPU kernels'
     * workspace) cannot fit what the machine has available ({@code MemAvailable} of
     * /proc/meminfo); nothing is checked where that is unknown. Nothing has been allocated when it
     * throws.
     *
     * @param bytes the estimate
     * @param what  what needs it, for the message
     * @throws InsufficientMemoryException when it does not fit
     */
    public static void requireNative(long bytes, String what) {
        requireNative(bytes, what, machineAvailable());
    }

    /** {@link #requireNative(long, String)} against a given amount of available memory. */
    public static void requireNative(long bytes, String what, long available) {
        if (bytes < SMALL_BYTES || bytes <= available) {
            return;
        }
        throw new InsufficientMemoryException(String.format(Locale.ROOT,
                "not enough memory: %s needs about %s of native memory (outside the Java heap), but the machine"
                        + " has only %s available; use a smaller batch or shorter sequences, or free memory",
                what, human(bytes), human(available)), bytes, available);
    }

    /**
     * Throws when {@code bytes} of GPU memory cannot fit what the device has free; nothing has been
     * allocated when it throws.
     *
     * @param bytes     the estimate
     * @param what      what needs it, for the message
     * @param available the device's free memory (including what the caller would free first)
     * @throws InsufficientMemoryException when it does not fit
     */
    public static void requireDevice(long bytes, String what, long available) {
        if (bytes <= available) {
            return;
        }
        throw new InsufficientMemoryException(String.format(Locale.ROOT,
                "not enough GPU memory: %s needs about %s of device memory, but the GPU has only %s free; use a"
                        + " smaller batch or shorter sequences, a GPU with more memory, or the CPU (--device cpu)",
                what, human(bytes), human(available)), bytes, available);
    }

    /** The machine's available memory (Linux {@code MemAvailable}), or Long.MAX_VALUE where unknown. */
    public static long machineAvailable() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    String[] parts = line.trim().split("\\s+");
                    return Long.parseLong(parts[1]) * 1024; // kB
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux, or an unexpected format: no check
        }
        return Long.MAX_VALUE;
    }

    /** Bytes the heap can still grow into: maximum minus used. */
    public static long available() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /** 1.5 GiB, 312 MiB, 4.0 KiB. */
    public static String human(long bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " bytes" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static long roundUpGiB(long bytes) {
        return Math.max(1, (bytes + (1L << 30) - 1) >> 30);
    }
}
