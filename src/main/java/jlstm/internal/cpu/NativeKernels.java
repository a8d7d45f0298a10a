package jlstm.internal.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

import jlstm.EngineOptions;

/**
 * The CPU engine's native kernels: {@code libjlstm_cpu.so}, built from {@code src/main/native}
 * with g++ when the jar is packaged and shipped inside it, loaded through JNI. One library holds
 * the kernels twice, for AVX-512 (16-float vectors) and for AVX2 + FMA (8-float vectors); cpuid
 * picks one at start-up. Nothing else is needed on the machine: no BLAS, no environment variable.
 *
 * <p>Choice: {@link EngineOptions#cpuKernels()} (system property {@value #PROPERTY}) = {@code auto}
 * (default: the widest ISA the CPU has, else pure Java), {@code avx512} or {@code avx2} (that ISA or
 * the CPU backend reports itself unavailable), or {@code java} (never). Whatever is chosen, {@code jlstm info} says so and why.
 *
 * <p>The methods below are the JNI entry points ({@code src/main/native/jlstm_cpu.cpp}); addresses
 * are native memory from {@link #allocate}; every layout is described there.
 */
final class NativeKernels {
    /** The property that chooses the kernels (named in messages). */
    static final String PROPERTY = EngineOptions.CPU_KERNELS;
    /** Where the build puts the library, as a classpath resource. */
    static final String RESOURCE = "jlstm/internal/cpu/linux-x86_64/libjlstm_cpu.so";

    /**
     * What the probe found.
     *
     * @param unitBlock   the kernels' vector width in floats (16: AVX-512, 8: AVX2), 0 when not usable
     * @param required    the property demanded native kernels (avx512 / avx2)
     * @param description a sentence for {@code info}: what runs, or why the pure-Java path does
     */
    record Status(int unitBlock, boolean required, String description) {
        boolean usable() {
            return unitBlock > 0;
        }

        String isa() {
            return isaName(unitBlock);
        }
    }

    /** The probe's result per choice, each probed once per process. */
    private static final java.util.Map<EngineOptions.CpuKernels, Status> STATUS =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static volatile String loadFailure; // null once loaded
    private static boolean loadTried;

    private NativeKernels() {
    }

    /** The kernels chosen by {@value #PROPERTY} ({@link EngineOptions#fromSystemProperties()}). */
    static Status status() {
        return status(EngineOptions.fromSystemProperties().cpuKernels());
    }

    /** The kernels a choice gives on this machine, probed once per process and choice. */
    static Status status(EngineOptions.CpuKernels choice) {
        Status s = STATUS.get(choice);
        if (s == null) {
            synchronized (NativeKernels.class) {
                s = STATUS.get(choice);
                if (s == null) {
                    s = probe(choice.name());
                    STATUS.put(choice, s);
                }
            }
        }
        return s;
    }

    /** The unit block of the kernels for an ISA name (avx512 or avx2) when this CPU runs them, else 0 (tests). */
    static int unitBlockFor(String isa) {
        if (load() != null) {
            return 0;
        }
        int level = isa.equals("avx512") ? 2 : isa.equals("avx2") ? 1 : 0;
        return level > 0 && cpuLevel() >= level ? (level == 2 ? 16 : 8) : 0;
    }

