package jlstm.cuda;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import jcuda.driver.CUdeviceptr;
import jlstm.EngineOptions;
import jlstm.EngineOptions.Precision;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;
import jlstm.MemoryBudget;

/**
 * The CUDA engine: the schedule of {@code jlstm.cpu.CpuLstmEngine} with cuBLAS products and the
 * kernels of {@code cuda/} ({@link RecurrentPasses} says what runs where). Method names mirror the
 * CPU engine.
 *
 * <p><b>Schedules</b> ({@value #SCHEDULE_PROPERTY} or {@link #setSchedule}): {@code gemm} (cuBLAS
 * recurrent product + fused pointwise kernel per step), {@code fused} (one fused gate-matmul
 * kernel per step), {@code persistent} (one cooperative launch per layer and direction for all
 * steps, W_hh held on chip; used where it fits the device, otherwise the engine falls back to
 * {@code gemm} and logs why) and {@code auto} (the default: {@code fused} for B = 1 and H ≤ 512,
 * else {@code gemm}, from the H200 timings). <b>CUDA graphs</b> ({@value #GRAPHS_PROPERTY} =
 * {@code on|off}, default on: 2–5× faster per step at small batches on the H200): each pass is
 * captured once per (T, B, schedule) and replayed.
 *
 * <p><b>Resources.</b> A {@link CudaDevice} (the primary context, retained; two streams with a
 * cuBLAS handle each; the kernel module), the parameters and their gradients in one allocation
 * each, one {@link Workspace} for the current (T, B), reused and only reallocated when a larger
 * shape arrives, and the captured graphs. {@link #close()} frees all of it. Every public method
 * makes the context current on the calling thread for its duration, so an engine may move between
 * threads (one at a time).
 *
 * <p><b>Device-resident API.</b> {@link #forward(int, int, CUdeviceptr, CUdeviceptr, CUdeviceptr,
 * CUdeviceptr, CUdeviceptr, CUdeviceptr, boolean)} and {@link #backward(CUdeviceptr, CUdeviceptr,
 * CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr)} take device pointers (in the
 * engine's context) and return when the results are complete; the {@link LstmEngine} methods with
 * host arrays are built on the same passes.
 */
public final class CudaLstmEngine implements LstmEngine {
    /** How the recurrence is computed. */
    public enum Schedule {
        /**
         * FUSED for B ≤ {@value #FUSED_MAX_BATCH} and H ≤ {@value #FUSED_MAX_HIDDEN}, GEMM otherwise:
         * the faster of the two in the H200 timings of benchmarks/RESULTS.md (2026-11-29, with graphs).
         */
        AUTO,
        /** cuBLAS recurrent GEMM + fused pointwise kernel per step. */
        GEMM,
        /** One fused gate-matmul kernel per step. */
        FUSED,
        /** One cooperative launch per layer and direction for all steps (falls back to GEMM where it does not fit). */
        PERSISTENT
    }

    /**
     * Largest batch for which AUTO takes the fused gate-matmul kernel. Measured on an H200
     * (benchmarks/RESULTS.md, 2026-11-29, graphs on): fused beats cuBLAS + pointwise only at B = 1
     * (3.6 vs 4.7 µs per step at H = 256, 4.6 vs 5.8 at H = 512); from B = 8 on, gemm is faster.
     */
    static final int FUSED_MAX_BATCH = 1;
    /** Largest hidden size for AUTO's fused choice: at H = 1024, B = 1 gemm was faster (7.8 vs 8.5 µs per step). */
    static final int FUSED_MAX_HIDDEN = 512;
    /** System property overriding AUTO: auto, gemm, fused or persistent. */
    static final String SCHEDULE_PROPERTY = EngineOptions.CUDA_SCHEDULE;
    /** System property: on or off (CUDA graphs). */
    static final String GRAPHS_PROPERTY = EngineOptions.CUDA_GRAPHS;

    private static final System.Logger LOG = System.getLogger("jlstm");

    private final LstmParameters params;
    private final LstmConfig config;
    private final List<String> parameterNames;
    private final Map<String, Long> parameterOffsets = new LinkedHashMap<>(); // name → float offset
    private final long parameterFloats;

