package jlstm.cuda;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import jcuda.driver.CUdeviceptr;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/**
 * The CUDA engine: the schedule of {@code jlstm.cpu.CpuLstmEngine} with cuBLAS products and the
 * fused kernels of {@code cuda/}. Method names mirror the CPU engine.
 *
 * <p>Per layer k and direction d (d = 1 walks time backwards):
 * <pre>
 * forward:   Xp[T·B, 4H] = X_k · W_ihᵀ                                  (one GEMM for all steps)
 *            per step, schedule GEMM:  R = h_prev · W_hhᵀ (cuBLAS); fused pointwise kernel
 *            per step, schedule FUSED: one fused gate-matmul kernel (product + cell update)
 * backward:  per step:  fused pointwise kernel → dG_t, dc;  dh = dG_t · W_hh (cuBLAS)
 *            then:      dW_ih = dGᵀ · X_k,  dW_hh = dGᵀ · H_prev (two GEMMs),  db (deterministic
 *                       reduction kernel),  dX_k (+)= dG · W_ih
 * </pre>
 *
 * <p><b>Resources.</b> A {@link CudaDevice} (the primary context, retained; one stream; one cuBLAS
 * handle bound to it; the kernel module), the parameters and their gradients in one allocation
 * each, and one workspace for the current (T, B) that is reused and only reallocated when a larger
 * shape arrives. The engine reaches the device only through {@link DeviceOps}, so the tests can
 * run this exact schedule on an emulated device. {@link #close()} frees all of it. Every public method makes the context current on the
 * calling thread for its duration, so an engine may move between threads (one at a time).
 *
 * <p><b>Device-resident API.</b> {@link #forward(int, int, CUdeviceptr, CUdeviceptr, CUdeviceptr,
 * CUdeviceptr, CUdeviceptr, CUdeviceptr, boolean)} and {@link #backward(CUdeviceptr, CUdeviceptr,
 * CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr)} take device pointers (in the
 * engine's context) and return when the results are complete; the {@link LstmEngine} methods with
 * host arrays are built on them.
 */
public final class CudaLstmEngine implements LstmEngine {
    /** How a forward step is computed. */
    public enum Schedule {
        /** FUSED for small batches (B ≤ {@value #FUSED_MAX_BATCH}), GEMM otherwise. */
        AUTO,
        /** cuBLAS recurrent GEMM + fused pointwise kernel per step. */
        GEMM,
        /** One fused gate-matmul kernel per step. */
        FUSED
    }

    /**
     * Largest batch for which AUTO takes the fused gate-matmul kernel: there the recurrent GEMM is
     * tiny and its launch dominates. A first guess, to be tuned from the GPU benchmarks.
     */
    static final int FUSED_MAX_BATCH = 8;
    /** System property overriding AUTO: auto, gemm or fused. */
    static final String SCHEDULE_PROPERTY = "jlstm.cuda.schedule";

    private static final int POINTWISE_BLOCK = 256;
    private static final int FUSED_WARPS_PER_BLOCK = 4;   // kWarpsPerBlock in lstm_fused_step.cu
    private static final int MAX_GRID_Y = 65535;
    private static final int BIAS_COLUMNS_PER_BLOCK = 32; // kColumnsPerBlock in lstm_bias_grad.cu
    private static final int BIAS_ROW_LANES = 8;          // kRowLanes in lstm_bias_grad.cu

    private final LstmParameters params;
    private final LstmConfig config;
    private final int layers;
    private final int dirs;
    private final int hidden;
    private final List<String> parameterNames;
    private final Map<String, Long> parameterOffsets = new LinkedHashMap<>(); // name → float offset
    private final long parameterFloats;

    private final DeviceOps device;
    private DevPtr parameters;   // every parameter, PyTorch order, at parameterOffsets
    private DevPtr gradients;    // same layout as parameters
    private DevPtr workspace;    // see Workspace
    private long workspaceFloats;
    private Workspace ws;
    private Schedule schedule;
    private boolean trained;
    private boolean closed;