    /** Loads the library if needed; throws when it cannot be loaded (for code that was handed a unit block). */
    static void requireLoaded() {
        String failure = load();
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    static String isaName(int unitBlock) {
        return unitBlock == 16 ? "AVX-512" : unitBlock == 8 ? "AVX2+FMA" : "none";
    }

    static Status probe(String property) {
        String mode = property.trim().toLowerCase(Locale.ROOT);
        if (!mode.equals("auto") && !mode.equals("avx512") && !mode.equals("avx2") && !mode.equals("java")) {
            throw new IllegalArgumentException(PROPERTY + " must be auto, avx512, avx2 or java, got '" + property + "'");
        }
        if (mode.equals("java")) {
            return new Status(0, false, "pure Java (" + PROPERTY + "=java)");
        }
        boolean required = !mode.equals("auto");
        String failure = load();
        if (failure != null) {
            return new Status(0, required, "pure Java: " + failure + SLOWER);
        }
        int level = cpuLevel();
        int wanted = mode.equals("avx512") ? 2 : mode.equals("avx2") ? 1 : level;
        if (wanted == 0) {
            return new Status(0, required, "pure Java: this CPU has neither AVX-512 nor AVX2+FMA, which the "
                    + "native kernels need" + SLOWER);
        }
        if (level < wanted) {
            return new Status(0, required, "pure Java: " + PROPERTY + "=" + mode + " but this CPU lacks "
                    + isaName(wanted == 2 ? 16 : 8) + SLOWER);
        }
        int unitBlock = wanted == 2 ? 16 : 8;
        String mismatch = NativeLstm.selfCheck(unitBlock);
        if (mismatch != null) {
            return new Status(0, required, "pure Java: the native kernels failed their self-check against the "
                    + "Java path (" + mismatch + ")" + SLOWER);
        }
        String why = mode.equals("auto") ? (level == 2 ? "the widest ISA this CPU has" : "this CPU has no AVX-512")
                : PROPERTY + "=" + mode;
        return new Status(unitBlock, required, "native kernels " + isaName(unitBlock) + " (" + why
                + "; libjlstm_cpu.so from the jar, no BLAS needed): every product and the cell update, "
                + "weights packed once per change, fused per step, lengths, projections and dropout included");
    }

    /** Appended to every fallback reason: what the user loses (measured, benchmarks/RESULTS.md). */
    private static final String SLOWER = "; the pure-Java path takes 1.6-4.9x the native kernels' time on the "
            + "benchmark shapes (benchmarks/RESULTS.md)";

    /** Loads the library once; null when loaded, else why not. */
    private static synchronized String load() {
        if (loadTried) {
            return loadFailure;
        }
        loadTried = true;
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            loadFailure = "the native kernels are built for Linux x86-64 only (this is " + os + " " + arch + ")";
            return loadFailure;
        }
        try (InputStream in = NativeKernels.class.getResourceAsStream("/" + RESOURCE)) {
            if (in == null) {
                loadFailure = "this build has no native kernels (" + RESOURCE + " is missing: the jar was packaged "
                        + "without g++; see src/main/native/build.sh)";
                return loadFailure;
            }
            Path dir = Files.createTempDirectory("jlstm-cpu");
            Path file = dir.resolve("libjlstm_cpu.so");
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            file.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            System.load(file.toString());
            loadFailure = null;
        } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
            loadFailure = "the native kernels did not load (" + e.getMessage() + ")";
        }
        return loadFailure;
    }

    // ---------------------------------------------------------------- JNI (src/main/native/jlstm_cpu.cpp)

    /** 2: AVX-512 F/VL/BW/DQ, 1: AVX2 + FMA, 0: neither. */
    static native int cpuLevel();

    /** One worker's share of one layer and direction, forward; args: the slots of args.h. */
    static native void forward(long[] args, int unitBlock, int worker, int workers);

    /** One worker's share of one layer and direction, backward; args: the slots of args.h. */
    static native void backward(long[] args, int unitBlock, int worker, int workers);

    /** Zeroed, 64-byte aligned native memory (0 when out of memory). */
    static native long allocate(long bytes);

    static native void release(long address);

    /** W [4H][kin] (PyTorch) → forward panels: Hp/W × [kp][4W], engine gate columns. */
    static native void packForward(float[] weights, int unitBlock, int hidden, int paddedHidden, int kin, int kp,
                                   int blockIn, int blockPad, long out);

    /** W [4H][kin] → backward panels: ⌈kp/4W⌉ × [4Hp][4W], rows in engine order. */
    static native void packBackward(float[] weights, int unitBlock, int hidden, int paddedHidden, int kin, int kp,
                                    int blockIn, int blockPad, long out);

    /** b_ih + b_hh [4H] → engine order [4Hp]. */
    static native void packBias(float[] biasIh, float[] biasHh, int unitBlock, int hidden, int paddedHidden, long out);

    /**
     * [4Hp][kp] engine rows → PyTorch's [4H][kin]: PyTorch rows [rowFrom, rowTo) (of 4H), so that
     * the workers can share one gradient.
     */
    static native void unpackWeightGradient(long src, int unitBlock, int hidden, int paddedHidden, int kin, int kp,
                                            int blockIn, int blockPad, float[] out, int rowFrom, int rowTo);

    /** [4Hp] engine order → both bias gradients [4H]. */
    static native void unpackBiasGradient(long src, int unitBlock, int hidden, int paddedHidden, float[] biasIh,
                                          float[] biasHh);

    /**
     * rows × cols floats: row r of dst (stride dstLd) ← row srcRows[r] (r when srcRows is null) of
     * src from srcOff, stride srcLd; a null src gives zeros.
     */
    static native void rowsIn(float[] src, int srcOff, int[] srcRows, int rows, int cols, int srcLd, long dst,
                              int dstLd);

    /**
     * rows × cols floats: row srcRows[i] of src (stride srcLd; i when null) → row dstRows[i] of dst
     * from dstOff (i when null), stride dstLd.
     */
    static native void rowsOut(long src, int srcLd, int[] srcRows, int rows, int cols, float[] dst, int dstOff,
                               int dstLd, int[] dstRows);

    /** An int[] into native memory (the schedule tables). */
    static native void intsIn(int[] src, long dst);

    /** out[i] = a[i] · b[i] for i &lt; n (out may be a). */
    static native void multiply(long a, long b, long out, long n);

    /**
     * Plain panels of W [rows][cols] for a product's B operand: B[k][n] = W[k][n], or W[n][k] when
     * transposed; ⌈N/4W⌉ panels [depth][4W], zero past the matrix.
     */
    static native void packPanels(float[] weights, int rows, int cols, boolean transposed, int unitBlock, int depth,
                                  long out);
}
