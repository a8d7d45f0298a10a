package jlstm.internal.cuda;

import static jlstm.internal.cuda.DeviceAddress.at;

import java.util.Map;

import jlstm.EngineOptions.Precision;
import jlstm.LstmConfig;
import jlstm.internal.cpu.LengthSchedule;

/**
 * The one recurrence of the CUDA engine: what {@link CudaLstmEngine} issues for one forward or
 * backward pass over a {@link Workspace}, for every layer and direction, on the packed rows of a
 * {@link LengthSchedule} (step t's active positions j &lt; n_t at rows offset(t) + j; with every
 * length T these are the padded rows t·B + j, and nothing extra runs). Per-sequence lengths, the
 * projection ({@code proj_size}, R = P, else R = H) and dropout masks run through the same passes,
 * schedules and graphs as a padded batch. Method names mirror {@code jlstm.internal.cpu.CpuLstmEngine}.
 *
 * <pre>
 * forward, per layer k and direction d:
 *   Xp[N, 4H] = X_k · W_ihᵀ                                       one GEMM over the N packed rows
 *   per step t (forward t = 0…T'−1, reverse t = T'−1…0), active rows n_t, h_prev / c_prev the
 *   previous step's rows of the same positions, or h0 / c0 where a sequence starts (a reverse step
 *   where some sequences start and others continue joins both into per-direction scratch):
 *     GEMM:       R_t = h_prev · W_hhᵀ (cuBLAS), then lstm_forward_pointwise
 *     FUSED:      lstm_fused_step (product and cell update in one launch)
 *     then, with a projection, h_t = m_t · W_hrᵀ (cuBLAS)
 *   PERSISTENT:   lstm_persistent_tiled_forward (where its plan fits, else lstm_persistent_forward),
 *                 one cooperative launch for all steps
 *   X_{k+1} = [h_fwd | h_rev] ⊙ mask (lstm_multiply) in a pass with dropout masks
 * backward, per layer k (top down) and direction d, steps in the opposite order:
 *   positions join the carry at their last step (dhn, dcn) and leave it at their first (dh0, dc0);
 *   with a projection dH_t = dy_t + dh_carry, dm = dH_t · W_hr;
 *   lstm_backward_pointwise → dG_t, dc; dh_carry = dG_t · W_hh (cuBLAS)
 *     or, PERSISTENT, one cooperative launch for all steps: lstm_persistent_tiled_backward (where
 *     its plan fits: dh_slice = W_hh[:, slice]ᵀ · dG_tᵀ as tiles, batch as N), else lstm_persistent_backward
 *   dW_hh = Σ_t dG_tᵀ · h_prev(t) (one GEMM per run of rows whose h_prev rows are evenly spaced:
 *   two for a padded batch), dW_ih = dGᵀ · X_k, dW_hr = dHᵀ · M, db_ih = db_hh = dGᵀ · 1 (GEMV:
 *   deterministic column sums), all over the N rows; after both directions dX_k = Σ_d dG_d · W_ih,d
 * </pre>
 * Precision: every product above runs in the engine's {@link Precision} (cuBLAS through the
 * handles' {@link Cublas#setPrecision}; the fused and persistent kernels through their
 * {@code precision} argument, {@link #kernelCode}).
 * The two directions of a bidirectional layer run on two streams (lanes 0 and 1) at the same time,
 * forked from lane 0 and joined back before the next layer needs both.
 *
 * <p><b>Which schedule runs</b> is the engine's choice ({@link CudaLstmEngine#effectiveSchedule}):
 * FUSED needs h as wide as c (no projection); PERSISTENT also needs every length T (one launch for
 * all steps of a fixed batch). Otherwise the pass runs GEMM.
 */
final class RecurrentPasses {
    /** Threads per block of the pointwise, row and elementwise kernels (one thread per element). */
    private static final int POINTWISE_BLOCK = 256;
    /** kWarpsPerBlock in lstm_fused_step.cu. */
    private static final int FUSED_WARPS_PER_BLOCK = 4;