    private final CudaDevice device;
    private final RecurrentPasses passes;
    private final GraphCache graphCache;
    private final Map<Integer, PersistentPlan> persistentPlans = new HashMap<>();   // batch → plan
    private long parameters;     // every parameter, PyTorch order, at parameterOffsets
    private long gradients;      // same layout as parameters
    private long workspaceBase;
    private long workspaceFloats;
    private Workspace ws;
    private Schedule schedule;
    private boolean graphs;
    private Precision precision = Precision.FP32;
    /** Schedule of the last training-mode forward pass, or null when backward is not possible. */
    private Schedule trainedWith;
    /** Whether the last training-mode pass ran on the packed schedule (lengths, masks, projection). */
    private boolean trainedPacked;
    private PackedPasses packed;   // opened on first use
    private boolean closed;

    /**
     * Opens an engine on GPU 0 for a model and uploads its parameters.
     *
     * @throws IllegalStateException with the probe's reason when the GPU cannot be used
     */
    public static CudaLstmEngine open(LstmParameters parameters) {
        return open(parameters, EngineOptions.fromSystemProperties());
    }

    /**
     * Opens an engine on GPU 0 for a model, run as the options say (schedule, graphs, precision),
     * and uploads its parameters.
     *
     * @throws IllegalStateException with the probe's reason when the GPU cannot be used
     */
    public static CudaLstmEngine open(LstmParameters parameters, EngineOptions options) {
        var a = CudaBackend.instance().availability();
        if (!a.available()) {
            throw new IllegalStateException("CUDA backend unavailable: " + a.detail());
        }
        return new CudaLstmEngine(parameters, options);
    }

