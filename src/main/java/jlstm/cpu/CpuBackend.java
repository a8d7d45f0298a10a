package jlstm.cpu;

import jlstm.LstmBackend;
import jlstm.LstmConfig;
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

    /**
     * The heap {@link CpuLstmEngine} allocates for a shape, array by array (kept in step with its
     * {@code ensureWorkspace} and {@code ensureBackwardWorkspace}): row-stored matrices cost a
     * 16-byte array header per row; the native-BLAS path's flat copies count where the engine
     * would take that path.
     */
    @Override
    public long workspaceBytes(LstmConfig config, int steps, int batch, boolean training) {
        NativeBlas.Status status = NativeBlas.status();
        boolean usable = status.usable();
        return workspaceBytes(config, steps, batch, training, usable, usable && status.blas().singleThreaded());
    }

    /**
     * {@link #workspaceBytes(LstmConfig, int, int, boolean)} for an engine with or without native
     * BLAS ({@code split}: its native work split across the workers).
     */
    static long workspaceBytes(LstmConfig config, int steps, int batch, boolean training, boolean nativeBlas,
                               boolean split) {
        long rows = (long) steps * batch;
        int layers = config.numLayers(), dirs = config.directions(), h = config.hiddenSize(), gates = 4 * h;
        boolean nativeSteps = nativeBlas && 2.0 * batch * gates * h >= CpuLstmEngine.NATIVE_STEP_MIN_FLOPS;
        long widest = 0, inputs = 0, flatInputs = 0;
        for (int k = 0; k < layers; k++) {
            int in = config.layerInputSize(k);
            widest = Math.max(widest, in);
            inputs += rowBytes(rows, in);
            boolean nativeLayer = nativeBlas && 2.0 * rows * gates * in >= CpuLstmEngine.NATIVE_MIN_FLOPS
                    && (split || nativeSteps);
            flatInputs += nativeLayer ? rows * in : 0;
        }
        long bytes = rowBytes(rows, config.inputSize())                              // x
                + (long) layers * dirs * (2 * rowBytes(batch, h)                      // h0, c0
                + 2 * rowBytes(rows, h) + rowBytes(rows, gates))                      // h_t, c_t, G
                + (dirs == 2 ? layers * rowBytes(rows, 2L * h) : 0);                  // [h_fwd | h_rev]
        if (flatInputs > 0) {
            bytes += 4 * (flatInputs + (rows + 1) * gates);                           // flat X_k, G
        }
        if (nativeSteps) {
            bytes += 4 * 2 * (batch + 1) * (5L * h);                                  // step buffers
        }
        if (training) {
            bytes += rowBytes(rows, gates) + 2 * rowBytes(batch, h)                   // dG, dh, dc carried
                    + rowBytes(rows, (long) dirs * h) + inputs;                       // dy, dX_k
            for (int k = 0; k < layers; k++) {                                       // weight copies, dW scratch
                bytes += (1L + dirs) * rowBytes(gates, config.layerInputSize(k)) + dirs * rowBytes(gates, h);
            }
            bytes += rowBytes(gates, h);
            if (nativeBlas) {
                bytes += 4 * (rows * h + rows * widest + (long) gates * (widest + h));
            }
        }
        return bytes;
    }

    /** Heap of {@code rows} float arrays of {@code cols} values: 16-byte header, 8-byte alignment. */
    private static long rowBytes(long rows, long cols) {
        return rows * ((16 + 4 * cols + 7) / 8 * 8);
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
