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
        String cores = WorkerPool.configuredThreads() + " threads";
        NativeBlas.Status blas;
        try {
            blas = NativeBlas.status();
        } catch (IllegalArgumentException e) {
            return Availability.no(e.getMessage());
        }
        if (blas.required() && !blas.usable()) {
            return Availability.no(NativeBlas.PROPERTY + "=native, but " + blas.description());
        }
        return Availability.yes(blas.description() + ", " + cores);
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
