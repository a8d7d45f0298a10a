package jlstm.cuda;

import static jlstm.cuda.DeviceAddress.at;

import java.util.LinkedHashMap;
import java.util.Map;

import jlstm.LstmConfig;
import jlstm.cpu.LengthSchedule;

/**
 * The CUDA engine's passes for what its fast padded schedule ({@link RecurrentPasses}) does not
 * do: sequences of different lengths, projections ({@code proj_size}) and dropout masks between
 * layers. It mirrors {@code jlstm.cpu.PackedLstmEngine} step for step, on the packed layout of
 * {@link LengthSchedule} (sorted by length, the active batch shrinking per step, rows offset(t) + j),
 * so the work is proportional to Σ lengths, as cuDNN's packed sequences.
 *
 * <pre>
 * forward, per layer k and direction d (R = P with a projection, else H):
 *   G[N, 4H] = X_k · W_ihᵀ                                  one GEMM over the N packed rows
 *   per step t (active positions j &lt; n_t): h_prev, c_prev rows gathered (step t∓1, or h0, c0 for
 *     a sequence's first step) into packed rows of their own, then
 *     R_t = h_prev · W_hhᵀ (cuBLAS); lstm_forward_pointwise (batch n_t) → c_t, m_t;
 *     h_t = m_t, or m_t · W_hrᵀ (cuBLAS) with a projection
 *   X_{k+1} = [h_fwd | h_rev] ⊙ mask_k (lstm_multiply) in training with dropout
 * backward, per layer from the top, per direction in the opposite step order:
 *   dh = dy_t + dh_carry; with a projection dH_t = dh, dm = dH_t · W_hr; lstm_backward_pointwise
 *   → dG_t, dc_carry; dh_carry = dG_t · W_hh; positions join (their last step) with dhn, dcn and
 *   leave (their first step) into dh0, dc0
 *   then dW_ih = dGᵀ·X_k, dW_hh = dGᵀ·H_prev, dW_hr = dHᵀ·M, db = dGᵀ·1, dX_k = Σ_d dG·W_ih (GEMMs)
 * </pre>
 * Everything runs on lane 0; no graphs (a pass depends on the lengths). The engine keeps what
 * backward needs between the passes.
 */
final class PackedPasses implements AutoCloseable {
    private static final int BLOCK = 256;

    private final CudaDevice device;
    private final LstmConfig config;
    private final Map<String, Long> offsets;
    private final int layers;
    private final int dirs;
    private final int hidden;   // H
    private final int real;     // R
    private final int proj;     // P, 0 without projection
    private long base;          // the one allocation
    private long capacity;      // its floats
    private Layout ws;
    private LengthSchedule schedule;
    private boolean masked;
    private boolean trained;

    PackedPasses(CudaDevice device, LstmConfig config, Map<String, Long> offsets) {
        this.device = device;
        this.config = config;
        this.offsets = offsets;
        this.layers = config.numLayers();
        this.dirs = config.directions();
        this.hidden = config.hiddenSize();
        this.real = config.realHiddenSize();
        this.proj = config.projSize();
    }

    /** Float offsets of one call's buffers in one allocation (each region on 64 floats). */
    private final class Layout {
        final Map<String, Long> at = new LinkedHashMap<>();
        long floats;

        void reserve(String name, long size) {
            at.put(name, floats);
            floats += Workspace.align(Math.max(1, size));
        }

        long get(String name) {
            return DeviceAddress.at(base, at.get(name));
        }