    /**
     * Opens an engine on GPU 0 for a model and uploads its parameters.
     *
     * @throws IllegalStateException with the probe's reason when the GPU cannot be used
     */
    public static CudaLstmEngine open(LstmParameters parameters) {
        var a = CudaBackend.instance().availability();
        if (!a.available()) {
            throw new IllegalStateException("CUDA backend unavailable: " + a.detail());
        }
        return new CudaLstmEngine(parameters);
    }

    private CudaLstmEngine(LstmParameters params) {
        this(params, new CudaDevice());
    }

    /** An engine on any {@link DeviceOps} (the tests run it on an emulated device). */
    CudaLstmEngine(LstmParameters params, DeviceOps device) {
        if (params.config().projSize() > 0) { // before any device memory is taken
            throw new UnsupportedOperationException("the CUDA engine does not support projections (proj_size = "
                    + params.config().projSize() + ") yet; use the CPU backend (Device.CPU)");
        }
        this.params = params;
        this.config = params.config();
        this.layers = config.numLayers();
        this.dirs = config.directions();
        this.hidden = config.hiddenSize();
        this.parameterNames = config.parameterNames();
        long offset = 0;
        for (String name : parameterNames) {
            parameterOffsets.put(name, offset);
            offset += Workspace.align(params.get(name).numel());
        }
        this.parameterFloats = offset;
        this.schedule = parseSchedule(System.getProperty(SCHEDULE_PROPERTY, "auto"));
        this.device = device;
        try {
            inContext(() -> {
                parameters = device.alloc(parameterFloats, "parameters");
                gradients = device.alloc(parameterFloats, "parameter gradients");
                uploadParameters();
                return null;
            });
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private static Schedule parseSchedule(String value) {
        for (Schedule s : Schedule.values()) {
            if (s.name().equalsIgnoreCase(value.trim())) {
                return s;
            }
        }
        throw new IllegalArgumentException("-D" + SCHEDULE_PROPERTY + "=" + value + ": expected auto, gemm or fused");
    }

    @Override
    public String deviceName() {
        return "cuda";
    }

    /** Chooses the forward step schedule (AUTO by default, or the {@value #SCHEDULE_PROPERTY} property). */
    public void setSchedule(Schedule value) {
        this.schedule = value;
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
            device.upload(parameters.plus(parameterOffsets.get(name)), params.get(name).data());
        }
    }

    // ---------------------------------------------------------------- host-array API

    @Override
    public void forward(int steps, int batch, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                        boolean training) {
        inContext(() -> {
            ensureWorkspace(steps, batch);
            upload(ws.hostX, x);
            boolean hasH0 = upload(ws.hostH0, h0);
            boolean hasC0 = upload(ws.hostC0, c0);
            forwardOnDevice(ws.hostX, hasH0 ? ws.hostH0 : null, hasC0 ? ws.hostC0 : null, ws.hostY, ws.hostHn,
                    ws.hostCn, training);
            download(y, ws.hostY);
            download(hn, ws.hostHn);
            download(cn, ws.hostCn);
            return null;
        });
    }

    /** Per-sequence lengths and dropout masks are not on the GPU yet: both are rejected (CPU only). */
    @Override
    public void forward(int steps, int batch, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                        boolean training, int[] lengths, float[][] dropoutMasks) {
        if (lengths != null || dropoutMasks != null) {
            throw new UnsupportedOperationException("the CUDA engine does not support "
                    + (lengths != null ? "per-sequence lengths" : "dropout between layers")
                    + " yet; use the CPU backend (Device.CPU)");
        }
        forward(steps, batch, x, h0, c0, y, hn, cn, training);
    }

    @Override
    public void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                         LstmParameters gradientsOut) {
        requireTrained();
        inContext(() -> {
            upload(ws.hostDy, dy);
            boolean hasDhn = upload(ws.hostDhn, dhn);
            boolean hasDcn = upload(ws.hostDcn, dcn);
            backwardOnDevice(ws.hostDy, hasDhn ? ws.hostDhn : null, hasDcn ? ws.hostDcn : null, ws.hostDx,
                    ws.hostDh0, ws.hostDc0, gradients);
            download(dx, ws.hostDx);
            download(dh0, ws.hostDh0);
            download(dc0, ws.hostDc0);
            for (String name : parameterNames) {
                download(gradientsOut.get(name).data(), gradients.plus(parameterOffsets.get(name)));
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
        inContext(() -> {
            ensureWorkspace(steps, batch);
            forwardOnDevice(DevPtr.of(x), DevPtr.of(h0), DevPtr.of(c0), DevPtr.of(y), DevPtr.of(hn), DevPtr.of(cn),
                    training);
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
     * @param gradients [{@link #gradientFloats()}] out: parameter p's gradient at {@link #parameterOffset}(p)
     */
    public void backward(CUdeviceptr dy, CUdeviceptr dhn, CUdeviceptr dcn, CUdeviceptr dx, CUdeviceptr dh0,
                         CUdeviceptr dc0, CUdeviceptr gradients) {
        requireTrained();
        inContext(() -> {
            backwardOnDevice(DevPtr.of(dy), DevPtr.of(dhn), DevPtr.of(dcn), DevPtr.of(dx), DevPtr.of(dh0),
                    DevPtr.of(dc0), DevPtr.of(gradients));
            return null;
        });
    }

    // ---------------------------------------------------------------- forward

    private void forwardOnDevice(DevPtr x, DevPtr h0, DevPtr c0, DevPtr y, DevPtr hn,
                                 DevPtr cn, boolean training) {
        trained = false;
        long state = (long) layers * dirs * ws.batch * hidden;
        copy(ws.x, x, (long) ws.steps * ws.batch * config.inputSize());
        copyOrZero(ws.h0, h0, state);
        copyOrZero(ws.c0, c0, state);
        boolean fused = schedule == Schedule.FUSED || (schedule == Schedule.AUTO && ws.batch <= FUSED_MAX_BATCH);
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                forwardDirection(k, d, training, fused, hn, cn);
            }
        }
        copy(y, ws.layerOutput[layers - 1], (long) ws.steps * ws.batch * dirs * hidden);
        device.synchronize("forward");
        trained = training;
    }

    /** One layer, one direction, all steps; writes this slot of hn and cn. */
    private void forwardDirection(int k, int d, boolean training, boolean fused, DevPtr hn, DevPtr cn) {
        int steps = ws.steps, batch = ws.batch;
        int inSize = config.layerInputSize(k);
        int gates4 = 4 * hidden;
        int outWidth = dirs * hidden;
        int rows = steps * batch;
        long slot = (long) (k * dirs + d) * batch * hidden; // this layer/direction's rows of h0/c0/hn/cn
        DevPtr in = k == 0 ? ws.x : ws.layerOutput[k - 1];
        DevPtr gates = ws.gates[k][d];   // Xp, then (training) activated gates, step by step
        DevPtr cells = ws.cells[k][d];
        DevPtr out = ws.layerOutput[k];
        DevPtr wIh = parameter("weight_ih_", k, d);
        DevPtr wHh = parameter("weight_hh_", k, d);
        DevPtr bIh = config.bias() ? parameter("bias_ih_", k, d) : DevPtr.NULL;
        DevPtr bHh = config.bias() ? parameter("bias_hh_", k, d) : DevPtr.NULL;

        // Xp = X_k · W_ihᵀ for every step at once.
        device.gemm(false, true, rows, gates4, inSize, in, inSize, wIh, inSize, false, gates, gates4);

        for (int s = 0; s < steps; s++) {
            int t = d == 0 ? s : steps - 1 - s;
            int prev = d == 0 ? t - 1 : t + 1; // the step processed just before t
            boolean first = s == 0;
            DevPtr xpT = gates.plus((long) t * batch * gates4);
            DevPtr hPrev = first ? ws.h0.plus(slot) : out.plus((long) prev * batch * outWidth + (long) d * hidden);
            int hPrevLd = first ? hidden : outWidth;
            // Training keeps every c_t; inference updates one [B, H] state in place.
            DevPtr cPrev = first ? ws.c0.plus(slot)
                    : training ? cells.plus((long) prev * batch * hidden) : ws.cellState;
            DevPtr cOut = training ? cells.plus((long) t * batch * hidden) : ws.cellState;
            DevPtr hOut = out.plus((long) t * batch * outWidth + (long) d * hidden);
            if (fused) {
                Kernel kernel = training ? Kernel.FUSED_STEP_TRAINING : Kernel.FUSED_STEP_INFERENCE;
                // one warp per hidden unit (4 per block); batch rows along y, strided past 65535
                int gridX = CudaModule.ceilDiv(hidden, FUSED_WARPS_PER_BLOCK);
                int gridY = Math.min(batch, MAX_GRID_Y);
                if (training) {
                    device.launch(kernel, gridX, gridY, 32 * FUSED_WARPS_PER_BLOCK, 1, batch, hidden, xpT,
                            hPrev, hPrevLd, wHh, bIh, bHh, cPrev, cOut, hOut, outWidth, xpT);
                } else {
                    device.launch(kernel, gridX, gridY, 32 * FUSED_WARPS_PER_BLOCK, 1, batch, hidden, xpT,
                            hPrev, hPrevLd, wHh, bIh, bHh, cPrev, cOut, hOut, outWidth);
                }
            } else {
                device.gemm(false, true, batch, gates4, hidden, hPrev, hPrevLd, wHh, hidden, false, ws.recurrent,
                        gates4);
                Kernel kernel = training ? Kernel.FORWARD_POINTWISE_TRAINING : Kernel.FORWARD_POINTWISE_INFERENCE;
                // one thread per (b, j) of the B×H state
                int grid = CudaModule.ceilDiv((long) batch * hidden, POINTWISE_BLOCK);
                if (training) {
                    device.launch(kernel, grid, 1, POINTWISE_BLOCK, 1, batch, hidden, xpT, ws.recurrent,
                            bIh, bHh, cPrev, cOut, hOut, outWidth, xpT);
                } else {
                    device.launch(kernel, grid, 1, POINTWISE_BLOCK, 1, batch, hidden, xpT, ws.recurrent,
                            bIh, bHh, cPrev, cOut, hOut, outWidth);
                }
            }
        }
        // hn, cn of this slot: the state after the last step processed.
        int last = d == 0 ? steps - 1 : 0;
        copyRows(hn.plus(slot), hidden, out.plus((long) last * batch * outWidth + (long) d * hidden), outWidth,
                hidden, batch);
        copy(cn.plus(slot), training ? cells.plus((long) last * batch * hidden) : ws.cellState, (long) batch * hidden);
    }

    // ---------------------------------------------------------------- backward

    private void requireTrained() {
        if (!trained) {
            throw new IllegalStateException("backward needs a training-mode forward pass first");
        }
    }

    private void backwardOnDevice(DevPtr dy, DevPtr dhn, DevPtr dcn, DevPtr dx, DevPtr dh0,
                                  DevPtr dc0, DevPtr gradientsOut) {
        for (int k = layers - 1; k >= 0; k--) {
            DevPtr outGrad = k == layers - 1 ? dy : ws.layerInputGrad[k + 1];
            DevPtr inGrad = k == 0 ? dx : ws.layerInputGrad[k];
            DevPtr in = k == 0 ? ws.x : ws.layerOutput[k - 1];
            for (int d = 0; d < dirs; d++) {
                backwardDirection(k, d, in, outGrad, inGrad, dhn, dcn, dh0, dc0, gradientsOut);
            }
        }
        device.synchronize("backward");
    }

    /** Back-propagation through one layer and direction; direction 0 overwrites inGrad, 1 adds to it. */
    private void backwardDirection(int k, int d, DevPtr in, DevPtr outGrad, DevPtr inGrad,
                                   DevPtr dhn, DevPtr dcn, DevPtr dh0, DevPtr dc0,
                                   DevPtr gradientsOut) {
        int steps = ws.steps, batch = ws.batch;
        int inSize = config.layerInputSize(k);
        int gates4 = 4 * hidden;
        int outWidth = dirs * hidden;
        int rows = steps * batch;
        long state = (long) batch * hidden;
        long slot = (long) (k * dirs + d) * state;
        DevPtr gates = ws.gates[k][d];
        DevPtr cells = ws.cells[k][d];
        DevPtr out = ws.layerOutput[k];
        DevPtr dG = ws.gateGrad;
        DevPtr wIh = parameter("weight_ih_", k, d);
        DevPtr wHh = parameter("weight_hh_", k, d);

        copyOrZero(ws.dhCarry, dhn == null ? null : dhn.plus(slot), state);
        copyOrZero(ws.dcCarry, dcn == null ? null : dcn.plus(slot), state);
        int grid = CudaModule.ceilDiv(state, POINTWISE_BLOCK); // one thread per (b, j)
        for (int s = steps - 1; s >= 0; s--) {
            int t = d == 0 ? s : steps - 1 - s;
            int prev = d == 0 ? t - 1 : t + 1;
            boolean first = s == 0; // t is the first step this direction processed
            DevPtr cPrev = first ? ws.c0.plus(slot) : cells.plus(prev * state);
            DevPtr dGt = dG.plus((long) t * batch * gates4);
            device.launch(Kernel.BACKWARD_POINTWISE, grid, 1, POINTWISE_BLOCK, 1, batch, hidden,
                    gates.plus((long) t * batch * gates4), cells.plus(t * state), cPrev,
                    outGrad.plus((long) t * batch * outWidth + (long) d * hidden), outWidth, ws.dhCarry, ws.dcCarry,
                    dGt);
            // dh for step t-1 = dG_t · W_hh
            device.gemm(false, false, batch, hidden, gates4, dGt, gates4, wHh, hidden, false, ws.dhCarry, hidden);
        }
        copy(dh0.plus(slot), ws.dhCarry, state);
        copy(dc0.plus(slot), ws.dcCarry, state);

        // dW_hh = Σ_t dG_tᵀ · h_prev(t): the steps whose h_prev is an output row, then the h0 step.
        DevPtr gWhh = gradient("weight_hh_", k, d, gradientsOut);
        int firstStep = d == 0 ? 0 : steps - 1;   // its h_prev is h0
        if (steps > 1) {
            // d = 0: rows t = 1…T-1 pair with outputs t-1 = 0…T-2; d = 1: rows 0…T-2 with outputs 1…T-1.
            DevPtr dGRows = dG.plus(d == 0 ? (long) batch * gates4 : 0);
            DevPtr hRows = out.plus((d == 0 ? 0 : (long) batch * outWidth) + (long) d * hidden);
            device.gemm(true, false, gates4, hidden, (steps - 1) * batch, dGRows, gates4, hRows, outWidth, false,
                    gWhh, hidden);
        }
        device.gemm(true, false, gates4, hidden, batch, dG.plus((long) firstStep * batch * gates4), gates4,
                ws.h0.plus(slot), hidden, steps > 1, gWhh, hidden);
        // dW_ih = dGᵀ · X_k over all T·B rows.
        device.gemm(true, false, gates4, inSize, rows, dG, gates4, in, inSize, false,
                gradient("weight_ih_", k, d, gradientsOut), inSize);
        if (config.bias()) {
            // block (32, 8): 32 gate columns per block, 8 row lanes; fixed summation order
            device.launch(Kernel.BIAS_GRAD, CudaModule.ceilDiv(gates4, BIAS_COLUMNS_PER_BLOCK), 1,
                    BIAS_COLUMNS_PER_BLOCK, BIAS_ROW_LANES, rows, gates4, dG,
                    gradient("bias_ih_", k, d, gradientsOut), gradient("bias_hh_", k, d, gradientsOut));
        }
        // dX_k (+)= dG · W_ih
        device.gemm(false, false, rows, inSize, gates4, dG, gates4, wIh, inSize, d == 1, inGrad, inSize);
    }

    // ---------------------------------------------------------------- memory

    private DevPtr parameter(String kind, int k, int d) {
        return parameters.plus(parameterOffsets.get(kind + LstmConfig.suffix(k, d)));
    }

    private DevPtr gradient(String kind, int k, int d, DevPtr base) {
        return base.plus(parameterOffsets.get(kind + LstmConfig.suffix(k, d)));
    }

    /** Lays out the workspace for (T, B); reallocates only when it needs more room than it has. */
    private void ensureWorkspace(int steps, int batch) {
        if (ws != null && ws.steps == steps && ws.batch == batch) {
            return;
        }
        Workspace layout = new Workspace(config, steps, batch);
        if (layout.floats > workspaceFloats) {
            device.synchronize("before workspace growth");
            device.free(workspace, "workspace");
            workspace = null;
            workspaceFloats = 0;
            workspace = device.alloc(layout.floats, "workspace for T=" + steps + ", B=" + batch);
            workspaceFloats = layout.floats;
        }
        layout.bind(workspace);
        ws = layout;
        trained = false;
    }

    private boolean upload(DevPtr dst, float[] src) {
        if (src == null) {
            return false;
        }
        device.upload(dst, src);
        return true;
    }

    private void download(float[] dst, DevPtr src) {
        device.download(dst, src);
    }

    private void copy(DevPtr dst, DevPtr src, long floats) {
        device.copy(dst, src, floats);
    }

    private void copyOrZero(DevPtr dst, DevPtr src, long floats) {
        if (src == null) {
            device.zero(dst, floats);
        } else {
            device.copy(dst, src, floats);
        }
    }

    private void copyRows(DevPtr dst, int dstLd, DevPtr src, int srcLd, int width, int rows) {
        device.copyRows(dst, dstLd, src, srcLd, width, rows);
    }

    /** Free device memory in bytes, as the driver reports it (for tests that watch for leaks). */
    long deviceMemoryFree() {
        return inContext(device::freeMemory);
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
                device.free(workspace, "workspace");
                device.free(gradients, "parameter gradients");
                device.free(parameters, "parameters");
                return null;
            });
        } finally {
            closed = true;
            workspace = gradients = parameters = null;
            device.close();
        }
    }

    /**
     * Float offsets into the one workspace allocation for a (T, B). Each region starts on a
     * 64-float (256-byte) boundary, which cuBLAS likes. {@link #bind} turns offsets into pointers.
     */
    private static final class Workspace {
        final int steps;
        final int batch;
        final long floats;
        private final Map<String, long[]> offsets = new LinkedHashMap<>();
        private long next;

        // Pointers, valid after bind().
        DevPtr x;                 // [T, B, I] layer 0 input, kept for backward
        DevPtr h0;                // [L·D, B, H] (zeros when absent)
        DevPtr c0;                // [L·D, B, H]
        DevPtr[] layerOutput;     // [layer] → [T, B, D·H]
        DevPtr[][] gates;         // [layer][dir] → [T, B, 4H] Xp, then activated gates
        DevPtr[][] cells;         // [layer][dir] → [T, B, H] c_t (training)
        DevPtr cellState;         // [B, H] c in place (inference)
        DevPtr recurrent;         // [B, 4H] h_prev · W_hhᵀ (GEMM schedule)
        DevPtr gateGrad;          // [T, B, 4H] dG of one layer/direction
        DevPtr dhCarry;           // [B, H]
        DevPtr dcCarry;           // [B, H]
        DevPtr[] layerInputGrad;  // [layer] → [T, B, I_k] for k ≥ 1
        // Staging for the host-array API.
        DevPtr hostX, hostH0, hostC0, hostY, hostHn, hostCn;
        DevPtr hostDy, hostDhn, hostDcn, hostDx, hostDh0, hostDc0;

        private final LstmConfig config;

        Workspace(LstmConfig config, int steps, int batch) {
            this.config = config;
            this.steps = steps;
            this.batch = batch;
            int layers = config.numLayers(), dirs = config.directions(), h = config.hiddenSize();
            long rows = (long) steps * batch;
            long state = (long) layers * dirs * batch * h;
            long xFloats = rows * config.inputSize();
            long yFloats = rows * dirs * h;
            reserve("x", xFloats);
            reserve("h0", state);
            reserve("c0", state);
            for (int k = 0; k < layers; k++) {
                reserve("out" + k, yFloats);
                for (int d = 0; d < dirs; d++) {
                    reserve("gates" + k + d, rows * 4 * h);
                    reserve("cells" + k + d, rows * h);
                }
                if (k > 0) {
                    reserve("inGrad" + k, rows * config.layerInputSize(k));
                }
            }
            reserve("cellState", (long) batch * h);
            reserve("recurrent", (long) batch * 4 * h);
            reserve("gateGrad", rows * 4 * h);
            reserve("dhCarry", (long) batch * h);
            reserve("dcCarry", (long) batch * h);
            for (String name : List.of("hostX", "hostDx")) {
                reserve(name, xFloats);
            }
            for (String name : List.of("hostY", "hostDy")) {
                reserve(name, yFloats);
            }
            for (String name : List.of("hostH0", "hostC0", "hostHn", "hostCn", "hostDhn", "hostDcn", "hostDh0",
                    "hostDc0")) {
                reserve(name, state);
            }
            this.floats = next;
        }

        static long align(long floats) {
            return (floats + 63) / 64 * 64;
        }

        private void reserve(String name, long size) {
            offsets.put(name, new long[] {next});
            next += align(Math.max(1, size));
        }

        private DevPtr p(DevPtr base, String name) {
            return base.plus(offsets.get(name)[0]);
        }

        void bind(DevPtr base) {
            int layers = config.numLayers(), dirs = config.directions();
            x = p(base, "x");
            h0 = p(base, "h0");
            c0 = p(base, "c0");
            layerOutput = new DevPtr[layers];
            gates = new DevPtr[layers][dirs];
            cells = new DevPtr[layers][dirs];
            layerInputGrad = new DevPtr[layers];
            for (int k = 0; k < layers; k++) {
                layerOutput[k] = p(base, "out" + k);
                for (int d = 0; d < dirs; d++) {
                    gates[k][d] = p(base, "gates" + k + d);
                    cells[k][d] = p(base, "cells" + k + d);
                }
                if (k > 0) {
                    layerInputGrad[k] = p(base, "inGrad" + k);
                }
            }
            cellState = p(base, "cellState");
            recurrent = p(base, "recurrent");
            gateGrad = p(base, "gateGrad");
            dhCarry = p(base, "dhCarry");
            dcCarry = p(base, "dcCarry");
            hostX = p(base, "hostX");
            hostDx = p(base, "hostDx");
            hostY = p(base, "hostY");
            hostDy = p(base, "hostDy");
            hostH0 = p(base, "hostH0");
            hostC0 = p(base, "hostC0");
            hostHn = p(base, "hostHn");
            hostCn = p(base, "hostCn");
            hostDhn = p(base, "hostDhn");
            hostDcn = p(base, "hostDcn");
            hostDh0 = p(base, "hostDh0");
            hostDc0 = p(base, "hostDc0");
        }
    }
}
