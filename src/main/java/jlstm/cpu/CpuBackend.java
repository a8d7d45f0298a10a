package jlstm.cpu;

import jlstm.LstmBackend;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/**
 * The CPU backend: native kernels shipped in the jar where the CPU has AVX-512 or AVX2 (see
 * {@link NativeKernels}; system property {@code jlstm.cpu.kernels} = auto | avx512 | avx2 | java),
 * else pure Java. Always available, except when the property demands kernels that cannot run here.
 */
public final class CpuBackend implements LstmBackend {
    public static final CpuBackend INSTANCE = new CpuBackend();
    private static final System.Logger LOG = System.getLogger("jlstm");
    private static volatile boolean warned;

    private CpuBackend() {
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Availability availability() {
        String cores = threadsDescription();
        NativeKernels.Status kernels;
        try {
            kernels = NativeKernels.status();
        } catch (IllegalArgumentException e) {
            return Availability.no(e.getMessage());
        }
        if (kernels.required() && !kernels.usable()) {
            return Availability.no(kernels.description());
        }
        return Availability.yes(kernels.description() + "; " + cores);
    }

    /** How many workers the engine uses, and why that many. */
    static String threadsDescription() {
        int threads = WorkerPool.configuredThreads();
        String property = System.getProperty("jlstm.cpu.threads");
        String why = property == null || property.isBlank() ? "one per available core; -Djlstm.cpu.threads=N to change"
                : "-Djlstm.cpu.threads=" + property.trim();
        return threads + (threads == 1 ? " thread (" : " threads (") + why
                + "), the engine's own pool: no BLAS threads";
    }

    @Override
    public LstmEngine open(LstmParameters parameters) {
        Availability availability = availability();
        if (!availability.available()) {
            throw new IllegalStateException("the CPU backend cannot run: " + availability.detail());
        }
        NativeKernels.Status kernels = NativeKernels.status();
        if (!kernels.usable() && !kernels.description().contains(NativeKernels.PROPERTY + "=java") && !warned) {
            // Never slower than the CPU allows without saying so: once per JVM, with the reason.
            warned = true;
            LOG.log(System.Logger.Level.WARNING, "jlstm CPU engine: "
                    + kernels.description());
        }
        return new CpuLstmEngine(parameters);
    }
}
