package jlstm.internal.cpu;

import jlstm.EngineOptions;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/**
 * The CPU backend: native kernels shipped in the jar where the CPU has AVX-512 or AVX2 (see
 * {@link NativeKernels}; {@link EngineOptions#cpuKernels()} = auto | avx512 | avx2 | java), else
 * pure Java, on {@link EngineOptions#cpuThreads()} workers. Always available, except when the
 * options demand kernels that cannot run here. Float32 only: other precisions are refused.
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
    public Availability availability(EngineOptions options) {
        String cores = threadsDescription(options);
        NativeKernels.Status kernels;
        try {
            kernels = NativeKernels.status(options.cpuKernels());
        } catch (IllegalArgumentException e) {
            return Availability.no(e.getMessage());
        }
        if (kernels.required() && !kernels.usable()) {
            return Availability.no(kernels.description());
        }
        return Availability.yes(kernels.description() + "; " + cores);
    }

    /** How many workers the engine uses, and why that many. */
    static String threadsDescription(EngineOptions options) {
        int threads = options.resolvedCpuThreads();
        String why = options.cpuThreads() == 0 ? "one per available core; -D" + EngineOptions.CPU_THREADS + "=N to change"
                : "set to " + options.cpuThreads();
        return threads + (threads == 1 ? " thread (" : " threads (") + why
                + "), the engine's own pool: no BLAS threads";
    }

    /**
     * The heap {@link CpuLstmEngine} allocates for a shape. The native kernels keep their
     * workspace in native memory and check it themselves before allocating
     * ({@link jlstm.internal.MemoryBudget#requireNative}), so with them this is 0; the pure-Java path's is
     * {@link #javaWorkspaceBytes}.
     */
    @Override
    public long workspaceBytes(LstmConfig config, int steps, int batch, boolean training, EngineOptions options) {
        return NativeKernels.status(options.cpuKernels()).usable() ? 0
                : javaWorkspaceBytes(config, steps, batch, training);
    }

    /** The native kernels' workspace for a shape ({@link NativeLstm#workspaceBytes}), 0 without them. */
    @Override
    public long nativeWorkspaceBytes(LstmConfig config, int steps, int batch, boolean training,
                                     EngineOptions options) {
        NativeKernels.Status kernels = NativeKernels.status(options.cpuKernels());
        return kernels.usable() ? NativeLstm.workspaceBytes(config, kernels.unitBlock(), options.resolvedCpuThreads(),
                steps, batch, training) : 0;
    }

    /**
     * The heap of the pure-Java path for a shape, array by array (kept in step with
     * {@code CpuLstmEngine.ensureWorkspace}, {@code ensureBackwardWorkspace} and
     * {@code ensureWeights}): row-stored matrices cost a 16-byte array header per row, and the
     * h_prev / c_prev row references 4 bytes a row. The weight copies and gradient scratch, made by
     * the first call, are counted in every estimate; dropout masks (two more [T·B, D·R] per layer
     * boundary) are not.
     */
    static long javaWorkspaceBytes(LstmConfig config, int steps, int batch, boolean training) {
        long rows = (long) steps * batch;
        int layers = config.numLayers(), dirs = config.directions(), h = config.hiddenSize(), gates = 4 * h;
        int r = config.realHiddenSize(), p = config.projSize();
        long inputs = 0, weights = 0;
        for (int k = 0; k < layers; k++) {
            int in = config.layerInputSize(k);
            inputs += rowBytes(rows, in);
            weights += dirs * (rowBytes(in, gates) + rowBytes(gates, in)              // W_ihᵀ, W_ih
                    + rowBytes(r, gates) + rowBytes(gates, r)                         // W_hhᵀ, W_hh
                    + (p > 0 ? rowBytes(h, p) + rowBytes(p, h) : 0)                   // W_hrᵀ, W_hr
                    + rowBytes(1, (long) gates * (in + r + 2) + (long) p * h))        // the copies last packed
                    + rowBytes(gates, in);                                            // dW_ih scratch
        }
        weights += rowBytes(gates, r) + (p > 0 ? rowBytes(p, h) : 0);                 // dW_hh, dW_hr scratch
        long bytes = rowBytes(rows, config.inputSize()) + weights                    // x
                + (long) layers * dirs * (rowBytes(batch, r) + rowBytes(batch, h)   // h0, c0
                + rowBytes(rows, r) + rowBytes(rows, h) + rowBytes(rows, gates)       // h_t, c_t, G
                + (p > 0 ? rowBytes(rows, h) : 0)                                     // m_t
                + 2 * (16 + 4 * rows))                                                // h_prev, c_prev references
                + (dirs == 2 ? layers * rowBytes(rows, 2L * r) : 0);                  // [h_fwd | h_rev]
        if (training) {
            bytes += rowBytes(rows, gates) + rowBytes(batch, r) + rowBytes(batch, h)  // dG, dh, dc carried
                    + rowBytes(rows, (long) dirs * r) + inputs                        // dy, dX_k
                    + (p > 0 ? rowBytes(rows, p) + 2 * rowBytes(batch, h) : 0);       // dh_t, dm, zeros
        }
        return bytes;
    }

    /** Heap of {@code rows} float arrays of {@code cols} values: 16-byte header, 8-byte alignment. */
    private static long rowBytes(long rows, long cols) {
        return rows * ((16 + 4 * cols + 7) / 8 * 8);
    }

    @Override
    public LstmEngine open(LstmParameters parameters, EngineOptions options) {
        requireFloat32(options);
        Availability availability = availability(options);
        if (!availability.available()) {
            throw new IllegalStateException("the CPU backend cannot run: " + availability.detail());
        }
        NativeKernels.Status kernels = NativeKernels.status(options.cpuKernels());
        if (!kernels.usable() && !kernels.description().contains(NativeKernels.PROPERTY + "=java") && !warned) {
            // Never slower than the CPU allows without saying so: once per JVM, with the reason.
            warned = true;
            LOG.log(System.Logger.Level.WARNING, "jlstm CPU engine: "
                    + kernels.description());
        }
        return new CpuLstmEngine(parameters, kernels.unitBlock(), WorkerPool.forThreads(options.resolvedCpuThreads()),
                CpuTuning.DEFAULT);
    }

    /** The CPU engine computes in float32 only (the tensor-core modes are the CUDA engine's). */
    static void requireFloat32(EngineOptions options) {
        if (options.precision() != EngineOptions.Precision.FP32) {
            throw new IllegalArgumentException("the CPU engine computes in fp32 only; precision "
                    + options.precision().name().toLowerCase(java.util.Locale.ROOT)
                    + " needs the CUDA engine (use fp32 on the CPU)");
        }
    }
}
