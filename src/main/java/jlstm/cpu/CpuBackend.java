package jlstm.cpu;

import jlstm.LstmBackend;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/**
 * The CPU backend: pure Java, with optional native BLAS for the large products (see
 * {@link NativeBlas}; system property {@code jlstm.cpu.blas} = auto | native | java). Always
 * available, except when {@code jlstm.cpu.blas=native} demands a native BLAS that is not usable.
 */
public final class CpuBackend implements LstmBackend {
    public static final CpuBackend INSTANCE = new CpuBackend();

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
        NativeBlas.Status blas;
        try {
            kernels = NativeKernels.status();
            blas = NativeBlas.status();
        } catch (IllegalArgumentException e) {
            return Availability.no(e.getMessage());
        }
        if (kernels.required() && !kernels.usable()) {
            return Availability.no(kernels.description());
        }
        if (kernels.usable()) {
            return Availability.yes(kernels.description() + "; " + cores);
        }
        if (blas.required() && !blas.usable()) {
            return Availability.no(NativeBlas.PROPERTY + "=native, but " + blas.description());
        }
        return Availability.yes(kernels.description() + "; " + blas.description() + "; " + cores);
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
        return new CpuLstmEngine(parameters);
    }
}