        Layout(LengthSchedule s) {
            long n = s.rows(), b = s.batch(), tb = (long) s.steps() * b;
            long states = (long) layers * dirs * b;
            reserve("packIndex", n);
            reserve("unpackIndex", tb);
            reserve("positionIndex", b);
            reserve("sequenceIndex", b);
            for (int d = 0; d < dirs; d++) {
                reserve("finalRow" + d, b);
            }
            reserve("x", n * config.inputSize());
            reserve("h0", states * real);
            reserve("c0", states * hidden);
            reserve("dhn", states * real);
            reserve("dcn", states * hidden);
            reserve("dh0", states * real);
            reserve("dc0", states * hidden);
            reserve("ones", n);
            reserve("zeros", b * hidden);
            for (int k = 0; k < layers; k++) {
                reserve("out" + k, n * dirs * real);
                reserve("inGrad" + k, n * config.layerInputSize(k));
                if (k > 0) {
                    reserve("in" + k, n * dirs * real);
                    reserve("mask" + k, n * dirs * real);
                }
                for (int d = 0; d < dirs; d++) {
                    String kd = k + "_" + d;
                    reserve("gates" + kd, n * 4 * hidden);
                    reserve("cells" + kd, n * hidden);
                    reserve("hPrev" + kd, n * real);
                    reserve("cPrev" + kd, n * hidden);
                    if (proj > 0) {
                        reserve("m" + kd, n * hidden);
                    }
                }
            }
            reserve("recurrent", b * 4 * hidden);
            reserve("dG", n * 4 * hidden);
            reserve("dOut", n * dirs * real);
            reserve("dH", n * real);
            reserve("dM", b * hidden);
            reserve("dhCarry", b * real);
            reserve("dcCarry", b * hidden);
        }
    }

    // ---------------------------------------------------------------- forward

    /**
     * A forward pass over host inputs, time-major.
     *
     * @param lengths [B] or null (all T)
     * @param masks   L − 1 arrays [T·B·D·R] of layers 0 … L−2's output multipliers, or null
     * @param y       [T, B, D·R] out (zeros past each length); hn [L·D, B, R], cn [L·D, B, H] out
     */
    void forward(int steps, int batch, float[] x, float[] h0, float[] c0, int[] lengths, float[][] masks,
                 boolean training, long parameters, float[] y, float[] hn, float[] cn) {
        int[] all = lengths;
        if (all == null) {
            all = new int[batch];
            java.util.Arrays.fill(all, steps);
        }
        schedule = LengthSchedule.of(steps, batch, all);
        trained = false;
        masked = masks != null;
        ws = new Layout(schedule);
        if (ws.floats > capacity) {
            device.synchronize("before the packed workspace grows");
            device.free(base, "packed workspace");
            base = 0;
            capacity = 0;
            base = device.alloc(ws.floats, "packed workspace for " + schedule.rows() + " rows");
            capacity = ws.floats;
        }
        uploadIndices();
        int n = schedule.rows();
        long state = (long) layers * dirs * batch;
        // x, h0, c0 into the packed / sorted layouts.
        long xPadded = device.alloc(Math.max(1, x.length), "x (padded)");
        try {
            device.upload(xPadded, x);
            gather(n, config.inputSize(), xPadded, config.inputSize(), ws.get("packIndex"), ws.get("x"),
                    config.inputSize());
            sortStates(h0, ws.get("h0"), real, state);
            sortStates(c0, ws.get("c0"), hidden, state);
            device.fill(ws.get("ones"), n, Float.floatToRawIntBits(1f));
            device.fill(ws.get("zeros"), (long) batch * hidden, 0);
            for (int k = 0; k < layers; k++) {
                long in = k == 0 ? ws.get("x") : ws.get("in" + k);
                if (k > 0) {
                    long below = ws.get("out" + (k - 1));
                    long size = (long) n * dirs * real;
                    if (masks != null) {
                        long packedMask = ws.get("mask" + k);
                        uploadPacked(masks[k - 1], dirs * real, packedMask);
                        elementwise(Kernel.MULTIPLY, size, below, packedMask, in);
                    } else {
                        device.copy(in, below, size, 0);
                    }
                }
                for (int d = 0; d < dirs; d++) {
                    forwardDirection(k, d, in, parameters);
                }
            }
            // y: the last layer's output back to [T, B, D·R], zeros past each length.
            long yPadded = device.alloc(Math.max(1, y.length), "y (padded)");
            try {
                gather(steps * batch, dirs * real, ws.get("out" + (layers - 1)), dirs * real, ws.get("unpackIndex"),
                        yPadded, dirs * real);
                device.download(y, yPadded);
            } finally {
                device.free(yPadded, "y (padded)");
            }
            device.download(hn, ws.get("dh0"));   // dh0 and dc0 hold hn and cn (by sequence) for a moment
            device.download(cn, ws.get("dc0"));
        } finally {
            device.free(xPadded, "x (padded)");
        }
        trained = training;
    }