    private final CudaDevice device;
    private final LstmConfig config;
    private final int layers;
    private final int dirs;
    private final int hidden;   // H
    private final int real;     // R: P with a projection, else H
    private final int proj;     // P, 0 without projection
    // Float offsets of each layer's and direction's parameters (and of their gradients) in the
    // engine's parameter layout; -1 for absent ones (biases, W_hr).
    private final long[][] weightIh;
    private final long[][] weightHh;
    private final long[][] weightHr;
    private final long[][] biasIh;
    private final long[][] biasHh;
    /** Warps sharing one hidden unit in the fused kernel (1, 2 or 4): enough blocks to fill the GPU. */
    private final int fusedSplit;
    /** The kernels' precision argument ({@link #kernelCode}). */
    private int precisionCode;

    /**
     * @param offsets float offset of every parameter (by name) in the layout of {@code parameters}
     *                and gradient buffers
     */
    RecurrentPasses(CudaDevice device, LstmConfig config, Map<String, Long> offsets) {
        this.device = device;
        this.config = config;
        this.layers = config.numLayers();
        this.dirs = config.directions();
        this.hidden = config.hiddenSize();
        this.real = config.realHiddenSize();
        this.proj = config.projSize();
        weightIh = new long[layers][dirs];
        weightHh = new long[layers][dirs];
        weightHr = new long[layers][dirs];
        biasIh = new long[layers][dirs];
        biasHh = new long[layers][dirs];
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                String suffix = LstmConfig.suffix(k, d);
                weightIh[k][d] = offsets.get("weight_ih_" + suffix);
                weightHh[k][d] = offsets.get("weight_hh_" + suffix);
                weightHr[k][d] = proj > 0 ? offsets.get("weight_hr_" + suffix) : -1;
                biasIh[k][d] = config.bias() ? offsets.get("bias_ih_" + suffix) : -1;
                biasHh[k][d] = config.bias() ? offsets.get("bias_hh_" + suffix) : -1;
            }
        }
        int split = 1;
        while (split < FUSED_WARPS_PER_BLOCK
                && CudaModule.ceilDiv(hidden, FUSED_WARPS_PER_BLOCK / split) < device.multiprocessors) {
            split *= 2;
        }
        fusedSplit = split;
    }

    /** The precision of the kernels' own products from now on (cuBLAS's is set on its handles). */
    void setPrecision(Precision precision) {
        precisionCode = kernelCode(precision);
    }

    /** LstmPrecision of cuda/lstm_cell_math.cuh: 0 fp32, 1 tf32, 2 bf16. */
    static int kernelCode(Precision precision) {
        return switch (precision) {
            case FP32 -> 0;
            case TF32 -> 1;
            case BF16 -> 2;
        };
    }

    private static long address(long base, long offset) {
        return offset < 0 ? 0 : at(base, offset);
    }

    private boolean concurrent(CudaLstmEngine.Schedule schedule, PersistentPlan plan) {
        return dirs == 2 && (schedule != CudaLstmEngine.Schedule.PERSISTENT || plan.concurrentDirections());
    }

    /** Layer k's input rows [N, I_k]: x, the output below, or that output through its mask. */
    private static long layerInput(Workspace ws, int k, boolean masked) {
        return k == 0 ? ws.x : masked ? ws.layerInput[k] : ws.layerOutput[k - 1];
    }

    /** Rows of step t continuing from the neighbouring step processed before it (the rest start from h0, c0). */
    private static int carried(LengthSchedule s, int d, int t) {
        if (d == 0) {
            return t == 0 ? 0 : s.batchSize(t);
        }
        return t + 1 < s.maxLength() ? s.batchSize(t + 1) : 0;
    }

    /** The first packed row of the step that step t continues from (t−1 forward, t+1 reverse). */
    private static int previousRow(LengthSchedule s, int d, int t) {
        return s.offset(d == 0 ? t - 1 : t + 1);
    }

    // ---------------------------------------------------------------- forward

    /**
     * All layers and directions; reads ws.x, ws.h0, ws.c0 (and ws.masks when {@code masked}),
     * writes every layer output, ws.hn, ws.cn (by sequence).
     */
    void forward(Workspace ws, LengthSchedule rows, long parameters, CudaLstmEngine.Schedule schedule,
                 PersistentPlan plan, boolean training, boolean masked) {
        boolean concurrent = concurrent(schedule, plan);
        long outputs = (long) rows.rows() * dirs * real;
        for (int k = 0; k < layers; k++) {
            long in = layerInput(ws, k, masked);
            if (k > 0 && masked) {
                elementwise(Kernel.MULTIPLY, outputs, ws.layerOutput[k - 1], ws.masks[k], in, 0);
            }
            if (concurrent) {
                device.fork();
            }
            for (int d = 0; d < dirs; d++) {
                forwardDirection(ws, rows, parameters, k, d, concurrent ? d : 0, in, schedule, plan, training);
            }
            if (concurrent) {
                device.join();
            }
        }
    }

    /** One layer, one direction, all steps, on one lane; writes this slot of hn and cn. */
    private void forwardDirection(Workspace ws, LengthSchedule rows, long parameters, int k, int d, int lane,
                                  long in, CudaLstmEngine.Schedule schedule, PersistentPlan plan, boolean training) {
        int batch = ws.batch, gates4 = 4 * hidden, width = dirs * real;
        int inSize = config.layerInputSize(k);
        int slot = (k * dirs + d) * batch;
        long h0 = at(ws.h0, (long) slot * real);
        long c0 = at(ws.c0, (long) slot * hidden);
        long xp = ws.gates[k][d];
        long cells = ws.cells[k][d];
        long out = at(ws.layerOutput[k], (long) d * real);   // this direction's part of each output row
        long wHh = at(parameters, weightHh[k][d]);
        long bIh = address(parameters, biasIh[k][d]);
        long bHh = address(parameters, biasHh[k][d]);
        // Xp = X_k · W_ihᵀ for every packed row at once.
        device.blas(lane).gemm(false, true, rows.rows(), gates4, inSize, in, inSize,
                at(parameters, weightIh[k][d]), inSize, false, xp, gates4);

        if (schedule == CudaLstmEngine.Schedule.PERSISTENT) {   // every length T, R = H (the engine's rule)
            int steps = ws.steps;
            PersistentPlan.Tiled tiled = plan.tiled();
            KernelLauncher launch;
            if (tiled != null) {
                Kernel kernel = training ? Kernel.PERSISTENT_TILED_FORWARD_TRAINING
                        : Kernel.PERSISTENT_TILED_FORWARD_INFERENCE;
                launch = device.kernel(kernel).begin().i(steps).i(batch).i(hidden).i(d).i(precisionCode)
                        .i(tiled.units()).i(tiled.chunk());
            } else {
                Kernel kernel = training ? Kernel.PERSISTENT_FORWARD_TRAINING : Kernel.PERSISTENT_FORWARD_INFERENCE;
                launch = device.kernel(kernel).begin().i(steps).i(batch).i(hidden).i(d).i(precisionCode);
            }
            launch.p(xp).p(wHh).p(bIh).p(bHh).p(h0).p(c0).p(out).i(width);
            if (training) {
                launch.p(cells);
            }
            launch.p(at(ws.cn, (long) slot * hidden));
            if (tiled != null) {   // tiled.units units (all four gates) per block, 8 warps, every block resident
                launch.launchCooperative(tiled.blocks(), PersistentPlan.Tiled.THREADS, tiled.shared(),
                        device.stream(lane));
            } else {   // one warp per hidden unit, plan.units units per block, every block resident (cooperative)
                launch.launchCooperative(plan.blocks(), plan.threads(), plan.forwardShared(), device.stream(lane));
            }
            int last = d == 0 ? steps - 1 : 0;
            device.copyRows(at(ws.hn, (long) slot * real), real, at(out, (long) last * batch * width), width, real,
                    batch, lane);
            return;
        }
        boolean fused = schedule == CudaLstmEngine.Schedule.FUSED;
        int longest = rows.maxLength();
        for (int s = 0; s < longest; s++) {
            int t = d == 0 ? s : longest - 1 - s;
            int active = rows.batchSize(t);
            long row = rows.offset(t);
            int carried = carried(rows, d, t);
            long before = carried > 0 ? previousRow(rows, d, t) : 0;
            // h_prev [active, R]: the previous step's rows, h0's, or both joined.
            long hPrev;
            int hPrevLd;
            if (carried == active) {
                hPrev = at(out, before * width);
                hPrevLd = width;
            } else if (carried == 0) {
                hPrev = h0;
                hPrevLd = real;
            } else {
                hPrev = ws.joinedH[d];
                hPrevLd = real;
                device.copyRows(hPrev, real, at(out, before * width), width, real, carried, lane);
                device.copy(at(hPrev, (long) carried * real), at(h0, (long) carried * real),
                        (long) (active - carried) * real, lane);
            }
            // c_prev and c_t: saved per step in training, one [B, H] updated in place in inference.
            long cOut = training ? at(cells, row * hidden) : ws.cellState[d];
            long cPrev;
            if (carried == 0) {
                cPrev = c0;
            } else if (!training) {
                cPrev = ws.cellState[d];
                if (carried < active) {   // positions starting here take their c0 rows
                    device.copy(at(cPrev, (long) carried * hidden), at(c0, (long) carried * hidden),
                            (long) (active - carried) * hidden, lane);
                }
            } else if (carried == active) {
                cPrev = at(cells, before * hidden);
            } else {
                cPrev = joinCellRows(ws, d, lane, at(cells, before * hidden), c0, carried, active);
            }
            long hOut = proj > 0 ? at(ws.preProjection[k][d], row * hidden) : at(out, row * width);
            int hOutLd = proj > 0 ? hidden : width;
            long xpT = at(xp, row * gates4);
            KernelLauncher launch;
            int grid;
            int block;
            if (fused) {
                launch = device.kernel(training ? Kernel.FUSED_STEP_TRAINING : Kernel.FUSED_STEP_INFERENCE)
                        .begin().i(active).i(hidden).i(fusedSplit).i(precisionCode).p(xpT).p(hPrev).i(hPrevLd)
                        .p(wHh);
                // 4 warps per block; fusedSplit warps share a unit: 4 / fusedSplit units per block
                grid = CudaModule.ceilDiv(hidden, FUSED_WARPS_PER_BLOCK / fusedSplit);
                block = 32 * FUSED_WARPS_PER_BLOCK;
            } else {
                device.blas(lane).gemm(false, true, active, gates4, real, hPrev, hPrevLd, wHh, real, false,
                        ws.recurrent[d], gates4);
                launch = device.kernel(training ? Kernel.FORWARD_POINTWISE_TRAINING
                        : Kernel.FORWARD_POINTWISE_INFERENCE).begin().i(active).i(hidden).p(xpT)
                        .p(ws.recurrent[d]);
                grid = CudaModule.ceilDiv((long) active * hidden, POINTWISE_BLOCK);   // one thread per (b, j)
                block = POINTWISE_BLOCK;
            }
            launch.p(bIh).p(bHh).p(cPrev).p(cOut).p(hOut).i(hOutLd);
            if (training) {
                launch.p(xpT);   // activated gates over Xp_t
            }
            launch.launch(grid, 1, block, 1, 0, device.stream(lane));
            if (proj > 0) {   // h_t = m_t · W_hrᵀ, W_hr [P, H]
                device.blas(lane).gemm(false, true, active, proj, hidden, hOut, hidden,
                        at(parameters, weightHr[k][d]), hidden, false, at(out, row * width), width);
            }
        }
        finalStates(ws, rows, k, d, lane, out, training);
    }

    /** c_prev of a reverse step where sequences start beside continuing ones, joined into scratch. */
    private long joinCellRows(Workspace ws, int d, int lane, long continuing, long c0, int carried, int active) {
        long joined = ws.joinedC[d];
        device.copy(joined, continuing, (long) carried * hidden, lane);
        device.copy(at(joined, (long) carried * hidden), at(c0, (long) carried * hidden),
                (long) (active - carried) * hidden, lane);
        return joined;
    }

    /** This slot of hn [L·D, B, R] and cn [L·D, B, H], by sequence. */
    private void finalStates(Workspace ws, LengthSchedule rows, int k, int d, int lane, long out, boolean training) {
        int batch = ws.batch, width = dirs * real;
        int slot = (k * dirs + d) * batch;
        long hn = at(ws.hn, (long) slot * real);
        long cn = at(ws.cn, (long) slot * hidden);
        long cLast = training ? ws.cells[k][d] : ws.cellState[d];
        if (rows.full()) {   // padded: every final state is in the last step processed, positions = sequences
            long last = d == 0 ? (long) (ws.steps - 1) * batch : 0;
            device.copyRows(hn, real, at(out, last * width), width, real, batch, lane);
            device.copy(cn, training ? at(cLast, last * hidden) : cLast, (long) batch * hidden, lane);
            return;
        }
        gather(batch, real, out, width, ws.finalRow[d], hn, real, lane);
        if (training) {
            gather(batch, hidden, cLast, hidden, ws.finalRow[d], cn, hidden, lane);
        } else {   // cellState row j holds position j's last c
            gather(batch, hidden, cLast, hidden, ws.sequenceIndex, cn, hidden, lane);
        }
    }

    // ---------------------------------------------------------------- backward

    /**
     * Back-propagation through all layers, after a training-mode {@link #forward} with the same
     * rows and masks. Reads ws.dy, ws.dhn, ws.dcn (by position); writes ws.dx(), ws.dh0, ws.dc0 (by
     * position) and every parameter gradient at its offset from {@code gradients}.
     */
    void backward(Workspace ws, LengthSchedule rows, long parameters, long gradients,
                  CudaLstmEngine.Schedule schedule, PersistentPlan plan, boolean masked) {
        boolean concurrent = concurrent(schedule, plan);
        int n = rows.rows(), gates4 = 4 * hidden;
        long outputs = (long) n * dirs * real;
        for (int k = layers - 1; k >= 0; k--) {
            long outGrad;
            if (k == layers - 1) {
                outGrad = ws.dy;
            } else if (masked) {   // the layer above's input gradient, through its dropout mask
                outGrad = ws.outputGrad;
                elementwise(Kernel.MULTIPLY, outputs, ws.layerInputGrad[k + 1], ws.masks[k + 1], outGrad, 0);
            } else {
                outGrad = ws.layerInputGrad[k + 1];
            }
            long in = layerInput(ws, k, masked);
            int inSize = config.layerInputSize(k);
            if (concurrent) {
                device.fork();
            }
            for (int d = 0; d < dirs; d++) {
                backwardDirection(ws, rows, parameters, gradients, k, d, concurrent ? d : 0, in, outGrad, schedule,
                        plan);
            }
            if (concurrent) {
                device.join();
            }
            // dX_k = Σ_d dG_d · W_ih,d: direction 0 overwrites, direction 1 adds (lane 0, after the join).
            for (int d = 0; d < dirs; d++) {
                device.blas(0).gemm(false, false, n, inSize, gates4, ws.gateGrad[d], gates4,
                        at(parameters, weightIh[k][d]), inSize, d == 1, ws.layerInputGrad[k], inSize);
            }
        }
    }

    /** dG of one layer and direction, its dh0/dc0 slot, and its weight and bias gradients. */
    private void backwardDirection(Workspace ws, LengthSchedule rows, long parameters, long gradients, int k, int d,
                                   int lane, long in, long outGrad, CudaLstmEngine.Schedule schedule,
                                   PersistentPlan plan) {
        int batch = ws.batch, gates4 = 4 * hidden, width = dirs * real;
        int inSize = config.layerInputSize(k);
        int n = rows.rows();
        int slot = (k * dirs + d) * batch;
        long h0 = at(ws.h0, (long) slot * real);
        long c0 = at(ws.c0, (long) slot * hidden);
        long dhn = at(ws.dhn, (long) slot * real), dcn = at(ws.dcn, (long) slot * hidden);
        long dh0 = at(ws.dh0, (long) slot * real), dc0 = at(ws.dc0, (long) slot * hidden);
        long gates = ws.gates[k][d];
        long cells = ws.cells[k][d];
        long out = at(ws.layerOutput[k], (long) d * real);
        long dG = ws.gateGrad[d];
        long wHh = at(parameters, weightHh[k][d]);
        long dyAt = at(outGrad, (long) d * real);
        long dhCarry = ws.dhCarry[d], dcCarry = ws.dcCarry[d];

        if (schedule == CudaLstmEngine.Schedule.PERSISTENT) {   // every length T, R = H
            PersistentPlan.Tiled tiled = plan.tiledBackward();
            if (tiled != null) {   // tiled.units units per block (W_hh columns for all 4H rows), 8 warps, all resident
                device.kernel(Kernel.PERSISTENT_TILED_BACKWARD).begin().i(ws.steps).i(batch).i(hidden).i(d)
                        .i(precisionCode).i(tiled.units()).i(tiled.chunk()).p(gates).p(cells).p(c0).p(dyAt).i(width)
                        .p(wHh).p(dhn).p(dcn).p(dG).p(dh0).p(dc0)
                        .launchCooperative(tiled.blocks(), PersistentPlan.Tiled.THREADS, tiled.shared(),
                                device.stream(lane));
            } else {   // one warp per hidden unit, plan.units units per block, every block resident (cooperative)
                device.kernel(Kernel.PERSISTENT_BACKWARD).begin().i(ws.steps).i(batch).i(hidden).i(d)
                        .i(precisionCode).p(gates).p(cells).p(c0).p(dyAt).i(width).p(wHh).p(dhn).p(dcn).p(dG)
                        .p(dh0).p(dc0)
                        .launchCooperative(plan.blocks(), plan.threads(), plan.backwardShared(), device.stream(lane));
            }
        } else {
            int longest = rows.maxLength();
            if (d == 1) {   // the reverse direction ended at t = 0, where every position is active
                device.copy(dhCarry, dhn, (long) batch * real, lane);
                device.copy(dcCarry, dcn, (long) batch * hidden, lane);
            }
            for (int s = 0; s < longest; s++) {
                int t = d == 0 ? longest - 1 - s : s;
                int active = rows.batchSize(t);
                long row = rows.offset(t);
                int later = t + 1 < longest ? rows.batchSize(t + 1) : 0;   // positions still active at t+1
                if (d == 0 && active > later) {   // positions whose last step is t join with dhn, dcn
                    device.copy(at(dhCarry, (long) later * real), at(dhn, (long) later * real),
                            (long) (active - later) * real, lane);
                    device.copy(at(dcCarry, (long) later * hidden), at(dcn, (long) later * hidden),
                            (long) (active - later) * hidden, lane);
                }
                int carried = carried(rows, d, t);
                long cPrev = carried == 0 ? c0
                        : carried == active ? at(cells, previousRow(rows, d, t) * hidden)
                        : joinCellRows(ws, d, lane, at(cells, previousRow(rows, d, t) * hidden), c0, carried, active);
                long dGt = at(dG, row * gates4);
                KernelLauncher pointwise = device.kernel(Kernel.BACKWARD_POINTWISE).begin().i(active).i(hidden)
                        .p(at(gates, row * gates4)).p(at(cells, row * hidden)).p(cPrev);
                if (proj > 0) {   // dH_t = dy_t + dh_carry; dm = dH_t · W_hr; the pointwise kernel adds no carry
                    long dHt = at(ws.hiddenGrad[d], row * real);
                    device.copyRows(dHt, real, at(dyAt, row * width), width, real, active, lane);
                    elementwise(Kernel.ADD, (long) active * real, dHt, dhCarry, dHt, lane);
                    device.blas(lane).gemm(false, false, active, hidden, proj, dHt, real,
                            at(parameters, weightHr[k][d]), hidden, false, ws.projectedGrad[d], hidden);
                    pointwise.p(ws.projectedGrad[d]).i(hidden).p(ws.zeros);
                } else {
                    pointwise.p(at(dyAt, row * width)).i(width).p(dhCarry);
                }
                // one thread per (b, j) of the active rows
                pointwise.p(dcCarry).p(dGt).launch(CudaModule.ceilDiv((long) active * hidden, POINTWISE_BLOCK), 1,
                        POINTWISE_BLOCK, 1, 0, device.stream(lane));
                // dh for the step before = dG_t · W_hh
                device.blas(lane).gemm(false, false, active, real, gates4, dGt, gates4, wHh, real, false, dhCarry,
                        real);
                if (d == 1 && active > later) {   // positions whose first step is t leave with dh0, dc0
                    device.copy(at(dh0, (long) later * real), at(dhCarry, (long) later * real),
                            (long) (active - later) * real, lane);
                    device.copy(at(dc0, (long) later * hidden), at(dcCarry, (long) later * hidden),
                            (long) (active - later) * hidden, lane);
                }
            }
            if (d == 0) {   // every sequence's first step is t = 0
                device.copy(dh0, dhCarry, (long) batch * real, lane);
                device.copy(dc0, dcCarry, (long) batch * hidden, lane);
            }
        }

        recurrentWeightGradient(rows, d, lane, dG, out, h0, at(gradients, weightHh[k][d]));
        // dW_ih = dGᵀ · X_k over all N rows.
        device.blas(lane).gemm(true, false, gates4, inSize, n, dG, gates4, in, inSize, false,
                at(gradients, weightIh[k][d]), inSize);
        if (proj > 0) {   // dW_hr = dHᵀ · M
            device.blas(lane).gemm(true, false, proj, hidden, n, ws.hiddenGrad[d], real, ws.preProjection[k][d],
                    hidden, false, at(gradients, weightHr[k][d]), hidden);
        }
        if (config.bias()) {
            long gBih = at(gradients, biasIh[k][d]);
            device.blas(lane).columnSums(n, gates4, dG, gates4, ws.ones, gBih);
            device.copy(at(gradients, biasHh[k][d]), gBih, gates4, lane);   // both biases get the same gradient
        }
    }

    /**
     * dW_hh = Σ_t dG_tᵀ · h_prev(t). Each step's rows pair with the previous step's output rows of
     * the same positions, or with h0 rows where sequences start; consecutive steps whose pairs are
     * evenly spaced in both arrays merge into one GEMM (a padded batch: one for the rows after the
     * first step, one for h0).
     */
    private void recurrentWeightGradient(LengthSchedule rows, int d, int lane, long dG, long out, long h0,
                                         long gradient) {
        int width = dirs * real;
        ProductRuns runs = new ProductRuns(lane, dG, gradient);
        for (int t = 0; t < rows.maxLength(); t++) {
            int active = rows.batchSize(t);
            int row = rows.offset(t);
            int carried = carried(rows, d, t);
            if (carried > 0) {
                runs.add(row, at(out, (long) previousRow(rows, d, t) * width), width, carried);
            }
            if (active > carried) {
                runs.add(row + carried, at(h0, (long) carried * real), real, active - carried);
            }
        }
        runs.flush();
    }

    /** Accumulates dGᵀ · H products over row runs, one GEMM per run, the first overwriting. */
    private final class ProductRuns {
        private final int lane;
        private final long dG;
        private final long gradient;
        private boolean written;
        private int firstRow;    // of dG
        private long hStart;     // address of the run's first h row
        private int hLd;
        private int count;       // rows in the run (0: none open)

        ProductRuns(int lane, long dG, long gradient) {
            this.lane = lane;
            this.dG = dG;
            this.gradient = gradient;
        }

        void add(int row, long h, int ld, int rowsToAdd) {
            if (count > 0 && ld == hLd && row == firstRow + count && h == at(hStart, (long) count * hLd)) {
                count += rowsToAdd;
                return;
            }
            flush();
            firstRow = row;
            hStart = h;
            hLd = ld;
            count = rowsToAdd;
        }

        void flush() {
            if (count == 0) {
                return;
            }
            int gates4 = 4 * hidden;
            device.blas(lane).gemm(true, false, gates4, real, count, at(dG, (long) firstRow * gates4), gates4,
                    hStart, hLd, written, gradient, real);
            written = true;
            count = 0;
        }
    }

    // ---------------------------------------------------------------- rows and elements

    /** dst row r = src row index[r] (zeros for -1), on a lane: one thread per element. */
    void gather(int rowCount, int width, long src, int srcLd, long index, long dst, int dstLd, int lane) {
        long elements = (long) rowCount * width;
        if (elements == 0) {
            return;
        }
        device.kernel(Kernel.GATHER_ROWS).begin().i(rowCount).i(width).p(src).i(srcLd).p(index).p(dst).i(dstLd)
                .launch(CudaModule.ceilDiv(elements, POINTWISE_BLOCK), 1, POINTWISE_BLOCK, 1, 0,
                        device.stream(lane));
    }

    private void elementwise(Kernel kernel, long count, long a, long b, long out, int lane) {
        if (count > 0) {
            device.kernel(kernel).begin().l(count).p(a).p(b).p(out)
                    .launch(CudaModule.ceilDiv(count, POINTWISE_BLOCK), 1, POINTWISE_BLOCK, 1, 0,
                            device.stream(lane));
        }
    }

    /** Warps per hidden unit the fused kernel uses on this device (for descriptions). */
    int fusedSplit() {
        return fusedSplit;
    }
}
