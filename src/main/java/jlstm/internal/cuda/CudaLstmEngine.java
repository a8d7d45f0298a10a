package jlstm.internal.cuda;

import java.util.Arrays;
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
import jlstm.internal.MemoryBudget;
import jlstm.internal.cpu.LengthSchedule;

/**
 * The CUDA engine: the schedule of {@code jlstm.internal.cpu.CpuLstmEngine} with cuBLAS products and the
 * kernels of {@code cuda/} ({@link RecurrentPasses} says what runs where). Method names mirror the
 * CPU engine. Every pass, padded or with per-sequence lengths, a projection or dropout masks, runs
 * the one recurrence of {@link RecurrentPasses} on the packed rows of a {@link LengthSchedule}.
 *
 * <p><b>Schedules</b> ({@value #SCHEDULE_PROPERTY} or {@link #setSchedule}): {@code gemm} (cuBLAS
 * recurrent product + fused pointwise kernel per step), {@code fused} (one fused gate-matmul
 * kernel per step), {@code persistent} (one cooperative launch per layer and direction for all
 * steps, W_hh held on chip; used where it fits the device, otherwise the engine falls back to
 * {@code gemm} and logs why) and {@code auto} (the default: {@code fused} for B = 1 and H ≤ 512,
 * else {@code gemm}, from the H200 timings). <b>CUDA graphs</b> ({@value #GRAPHS_PROPERTY} =
 * {@code on|off}, default on: 2–5× faster per step at small batches on the H200): each pass is
 * captured once per (T, B, schedule, active rows per step, masks) and replayed.
 *
 * <p><b>Resources.</b> A {@link CudaDevice} (the primary context, retained; two streams with a
 * cuBLAS handle each; the kernel module), the parameters and their gradients in one allocation
 * each, one {@link Workspace} for the current (T, B) (every length schedule of it), reused and only
 * reallocated when a larger shape arrives, so repeated shapes allocate no device memory, and the
 * captured graphs. {@link #close()} frees all of it. Every public method
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
    private int[] indexedLengths;  // [B]: lengths whose index arrays ws holds, or null
    private long workspaceGeneration;
    private Schedule schedule;
    private boolean graphs;
    private Precision precision = Precision.FP32;
    private boolean tiledForward = true;    // setTiledPersistentKernels
    private boolean tiledBackward = true;
    /** The last training-mode forward pass, which backward continues; null when there is none. */
    private TrainingPass trained;
    /**
     * The host parameters changed while a training pass was held: their upload waits for the next
     * pass ({@link #beginPass}), so that the pending backward runs with the weights its forward ran with.
     */
    private boolean uploadPending;
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
        return open(parameters, options, 0);
    }

    /**
     * Opens an engine on GPU {@code ordinal} for a model, run as the options say, and uploads its
     * parameters.
     *
     * @throws IllegalStateException with the probe's reason when that GPU cannot be used
     */
    public static CudaLstmEngine open(LstmParameters parameters, EngineOptions options, int ordinal) {
        var a = CudaBackend.forDevice(ordinal).availability();
        if (!a.available()) {
            throw new IllegalStateException("CUDA backend" + (ordinal == 0 ? "" : " (cuda:" + ordinal + ")")
                    + " unavailable: " + a.detail());
        }
        return new CudaLstmEngine(parameters, options, ordinal);
    }

    private CudaLstmEngine(LstmParameters params, EngineOptions options, int ordinal) {
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
        this.device = new CudaDevice(ordinal);   // closes what it opened if it fails
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
                trained = null;
                applyPrecision(value);
            }
            return null;
        });
    }

    /**
     * For tests: whether the persistent schedule may run the tiled kernels of
     * {@code cuda/lstm_persistent_tiled.cu} (forward, backward) where their plans fit (the default,
     * both true); false runs {@code cuda/lstm_persistent.cu}'s warp-per-unit kernel for that pass,
     * the path taken where a tiled plan does not fit, and {@link #persistentPlan} says so.
     */
    void setTiledPersistentKernels(boolean forward, boolean backward) {
        inContext(() -> {
            if (forward != tiledForward || backward != tiledBackward) {
                device.synchronize("before the persistent kernels change");
                graphCache.clear();   // captured passes carry the old kernels
                trained = null;
                persistentPlans.clear();
                tiledForward = forward;
                tiledBackward = backward;
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
        persistentPlans.clear();   // the tiled kernel's shared memory depends on the mode
        precision = value;
    }

    /**
     * The schedule a padded pass with batch {@code batch} runs with: AUTO resolved, FUSED only
     * without a projection, PERSISTENT only where its plan fits the device (see {@link #resolve}).
     */
    public Schedule effectiveSchedule(int batch) {
        return inContext(() -> resolve(LengthSchedule.of(1, batch, null)));
    }

    /**
     * Which persistent kernels run at this batch size and how they are launched, or why they
     * cannot run, for logs and benchmarks: {@code "forward tiled: …; backward tiled: …"}, with
     * {@code "forward warp per unit (reason): …"} or {@code "backward warp per unit (reason): …"}
     * where a tiled kernel's plan does not fit.
     */
    public String persistentPlan(int batch) {
        return inContext(() -> describe(plan(batch)));
    }

    private String describe(PersistentPlan plan) {
        if (!plan.usable()) {
            return plan.reason();
        }
        String warpPerUnit = plan.blocks() + " blocks of " + plan.units() + " units (" + plan.threads()
                + " threads), ";
        PersistentPlan.Tiled tiled = plan.tiled();
        String forward = tiled != null ? "forward tiled: " + tiledLaunch(tiled) + ", h in chunks of " + tiled.chunk()
                : "forward warp per unit (" + plan.tiledReason() + "): " + warpPerUnit + plan.forwardShared() / 1024
                + " KiB shared memory";
        PersistentPlan.Tiled back = plan.tiledBackward();
        String backward = back != null ? "backward tiled: " + tiledLaunch(back) + ", dG in chunks of " + back.chunk()
                : "backward warp per unit (" + plan.tiledBackwardReason() + "): " + warpPerUnit
                + plan.backwardShared() / 1024 + " KiB shared memory";
        return forward + "; " + backward + (config.directions() == 2 ? plan.concurrentDirections()
                ? "; directions side by side" : "; directions one after the other" : "");
    }

    private static String tiledLaunch(PersistentPlan.Tiled tiled) {
        return tiled.blocks() + " blocks of " + tiled.units() + " units (" + PersistentPlan.Tiled.THREADS
                + " threads), " + tiled.shared() / 1024 + " KiB shared memory";
    }

    /**
     * The schedule a pass over these rows runs with. AUTO picks FUSED or GEMM by batch and hidden
     * size. FUSED multiplies an H-wide h by W_hh, so a projection (h of width P) runs GEMM.
     * PERSISTENT runs every step of a fixed batch in one launch and keeps H-wide h on chip, so
     * per-sequence lengths, a projection, or a plan that does not fit the device run GEMM.
     */
    private Schedule resolve(LengthSchedule rows) {
        int batch = rows.batch();
        Schedule s = schedule == Schedule.AUTO
                ? batch <= FUSED_MAX_BATCH && config.hiddenSize() <= FUSED_MAX_HIDDEN ? Schedule.FUSED : Schedule.GEMM
                : schedule;
        boolean projected = config.projSize() > 0;
        if (s == Schedule.FUSED && projected) {
            return Schedule.GEMM;
        }
        if (s == Schedule.PERSISTENT && (projected || !rows.full() || !plan(batch).usable())) {
            return Schedule.GEMM;
        }
        return s;
    }

    private PersistentPlan plan(int batch) {
        return persistentPlans.computeIfAbsent(batch, b -> {
            PersistentPlan plan = PersistentPlan.of(device, config.hiddenSize(), b, config.directions(), precision)
                    .withTiled(tiledForward, tiledBackward);
            if (!plan.usable()) {
                LOG.log(System.Logger.Level.DEBUG, "jlstm: persistent schedule unavailable for H="
                        + config.hiddenSize() + ", B=" + b + " (" + plan.reason() + "); using gemm");
            } else {
                LOG.log(System.Logger.Level.DEBUG, () -> "jlstm: persistent kernels for H=" + config.hiddenSize()
                        + ", B=" + b + ", " + precision + ": " + describe(plan));
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

    /**
     * Uploads the host parameters; while a training pass is held (a training-mode forward whose
     * backward may still come), not before the next forward pass, so that backward differentiates
     * the forward that ran ({@link LstmEngine#backward}).
     */
    @Override
    public void parametersUpdated() {
        inContext(() -> {
            if (trained != null) {
                uploadPending = true;
            } else {
                uploadParameters();
            }
            return null;
        });
    }

    /** The start of every pass that reads the parameters afresh: no training pass held, a pending upload done. */
    private void beginPass() {
        trained = null;
        if (uploadPending) {
            uploadParameters();
        }
    }

    /** For {@link CudaTrainingStep#readParameters}: the device's parameters as current as the host's. */
    void flushParameters() {
        if (uploadPending) {
            uploadParameters();
        }
    }

    private void uploadParameters() {
        uploadPending = false;
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
     * Every call runs the one recurrence of {@link RecurrentPasses} on the rows of its
     * {@link LengthSchedule} (lengths null: the padded rows), with the configured schedule and
     * graphs; lengths, masks and a projection only change which rows and products it issues.
     */
    @Override
    public void forward(int steps, int batch, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                        boolean training, int[] lengths, float[][] dropoutMasks) {
        LengthSchedule rows = LengthSchedule.of(steps, batch, lengths);
        boolean masked = dropoutMasks != null;
        if (masked && dropoutMasks.length != config.numLayers() - 1) {
            throw new IllegalArgumentException(dropoutMasks.length + " dropout masks for " + config.numLayers()
                    + " layers: expected one per layer but the last");
        }
        inContext(() -> {
            beginPass();
            ensureWorkspace(steps, batch, masked);
            indexRows(rows);
            rowsIn(rows, x, config.inputSize(), ws.inputStaging, ws.x);
            stateIn(rows, h0, ws.h0, config.realHiddenSize());
            stateIn(rows, c0, ws.c0, config.hiddenSize());
            for (int k = 1; masked && k < config.numLayers(); k++) {
                rowsIn(rows, dropoutMasks[k - 1], config.outputSize(), ws.outputStaging, ws.masks[k]);
            }
            Schedule s = forwardPass(rows, training, masked);
            rowsOut(rows, y, config.outputSize(), ws.y(), ws.outputStaging);
            device.download(hn, ws.hn);
            device.download(cn, ws.cn);
            trained = training ? new TrainingPass(s, rows, masked) : null;
            return null;
        });
    }

    @Override
    public void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                         LstmParameters gradientsOut) {
        TrainingPass pass = requireTrained();
        LengthSchedule rows = pass.rows();
        inContext(() -> {
            rowsIn(rows, dy, config.outputSize(), ws.outputStaging, ws.dy);
            stateIn(rows, dhn, ws.dhn, config.realHiddenSize());
            stateIn(rows, dcn, ws.dcn, config.hiddenSize());
            backwardPass(pass);
            rowsOut(rows, dx, config.inputSize(), ws.dx(), ws.inputStaging);
            stateOut(rows, dh0, ws.dh0, config.realHiddenSize());
            stateOut(rows, dc0, ws.dc0, config.hiddenSize());
            for (String name : parameterNames) {
                device.download(gradientsOut.get(name).data(), DeviceAddress.at(gradients, parameterOffsets.get(name)));
            }
            return null;
        });
    }

    // ---------------------------------------------------------------- device-resident API

    /**
     * Forward pass on device memory (pointers in this engine's context, float32, time-major, every
     * sequence T steps). Inputs are copied into the engine, so they may change once this returns.
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
        requireNoProjection();
        LengthSchedule rows = LengthSchedule.of(steps, batch, null);
        inContext(() -> {
            beginPass();
            ensureWorkspace(steps, batch, false);
            device.copy(ws.x, DeviceAddress.of(x), (long) steps * batch * config.inputSize(), 0);
            copyOrZero(ws.h0, h0, stateFloats());
            copyOrZero(ws.c0, c0, stateFloats());
            Schedule s = forwardPass(rows, training, false);
            device.copy(DeviceAddress.of(y), ws.y(), (long) steps * batch * config.outputSize(), 0);
            device.copy(DeviceAddress.of(hn), ws.hn, stateFloats(), 0);
            device.copy(DeviceAddress.of(cn), ws.cn, stateFloats(), 0);
            device.synchronize("forward");
            trained = training ? new TrainingPass(s, rows, false) : null;
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
        TrainingPass pass = requireTrained();
        if (!pass.rows().full()) {
            throw new IllegalStateException("the device-resident backward follows a device-resident forward "
                    + "(every sequence T steps); the last training pass had per-sequence lengths");
        }
        inContext(() -> {
            device.copy(ws.dy, DeviceAddress.of(dy), (long) ws.steps * ws.batch * config.outputSize(), 0);
            copyOrZero(ws.dhn, dhn, stateFloats());
            copyOrZero(ws.dcn, dcn, stateFloats());
            backwardPass(pass);
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

    /**
     * Lays out the workspace for a padded training step and queues the upload of x [T, B, I]
     * into it (outside any graph: the step's graph reads it from the workspace).
     */
    void prepareDeviceStep(int steps, int batch, float[] x) {
        requireNoProjection();
        beginPass();
        ensureWorkspace(steps, batch, false);
        device.upload(ws.x, x);
    }

    /**
     * Issues a training-mode forward pass from zero state over the workspace's x, without a
     * graph of its own (the training step captures it into its graph); y stays on the device
     * ({@link #outputAddress}).
     */
    void issueDeviceStepForward() {
        LengthSchedule rows = LengthSchedule.of(ws.steps, ws.batch, null);
        Schedule s = resolve(rows);
        device.fill(ws.h0, stateFloats(), 0);
        device.fill(ws.c0, stateFloats(), 0);
        passes.forward(ws, rows, parameters, s, s == Schedule.PERSISTENT ? plan(ws.batch) : null, true, false);
    }

    /** Issues backward from the dy in the workspace, zero dhn and dcn, into the gradient buffer (no graph of its own). */
    void issueDeviceStepBackward() {
        LengthSchedule rows = LengthSchedule.of(ws.steps, ws.batch, null);
        Schedule s = resolve(rows);
        device.fill(ws.dhn, stateFloats(), 0);
        device.fill(ws.dcn, stateFloats(), 0);
        passes.backward(ws, rows, parameters, gradients, s, s == Schedule.PERSISTENT ? plan(ws.batch) : null, false);
    }

    /** Whether passes are captured into CUDA graphs (the training step follows the engine's switch). */
    boolean graphsEnabled() {
        return graphs;
    }

    /** Changes whenever the workspace moves: a graph captured over it is stale once this differs. */
    long workspaceGeneration() {
        return workspaceGeneration;
    }

    /** y [T, B, D·H] of the last forward pass. */
    long outputAddress() {
        return ws.y();
    }

    /** Where backward reads dy [T, B, D·H]: the caller writes it before {@link #issueDeviceStepBackward}. */
    long outputGradientAddress() {
        return ws.dy;
    }

    // ---------------------------------------------------------------- passes

    /**
     * The training-mode forward pass that backward continues: its schedule, rows and whether
     * masks were applied. The engine's one record of a pass in flight (null: none).
     */
    private record TrainingPass(Schedule schedule, LengthSchedule rows, boolean masked) {
    }

    /** The device-resident API and the device training step take padded batches without a projection. */
    private void requireNoProjection() {
        if (config.projSize() > 0) {
            throw new UnsupportedOperationException("a model with a projection (proj_size = " + config.projSize()
                    + ") runs through the host-array API on CUDA (LstmLayer, or forward/backward with float[])");
        }
    }

    private Schedule forwardPass(LengthSchedule rows, boolean training, boolean masked) {
        Schedule s = resolve(rows);
        PersistentPlan plan = s == Schedule.PERSISTENT ? plan(ws.batch) : null;
        Runnable issue = () -> passes.forward(ws, rows, parameters, s, plan, training, masked);
        if (graphs) {
            graphCache.run(new GraphCache.Key(training ? GraphCache.Pass.TRAINING : GraphCache.Pass.INFERENCE,
                    ws.steps, ws.batch, s, masked, activeRows(rows)), issue);
        } else {
            issue.run();
        }
        return s;
    }

    private void backwardPass(TrainingPass pass) {
        Schedule s = pass.schedule();
        PersistentPlan plan = s == Schedule.PERSISTENT ? plan(ws.batch) : null;
        Runnable issue = () -> passes.backward(ws, pass.rows(), parameters, gradients, s, plan, pass.masked());
        if (graphs) {
            graphCache.run(new GraphCache.Key(GraphCache.Pass.BACKWARD, ws.steps, ws.batch, s, pass.masked(),
                    activeRows(pass.rows())), issue);
        } else {
            issue.run();
        }
    }

    /** n_t of every step [T]: what a captured pass depends on besides (T, B). */
    private static int[] activeRows(LengthSchedule rows) {
        int[] active = new int[rows.steps()];
        for (int t = 0; t < active.length; t++) {
            active[t] = rows.batchSize(t);
        }
        return active;
    }

    private TrainingPass requireTrained() {
        TrainingPass pass = trained;
        if (pass == null) {
            throw new IllegalStateException("backward needs a training-mode forward pass first");
        }
        return pass;
    }

    // ---------------------------------------------------------------- memory

    private long stateFloats() {
        return (long) config.numLayers() * config.directions() * ws.batch * config.hiddenSize();
    }

    /**
     * Lays out the workspace for (T, B), with mask buffers when a pass needs them (once there, they
     * stay); allocates only when it needs more room than it has, so repeated shapes allocate nothing.
     */
    private void ensureWorkspace(int steps, int batch, boolean masked) {
        if (ws != null && ws.steps == steps && ws.batch == batch && (ws.masked || !masked)) {
            return;
        }
        boolean withMasks = masked || (ws != null && ws.masked);
        long floats = Workspace.floatsFor(config, steps, batch, withMasks);
        if (floats > workspaceFloats) { // before anything changes: a refused call leaves the engine as it was
            MemoryBudget.requireDevice(4 * floats, "the CUDA workspace for T=" + steps + ", B=" + batch
                    + " through " + config, device.freeMemory() + 4 * workspaceFloats);
        }
        device.synchronize("before a workspace change");
        graphCache.clear();
        if (floats > workspaceFloats) {
            device.free(workspaceBase, "workspace");
            workspaceBase = 0;
            workspaceFloats = 0;
            workspaceBase = device.alloc(floats, "workspace for T=" + steps + ", B=" + batch);
            workspaceFloats = floats;
        }
        Workspace layout = new Workspace(config, steps, batch, withMasks, workspaceBase);
        device.fill(layout.ones, (long) steps * batch, Float.floatToRawIntBits(1f));
        device.fill(layout.zeros, (long) batch * config.hiddenSize(), 0);
        ws = layout;
        workspaceGeneration++;
        indexedLengths = null;
        trained = null;
    }

    /**
     * The index arrays of a length schedule into the workspace (packed ↔ padded rows, sorted
     * positions ↔ sequences, final rows); nothing for padded rows, which need none, nor when the
     * lengths are those already there.
     */
    private void indexRows(LengthSchedule rows) {
        if (rows.full()) {
            return;
        }
        int steps = rows.steps(), batch = rows.batch();
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = rows.length(b);
        }
        if (Arrays.equals(lengths, indexedLengths)) {
            return;
        }
        int[] pack = new int[rows.rows()];
        int[] unpack = new int[steps * batch];
        Arrays.fill(unpack, -1);
        for (int t = 0; t < rows.maxLength(); t++) {
            for (int j = 0; j < rows.batchSize(t); j++) {
                int row = rows.offset(t) + j;
                int padded = t * batch + rows.sequence(j);
                pack[row] = padded;
                unpack[padded] = row;
            }
        }
        int[] byPosition = new int[batch];
        int[] bySequence = new int[batch];
        for (int j = 0; j < batch; j++) {
            byPosition[j] = rows.sequence(j);
            bySequence[rows.sequence(j)] = j;
        }
        device.upload(ws.packIndex, pack);
        device.upload(ws.unpackIndex, unpack);
        device.upload(ws.positionIndex, byPosition);
        device.upload(ws.sequenceIndex, bySequence);
        for (int d = 0; d < config.directions(); d++) {
            int[] finalRows = new int[batch];
            for (int b = 0; b < batch; b++) {
                finalRows[b] = rows.finalRow(b, d);
            }
            device.upload(ws.finalRow[d], finalRows);
        }
        indexedLengths = lengths;
    }

    /** Host rows [T·B, width] into the packed rows at {@code packed} (padded rows: directly). */
    private void rowsIn(LengthSchedule rows, float[] host, int width, long staging, long packed) {
        if (rows.full()) {
            device.upload(packed, host);
            return;
        }
        device.upload(staging, host);
        passes.gather(rows.rows(), width, staging, width, ws.packIndex, packed, width, 0);
    }

    /** Packed rows [N, width] out to host rows [T·B, width], zeros past each length. */
    private void rowsOut(LengthSchedule rows, float[] host, int width, long packed, long staging) {
        if (rows.full()) {
            device.download(host, packed);
            return;
        }
        passes.gather(rows.steps() * rows.batch(), width, packed, width, ws.unpackIndex, staging, width, 0);
        device.download(host, staging);
    }

    /** A host state [L·D, B, width] by sequence (null: zeros) into {@code sorted}, by position. */
    private void stateIn(LengthSchedule rows, float[] host, long sorted, int width) {
        int batch = rows.batch(), slots = config.numLayers() * config.directions();
        if (host == null) {
            device.fill(sorted, (long) slots * batch * width, 0);
        } else if (rows.full()) {   // positions are the sequences
            device.upload(sorted, host);
        } else {
            device.upload(ws.stateStaging, host);
            for (int slot = 0; slot < slots; slot++) {
                long at = (long) slot * batch * width;
                passes.gather(batch, width, DeviceAddress.at(ws.stateStaging, at), width, ws.positionIndex,
                        DeviceAddress.at(sorted, at), width, 0);
            }
        }
    }

    /** A state [L·D, B, width] by position out to the host, by sequence. */
    private void stateOut(LengthSchedule rows, float[] host, long sorted, int width) {
        if (rows.full()) {
            device.download(host, sorted);
            return;
        }
        int batch = rows.batch(), slots = config.numLayers() * config.directions();
        for (int slot = 0; slot < slots; slot++) {
            long at = (long) slot * batch * width;
            passes.gather(batch, width, DeviceAddress.at(sorted, at), width, ws.sequenceIndex,
                    DeviceAddress.at(ws.stateStaging, at), width, 0);
        }
        device.download(host, ws.stateStaging);
    }

    private void copyOrZero(long dst, CUdeviceptr src, long floats) {
        if (src == null) {
            device.fill(dst, floats, 0);
        } else {
            device.copy(dst, DeviceAddress.of(src), floats, 0);
        }
    }

    /** Device allocations this engine has made so far (for tests: none per call after the first of a shape). */
    long deviceAllocations() {
        return device.allocations();
    }

    /** Free device memory in bytes, as the driver reports it (for tests that watch for leaks). */
    long deviceMemoryFree() {
        return inContext(device::freeMemory);
    }

    /** Streaming multiprocessors of the engine's device (for tests). */
    int multiprocessors() {
        return device.multiprocessors;
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