    private void forwardDirection(int k, int d, long in, long parameters) {
        int batch = schedule.batch(), gates4 = 4 * hidden, width = dirs * real, inSize = config.layerInputSize(k);
        int longest = schedule.maxLength(), n = schedule.rows();
        String kd = k + "_" + d;
        long gates = ws.get("gates" + kd), cells = ws.get("cells" + kd);
        long hPrev = ws.get("hPrev" + kd), cPrev = ws.get("cPrev" + kd);
        long out = at(ws.get("out" + k), (long) d * real);
        long slotH = at(ws.get("h0"), (long) (k * dirs + d) * batch * real);
        long slotC = at(ws.get("c0"), (long) (k * dirs + d) * batch * hidden);
        long wHh = at(parameters, offset("weight_hh_", k, d));
        long bIh = config.bias() ? at(parameters, offset("bias_ih_", k, d)) : 0;
        long bHh = config.bias() ? at(parameters, offset("bias_hh_", k, d)) : 0;
        Cublas blas = device.blas(0);
        blas.gemm(false, true, n, gates4, inSize, in, inSize, at(parameters, offset("weight_ih_", k, d)), inSize, false,
                gates, gates4);
        for (int s = 0; s < longest; s++) {
            int t = d == 0 ? s : longest - 1 - s;
            int active = schedule.batchSize(t);
            long row = schedule.offset(t);
            // h_prev, c_prev of this step's positions, copied into packed rows of their own.
            int carried;
            long fromH;
            long fromC;
            if (d == 0) {
                carried = t == 0 ? 0 : active;                          // all continue from step t-1
                fromH = t == 0 ? 0 : at(out, (long) schedule.offset(t - 1) * width);
                fromC = t == 0 ? 0 : at(cells, (long) schedule.offset(t - 1) * hidden);
            } else {
                carried = t + 1 < longest ? schedule.batchSize(t + 1) : 0;  // [0, n_{t+1}) continue from t+1
                fromH = carried == 0 ? 0 : at(out, (long) schedule.offset(t + 1) * width);
                fromC = carried == 0 ? 0 : at(cells, (long) schedule.offset(t + 1) * hidden);
            }
            if (carried > 0) {
                device.copyRows(at(hPrev, row * real), real, fromH, width, real, carried, 0);
                device.copy(at(cPrev, row * hidden), fromC, (long) carried * hidden, 0);
            }
            if (active > carried) {   // sequences starting here: h0, c0 of their positions
                device.copy(at(hPrev, (row + carried) * real), at(slotH, (long) carried * real),
                        (long) (active - carried) * real, 0);
                device.copy(at(cPrev, (row + carried) * hidden), at(slotC, (long) carried * hidden),
                        (long) (active - carried) * hidden, 0);
            }
            long gatesT = at(gates, row * gates4);
            blas.gemm(false, true, active, gates4, real, at(hPrev, row * real), real, wHh, real, false,
                    ws.get("recurrent"), gates4);
            long m = proj > 0 ? at(ws.get("m" + kd), row * hidden) : at(out, row * width);
            int mLd = proj > 0 ? hidden : width;
            // one thread per (b, j) of the active rows; gates saved over Xp (backward reads them)
            device.kernel(Kernel.FORWARD_POINTWISE_TRAINING).begin().i(active).i(hidden).p(gatesT)
                    .p(ws.get("recurrent")).p(bIh).p(bHh).p(at(cPrev, row * hidden)).p(at(cells, row * hidden)).p(m)
                    .i(mLd).p(gatesT).launch(CudaModule.ceilDiv((long) active * hidden, BLOCK), 1, BLOCK, 1, 0,
                            device.stream(0));
            if (proj > 0) {   // h_t = m_t · W_hrᵀ, W_hr [P, H]
                blas.gemm(false, true, active, proj, hidden, m, hidden, at(parameters, offset("weight_hr_", k, d)),
                        hidden, false, at(out, row * width), width);
            }
        }
        // hn, cn of this slot by sequence (held in dh0 / dc0 until the forward call copies them out).
        long slot = (long) (k * dirs + d) * batch;
        gather(batch, real, out, width, ws.get("finalRow" + d), at(ws.get("dh0"), slot * real), real);
        gather(batch, hidden, cells, hidden, ws.get("finalRow" + d), at(ws.get("dc0"), slot * hidden), hidden);
    }

