package jlstm.cpu;

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
     * ({@link jlstm.MemoryBudget#requireNative}), so with them this is 0; the pure-Java path's is
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
        return kernels.usable() ? NativeLstm.workspaceBytes(config, kernels.unitBlock(), steps, batch, training) : 0;
    }

    /**
     * The heap of the pure-Java path for a shape, array by array (kept in step with
     * {@code CpuLstmEngine.ensureWorkspace} and {@code ensureBackwardWorkspace}): row-stored
     * matrices cost a 16-byte array header per row. The weight copies, made by the first call, are
     * counted in every estimate.
     */
    static long javaWorkspaceBytes(LstmConfig config, int steps, int batch, boolean training) {
        long rows = (long) steps * batch;
        int layers = config.numLayers(), dirs = config.directions(), h = config.hiddenSize(), gates = 4 * h;
        long inputs = 0, weights = 0;
        for (int k = 0; k < layers; k++) {
            int in = config.layerInputSize(k);
            inputs += rowBytes(rows, in);
            weights += dirs * (rowBytes(in, gates) + rowBytes(h, gates));            // W_ihᵀ, W_hhᵀ
        }
        long bytes = rowBytes(rows, config.inputSize()) + weights                    // x
                + (long) layers * dirs * (2 * rowBytes(batch, h)                      // h0, c0
                + 2 * rowBytes(rows, h) + rowBytes(rows, gates))                      // h_t, c_t, G
                + (dirs == 2 ? layers * rowBytes(rows, 2L * h) : 0);                  // [h_fwd | h_rev]
        if (training) {
            bytes += rowBytes(rows, gates) + 2 * rowBytes(batch, h)                   // dG, dh, dc carried
                    + rowBytes(rows, (long) dirs * h) + inputs;                       // dy, dX_k
            for (int k = 0; k < layers; k++) {                                       // weight copies, dW scratch
                bytes += (1L + dirs) * rowBytes(gates, config.layerInputSize(k)) + dirs * rowBytes(gates, h);
            }
            bytes += rowBytes(gates, h);
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
        return new CpuLstmEngine(parameters, kernels.unitBlock(), WorkerPool.forThreads(options.resolvedCpuThreads()));
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