    private CudaLstmEngine(LstmParameters params, EngineOptions options) {
        this.params = params;
        this.config = params.config();
        this.parameterNames = config.parameterNames();
        long offset = 0;
        for (String name : parameterNames) {
            parameterOffsets.put(name, offset);
            offset += Workspace.align(params.get(name).numel());
        }
        this.parameterFloats = offset;
        this.schedule = Schedule.valueOf(options.cudaSchedule().name());
        this.graphs = options.cudaGraphs();
        this.device = new CudaDevice();   // closes what it opened if it fails
        this.passes = new RecurrentPasses(device, config, parameterOffsets);
        this.graphCache = new GraphCache(device);
        try {
            Precision requested = options.precision();
            inContext(() -> {
                applyPrecision(requested);
                parameters = device.alloc(parameterFloats, "parameters");
                gradients = device.alloc(parameterFloats, "parameter gradients");
                // Zero the alignment gaps between tensors: flat updates and norms over the whole
                // buffers (CudaTrainingStep) then see zeros there, never garbage.
                device.fill(parameters, parameterFloats, 0);
                device.fill(gradients, parameterFloats, 0);
                uploadParameters();
                return null;
            });
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    @Override
    public String deviceName() {
        return "cuda";
    }

    /** Chooses the schedule (default: {@link EngineOptions#cudaSchedule()}). */
    public void setSchedule(Schedule value) {
        this.schedule = value;
    }

    /** Turns CUDA graphs on or off (default: {@link EngineOptions#cudaGraphs()}). */
    public void setGraphs(boolean on) {
        this.graphs = on;
    }

    /**
     * Chooses how the products of every pass are computed (default: {@link EngineOptions#precision()};
     * docs/PRECISION.md). A training-mode forward pass must be repeated after a change before
     * backward.
     */
    public void setPrecision(Precision value) {
        java.util.Objects.requireNonNull(value, "precision");
        inContext(() -> {
            if (value != precision) {
                device.synchronize("before a precision change");
                graphCache.clear();   // captured passes carry the old mode's calls
                trainedWith = null;
                applyPrecision(value);
            }
            return null;
        });
    }

    /** The precision of this engine's products. */
    public Precision precision() {
        return precision;
    }

    private void applyPrecision(Precision value) {
        device.blas(0).setPrecision(value);
        device.blas(1).setPrecision(value);
        passes.setPrecision(value);
        precision = value;
    }

    /**
     * The schedule a pass with batch {@code batch} runs with: AUTO resolved, and PERSISTENT only
     * where its plan fits the device.
     */
    public Schedule effectiveSchedule(int batch) {
        return inContext(() -> resolve(batch));
    }

    /** Why the persistent kernels can or cannot run at this batch size, for logs and benchmarks. */
    public String persistentPlan(int batch) {
        return inContext(() -> {
            PersistentPlan plan = plan(batch);
            return plan.usable() ? plan.blocks() + " blocks of " + plan.units() + " units (" + plan.threads()
                    + " threads), " + plan.backwardShared() / 1024 + " KiB shared memory"
                    + (config.directions() == 2 ? plan.concurrentDirections() ? ", directions side by side"
                    : ", directions one after the other" : "") : plan.reason();
        });
    }

    private Schedule resolve(int batch) {
        Schedule s = schedule == Schedule.AUTO
                ? batch <= FUSED_MAX_BATCH && config.hiddenSize() <= FUSED_MAX_HIDDEN ? Schedule.FUSED : Schedule.GEMM
                : schedule;
        if (s == Schedule.PERSISTENT && !plan(batch).usable()) {
            return Schedule.GEMM;
        }
        return s;
    }

    private PersistentPlan plan(int batch) {
        return persistentPlans.computeIfAbsent(batch, b -> {
            PersistentPlan plan = PersistentPlan.of(device, config.hiddenSize(), b, config.directions());
            if (!plan.usable()) {
                LOG.log(System.Logger.Level.INFO, "jlstm: persistent schedule unavailable for H="
                        + config.hiddenSize() + ", B=" + b + " (" + plan.reason() + "); using gemm");
            }
            return plan;
        });
    }

    /** Float offset of a parameter (and of its gradient) in the layouts used by the device API. */
    public long parameterOffset(String name) {
        Long offset = parameterOffsets.get(name);
        if (offset == null) {
            throw new IllegalArgumentException("no parameter '" + name + "' in " + config);
        }
        return offset;
    }

    /** Floats of a gradient buffer for {@link #backward(CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr,
     *  CUdeviceptr, CUdeviceptr, CUdeviceptr)}: every parameter at {@link #parameterOffset}. */
    public long gradientFloats() {
        return parameterFloats;
    }

    @Override
    public void parametersUpdated() {
        inContext(() -> {
            uploadParameters();
            return null;
        });
    }

    private void uploadParameters() {
        device.synchronize("before the parameter upload");
        for (String name : parameterNames) {
            device.upload(DeviceAddress.at(parameters, parameterOffsets.get(name)), params.get(name).data());
        }
    }

    // ---------------------------------------------------------------- host-array API

    @Override
    public void forward(int steps, int batch, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                        boolean training) {
        forward(steps, batch, x, h0, c0, y, hn, cn, training, null, null);
    }

    /**
     * With per-sequence lengths, dropout masks or a projection the pass runs on the packed schedule
     * ({@link PackedPasses}: no graphs, lane 0); otherwise on the configured fast schedule.
     */
    @Override
    public void forward(int steps, int batch, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                        boolean training, int[] lengths, float[][] dropoutMasks) {
        if (lengths != null || dropoutMasks != null || config.projSize() > 0) {
            inContext(() -> {
                trainedWith = null;
                trainedPacked = false;
                packed().forward(steps, batch, x, h0, c0, lengths, dropoutMasks, training, parameters, y, hn, cn);
                trainedPacked = training;
                return null;
            });
            return;
        }
        inContext(() -> {
            trainedPacked = false;
            ensureWorkspace(steps, batch);
            trainedWith = null;
            device.upload(ws.x, x);
            uploadOrZero(ws.h0, h0, stateFloats());
            uploadOrZero(ws.c0, c0, stateFloats());
            forwardPass(training);
            device.download(y, ws.y());
            device.download(hn, ws.hn);
            device.download(cn, ws.cn);
            return null;
        });
    }

    @Override
    public void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                         LstmParameters gradientsOut) {
        if (trainedPacked) {
            inContext(() -> {
                packed().backward(dy, dhn, dcn, dx, dh0, dc0, parameters, gradients);
                for (String name : parameterNames) {
                    device.download(gradientsOut.get(name).data(),
                            DeviceAddress.at(gradients, parameterOffsets.get(name)));
                }
                return null;
            });
            return;
        }
        Schedule trained = requireTrained();
        inContext(() -> {
            device.upload(ws.dy, dy);
            uploadOrZero(ws.dhn, dhn, stateFloats());
            uploadOrZero(ws.dcn, dcn, stateFloats());
            backwardPass(trained);
            device.download(dx, ws.dx());
            device.download(dh0, ws.dh0);
            device.download(dc0, ws.dc0);
            for (String name : parameterNames) {
                device.download(gradientsOut.get(name).data(), DeviceAddress.at(gradients, parameterOffsets.get(name)));
            }
            return null;
        });
    }

    // ---------------------------------------------------------------- device-resident API

    /**
     * Forward pass on device memory (pointers in this engine's context, float32, time-major).
     * Inputs are copied into the engine, so they may change once this returns.
     *
     * @param x  [T, B, I] (read only)
     * @param h0 [L·D, B, H] or null for zeros (read only)
     * @param c0 [L·D, B, H] or null for zeros (read only)
     * @param y  [T, B, D·H] out
     * @param hn [L·D, B, H] out
     * @param cn [L·D, B, H] out
     */
    public void forward(int steps, int batch, CUdeviceptr x, CUdeviceptr h0, CUdeviceptr c0, CUdeviceptr y,
                        CUdeviceptr hn, CUdeviceptr cn, boolean training) {
        requireFastSchedule();
        inContext(() -> {
            trainedPacked = false;
            ensureWorkspace(steps, batch);
            trainedWith = null;
            device.copy(ws.x, DeviceAddress.of(x), (long) steps * batch * config.inputSize(), 0);
            copyOrZero(ws.h0, h0, stateFloats());
            copyOrZero(ws.c0, c0, stateFloats());
            forwardPass(training);
            device.copy(DeviceAddress.of(y), ws.y(), (long) steps * batch * config.outputSize(), 0);
            device.copy(DeviceAddress.of(hn), ws.hn, stateFloats(), 0);
            device.copy(DeviceAddress.of(cn), ws.cn, stateFloats(), 0);
            device.synchronize("forward");
            return null;
        });
    }

    /**
     * Backward pass on device memory, after a training-mode forward pass.
     *
     * @param dy        [T, B, D·H] (read only)
     * @param dhn       [L·D, B, H] or null for zeros (read only)
     * @param dcn       [L·D, B, H] or null for zeros (read only)
     * @param dx        [T, B, I] out
     * @param dh0       [L·D, B, H] out
     * @param dc0       [L·D, B, H] out
     * @param gradientsOut [{@link #gradientFloats()}] out: parameter p's gradient at {@link #parameterOffset}(p)
     */
    public void backward(CUdeviceptr dy, CUdeviceptr dhn, CUdeviceptr dcn, CUdeviceptr dx, CUdeviceptr dh0,
                         CUdeviceptr dc0, CUdeviceptr gradientsOut) {
        Schedule trained = requireTrained();
        inContext(() -> {
            device.copy(ws.dy, DeviceAddress.of(dy), (long) ws.steps * ws.batch * config.outputSize(), 0);
            copyOrZero(ws.dhn, dhn, stateFloats());
            copyOrZero(ws.dcn, dcn, stateFloats());
            backwardPass(trained);
            device.copy(DeviceAddress.of(dx), ws.dx(), (long) ws.steps * ws.batch * config.inputSize(), 0);
            device.copy(DeviceAddress.of(dh0), ws.dh0, stateFloats(), 0);
            device.copy(DeviceAddress.of(dc0), ws.dc0, stateFloats(), 0);
            device.copy(DeviceAddress.of(gradientsOut), gradients, parameterFloats, 0);
            device.synchronize("backward");
            return null;
        });
    }

    // ---------------------------------------------------------------- for CudaTrainingStep

    CudaDevice device() {
        return device;
    }

    LstmConfig config() {
        return config;
    }

    /** Address of the parameter buffer (every parameter at {@link #parameterOffset}, gaps zero). */
    long parametersAddress() {
        return parameters;
    }

    /** Address of the gradient buffer the passes write (same layout as the parameters). */
    long gradientsAddress() {
        return gradients;
    }

    /** A training-mode forward pass of a host input from zero state; y stays on the device ({@link #outputAddress}). */
    void forwardTrainingFromHost(int steps, int batch, float[] x) {
        requireFastSchedule();
        trainedPacked = false;
        ensureWorkspace(steps, batch);
        trainedWith = null;
        device.upload(ws.x, x);
        device.fill(ws.h0, stateFloats(), 0);
        device.fill(ws.c0, stateFloats(), 0);
        forwardPass(true);
    }

    /** y [T, B, D·H] of the last forward pass. */
    long outputAddress() {
        return ws.y();
    }

    /** Where backward reads dy [T, B, D·H]: the caller writes it before {@link #backwardFromOutputGradient}. */
    long outputGradientAddress() {
        return ws.dy;
    }

    /** Backward from the dy already in the workspace, zero dhn and dcn, into the gradient buffer. */
    void backwardFromOutputGradient() {
        Schedule trained = requireTrained();
        device.fill(ws.dhn, stateFloats(), 0);
        device.fill(ws.dcn, stateFloats(), 0);
        backwardPass(trained);
    }

    // ---------------------------------------------------------------- passes

    private PackedPasses packed() {
        if (packed == null) {
            packed = new PackedPasses(device, config, parameterOffsets);
        }
        return packed;
    }

    /** The device-resident API runs the fast schedule only. */
    private void requireFastSchedule() {
        if (config.projSize() > 0) {
            throw new UnsupportedOperationException("a model with a projection (proj_size = " + config.projSize()
                    + ") runs through the host-array API on CUDA (LstmLayer, or forward/backward with float[])");
        }
    }

    private void forwardPass(boolean training) {
        Schedule s = resolve(ws.batch);
        PersistentPlan plan = s == Schedule.PERSISTENT ? plan(ws.batch) : null;
        Runnable issue = () -> passes.forward(ws, parameters, s, plan, training);
        if (graphs) {
            graphCache.run(training ? GraphCache.Pass.TRAINING : GraphCache.Pass.INFERENCE, ws.steps, ws.batch, s,
                    issue);
        } else {
            issue.run();
        }
        trainedWith = training ? s : null;
    }

    private void backwardPass(Schedule s) {
        PersistentPlan plan = s == Schedule.PERSISTENT ? plan(ws.batch) : null;
        Runnable issue = () -> passes.backward(ws, parameters, gradients, s, plan);
        if (graphs) {
            graphCache.run(GraphCache.Pass.BACKWARD, ws.steps, ws.batch, s, issue);
        } else {
            issue.run();
        }
    }

    private Schedule requireTrained() {
        Schedule s = trainedWith;
        if (s == null) {
            throw new IllegalStateException("backward needs a training-mode forward pass first");
        }
        return s;
    }

    // ---------------------------------------------------------------- memory

    private long stateFloats() {
        return (long) config.numLayers() * config.directions() * ws.batch * config.hiddenSize();
    }

    /** Lays out the workspace for (T, B); reallocates only when it needs more room than it has. */
    private void ensureWorkspace(int steps, int batch) {
        if (ws != null && ws.steps == steps && ws.batch == batch) {
            return;
        }
        Workspace layout = new Workspace(config, steps, batch);
        if (layout.floats > workspaceFloats) { // before anything changes: a refused call leaves the engine as it was
            MemoryBudget.requireDevice(4 * layout.floats, "the CUDA workspace for T=" + steps + ", B=" + batch
                    + " through " + config, device.freeMemory() + 4 * workspaceFloats);
        }
        device.synchronize("before a workspace change");
        graphCache.clear();
        if (layout.floats > workspaceFloats) {
            device.free(workspaceBase, "workspace");
            workspaceBase = 0;
            workspaceFloats = 0;
            workspaceBase = device.alloc(layout.floats, "workspace for T=" + steps + ", B=" + batch);
            workspaceFloats = layout.floats;
        }
        layout.bind(workspaceBase);
        device.fill(layout.ones, (long) steps * batch, Float.floatToRawIntBits(1f));
        ws = layout;
        trainedWith = null;
    }

    private void uploadOrZero(long dst, float[] src, long floats) {
        if (src == null) {
            device.fill(dst, floats, 0);
        } else {
            device.upload(dst, src);
        }
    }

    private void copyOrZero(long dst, CUdeviceptr src, long floats) {
        if (src == null) {
            device.fill(dst, floats, 0);
        } else {
            device.copy(dst, DeviceAddress.of(src), floats, 0);
        }
    }

    /** Free device memory in bytes, as the driver reports it (for tests that watch for leaks). */
    long deviceMemoryFree() {
        return inContext(device::freeMemory);
    }

    /** Graphs currently held (for tests). */
    int graphCount() {
        return graphCache.size();
    }

    /** Runs {@code body} with this engine's context current on the calling thread. */
    <T> T inContext(Supplier<T> body) {
        if (closed) {
            throw new IllegalStateException("this CUDA engine is closed");
        }
        return device.inContext(body);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            device.inContext(() -> {
                device.synchronize("close");
                graphCache.close();
                if (packed != null) {
                    packed.close();
                }
                device.free(workspaceBase, "workspace");
                device.free(gradients, "parameter gradients");
                device.free(parameters, "parameters");
                return null;
            });
        } finally {
            closed = true;
            workspaceBase = gradients = parameters = 0;
            device.close();
        }
    }
}