    // ---------------------------------------------------------------- backward

    /** Backward through the last training pass; writes every gradient at its offset from {@code gradients}. */
    void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0, long parameters,
                  long gradients) {
        if (!trained) {
            throw new IllegalStateException("backward needs a training-mode forward pass first");
        }
        int steps = schedule.steps(), batch = schedule.batch(), n = schedule.rows();
        int width = dirs * real, gates4 = 4 * hidden;
        long state = (long) layers * dirs * batch;
        sortStates(dhn, ws.get("dhn"), real, state);
        sortStates(dcn, ws.get("dcn"), hidden, state);
        long dyPadded = device.alloc(Math.max(1, dy.length), "dy (padded)");
        try {
            device.upload(dyPadded, dy);
            gather(n, width, dyPadded, width, ws.get("packIndex"), ws.get("dOut"), width);
        } finally {
            device.free(dyPadded, "dy (padded)");
        }
        Cublas blas = device.blas(0);
        for (int k = layers - 1; k >= 0; k--) {
            if (k < layers - 1) {   // the layer above's input gradient, through its dropout mask
                long size = (long) n * width;
                if (masked) {
                    elementwise(Kernel.MULTIPLY, size, ws.get("inGrad" + (k + 1)), ws.get("mask" + (k + 1)),
                            ws.get("dOut"));
                } else {
                    device.copy(ws.get("dOut"), ws.get("inGrad" + (k + 1)), size, 0);
                }
            }
            long in = k == 0 ? ws.get("x") : ws.get("in" + k);
            int inSize = config.layerInputSize(k);
            for (int d = 0; d < dirs; d++) {
                backwardDirection(k, d, in, parameters, gradients);
                // dX_k (+)= dG · W_ih
                blas.gemm(false, false, n, inSize, gates4, ws.get("dG"), gates4,
                        at(parameters, offset("weight_ih_", k, d)), inSize, d == 1, ws.get("inGrad" + k), inSize);
            }
        }
        long dxPadded = device.alloc(Math.max(1, dx.length), "dx (padded)");
        try {
            gather(steps * batch, config.inputSize(), ws.get("inGrad0"), config.inputSize(), ws.get("unpackIndex"),
                    dxPadded, config.inputSize());
            device.download(dx, dxPadded);
        } finally {
            device.free(dxPadded, "dx (padded)");
        }
        unsortStates(ws.get("dh0"), dh0, real, state);
        unsortStates(ws.get("dc0"), dc0, hidden, state);
    }

    private void backwardDirection(int k, int d, long in, long parameters, long gradients) {
        int batch = schedule.batch(), gates4 = 4 * hidden, width = dirs * real, inSize = config.layerInputSize(k);
        int longest = schedule.maxLength(), n = schedule.rows();
        String kd = k + "_" + d;
        long gates = ws.get("gates" + kd), cells = ws.get("cells" + kd);
        long hPrev = ws.get("hPrev" + kd), cPrev = ws.get("cPrev" + kd);
        long dOut = at(ws.get("dOut"), (long) d * real);
        long dG = ws.get("dG"), dH = ws.get("dH"), dM = ws.get("dM");
        long dhCarry = ws.get("dhCarry"), dcCarry = ws.get("dcCarry");
        long slot = (long) (k * dirs + d) * batch;
        long dhnSlot = at(ws.get("dhn"), slot * real), dcnSlot = at(ws.get("dcn"), slot * hidden);
        long dh0Slot = at(ws.get("dh0"), slot * real), dc0Slot = at(ws.get("dc0"), slot * hidden);
        long wHh = at(parameters, offset("weight_hh_", k, d));
        Cublas blas = device.blas(0);
        if (d == 1) {   // the reverse direction's backward starts where its forward ended: every position
            device.copy(dhCarry, dhnSlot, (long) batch * real, 0);
            device.copy(dcCarry, dcnSlot, (long) batch * hidden, 0);
        }
        for (int s = 0; s < longest; s++) {
            int t = d == 0 ? longest - 1 - s : s;
            int active = schedule.batchSize(t);
            long row = schedule.offset(t);
            if (d == 0) {   // positions whose last step is t join with dhn, dcn
                int next = t + 1 < longest ? schedule.batchSize(t + 1) : 0;
                if (active > next) {
                    device.copy(at(dhCarry, (long) next * real), at(dhnSlot, (long) next * real),
                            (long) (active - next) * real, 0);
                    device.copy(at(dcCarry, (long) next * hidden), at(dcnSlot, (long) next * hidden),
                            (long) (active - next) * hidden, 0);
                }
            }
            long dGt = at(dG, row * gates4);
            int grid = CudaModule.ceilDiv((long) active * hidden, BLOCK);   // one thread per (b, j)
            KernelLauncher pointwise = device.kernel(Kernel.BACKWARD_POINTWISE).begin().i(active).i(hidden)
                    .p(at(gates, row * gates4)).p(at(cells, row * hidden)).p(at(cPrev, row * hidden));
            if (proj > 0) {   // dH_t = dy_t + dh_carry; dm = dH_t · W_hr; the pointwise kernel adds no carry
                long dHt = at(dH, row * real);
                device.copyRows(dHt, real, at(dOut, row * width), width, real, active, 0);
                elementwise(Kernel.ADD, (long) active * real, dHt, dhCarry, dHt);
                blas.gemm(false, false, active, hidden, proj, dHt, real, at(parameters, offset("weight_hr_", k, d)),
                        hidden, false, dM, hidden);
                pointwise.p(dM).i(hidden).p(ws.get("zeros"));
            } else {
                pointwise.p(at(dOut, row * width)).i(width).p(dhCarry);
            }
            pointwise.p(dcCarry).p(dGt).launch(grid, 1, BLOCK, 1, 0, device.stream(0));
            blas.gemm(false, false, active, real, gates4, dGt, gates4, wHh, real, false, dhCarry, real);
            if (d == 1) {   // positions whose first step is t leave with their dh0, dc0
                int next = t + 1 < longest ? schedule.batchSize(t + 1) : 0;
                if (active > next) {
                    device.copy(at(dh0Slot, (long) next * real), at(dhCarry, (long) next * real),
                            (long) (active - next) * real, 0);
                    device.copy(at(dc0Slot, (long) next * hidden), at(dcCarry, (long) next * hidden),
                            (long) (active - next) * hidden, 0);
                }
            }
        }
        if (d == 0) {   // every sequence's first step is t = 0
            device.copy(dh0Slot, dhCarry, (long) batch * real, 0);
            device.copy(dc0Slot, dcCarry, (long) batch * hidden, 0);
        }
        // Weight gradients over every packed row at once.
        blas.gemm(true, false, gates4, real, n, dG, gates4, hPrev, real, false,
                at(gradients, offset("weight_hh_", k, d)), real);
        blas.gemm(true, false, gates4, inSize, n, dG, gates4, in, inSize, false,
                at(gradients, offset("weight_ih_", k, d)), inSize);
        if (proj > 0) {   // dW_hr = dHᵀ · M
            blas.gemm(true, false, proj, hidden, n, dH, real, ws.get("m" + kd), hidden, false,
                    at(gradients, offset("weight_hr_", k, d)), hidden);
        }
        if (config.bias()) {
            long gBih = at(gradients, offset("bias_ih_", k, d));
            blas.columnSums(n, gates4, dG, gates4, ws.get("ones"), gBih);
            device.copy(at(gradients, offset("bias_hh_", k, d)), gBih, gates4, 0);
        }
    }

    // ---------------------------------------------------------------- helpers

    private long offset(String kind, int k, int d) {
        return offsets.get(kind + LstmConfig.suffix(k, d));
    }

    /** The index arrays of the schedule, as ints on the device. */
    private void uploadIndices() {
        int steps = schedule.steps(), batch = schedule.batch(), n = schedule.rows();
        int[] pack = new int[n];
        int[] unpack = new int[steps * batch];
        java.util.Arrays.fill(unpack, -1);
        for (int t = 0; t < schedule.maxLength(); t++) {
            for (int j = 0; j < schedule.batchSize(t); j++) {
                int row = schedule.offset(t) + j;
                int padded = t * batch + schedule.sequence(j);
                pack[row] = padded;
                unpack[padded] = row;
            }
        }
        int[] byPosition = new int[batch];
        int[] bySequence = new int[batch];
        for (int j = 0; j < batch; j++) {
            byPosition[j] = schedule.sequence(j);
            bySequence[schedule.sequence(j)] = j;
        }
        device.upload(ws.get("packIndex"), pack);
        device.upload(ws.get("unpackIndex"), unpack);
        device.upload(ws.get("positionIndex"), byPosition);
        device.upload(ws.get("sequenceIndex"), bySequence);
        for (int d = 0; d < dirs; d++) {
            int[] finalRows = new int[batch];
            for (int b = 0; b < batch; b++) {
                finalRows[b] = schedule.finalRow(b, d);
            }
            device.upload(ws.get("finalRow" + d), finalRows);
        }
    }

    /** A padded host array [T·B, width] into packed rows at {@code packed}. */
    private void uploadPacked(float[] padded, int width, long packed) {
        long staging = device.alloc(padded.length, "padded staging");
        try {
            device.upload(staging, padded);
            gather(schedule.rows(), width, staging, width, ws.get("packIndex"), packed, width);
        } finally {
            device.free(staging, "padded staging");
        }
    }

    /** Host states [L·D, B, width] by sequence (null: zeros) → [L·D, B, width] by sorted position. */
    private void sortStates(float[] host, long sorted, int width, long rows) {
        if (host == null) {
            device.fill(sorted, rows * width, 0);
            return;
        }
        long staging = device.alloc(host.length, "state staging");
        try {
            device.upload(staging, host);
            int batch = schedule.batch();
            for (int slot = 0; slot < layers * dirs; slot++) {
                gather(batch, width, at(staging, (long) slot * batch * width), width, ws.get("positionIndex"),
                        at(sorted, (long) slot * batch * width), width);
            }
        } finally {
            device.free(staging, "state staging");
        }
    }

    /** Sorted states [L·D, B, width] → host [L·D, B, width] by sequence. */
    private void unsortStates(long sorted, float[] host, int width, long rows) {
        long staging = device.alloc(rows * width, "state staging");
        try {
            int batch = schedule.batch();
            for (int slot = 0; slot < layers * dirs; slot++) {
                gather(batch, width, at(sorted, (long) slot * batch * width), width, ws.get("sequenceIndex"),
                        at(staging, (long) slot * batch * width), width);
            }
            device.download(host, staging);
        } finally {
            device.free(staging, "state staging");
        }
    }

    /** dst row r = src row index[r] (zeros for -1): one thread per element. */
    private void gather(int rows, int width, long src, int srcLd, long index, long dst, int dstLd) {
        long elements = (long) rows * width;
        if (elements == 0) {
            return;
        }
        device.kernel(Kernel.GATHER_ROWS).begin().i(rows).i(width).p(src).i(srcLd).p(index).p(dst).i(dstLd)
                .launch(CudaModule.ceilDiv(elements, BLOCK), 1, BLOCK, 1, 0, device.stream(0));
    }

    private void elementwise(Kernel kernel, long n, long a, long b, long out) {
        if (n > 0) {
            device.kernel(kernel).begin().l(n).p(a).p(b).p(out)
                    .launch(CudaModule.ceilDiv(n, BLOCK), 1, BLOCK, 1, 0, device.stream(0));
        }
    }

    @Override
    public void close() {
        device.free(base, "packed workspace");
        base = 0;
        capacity = 0;
    }
}
