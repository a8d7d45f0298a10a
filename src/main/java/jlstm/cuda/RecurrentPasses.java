package jlstm.cuda;

import static jlstm.cuda.DeviceAddress.at;

import jlstm.LstmConfig;
import jlstm.EngineOptions.Precision;

/**
 * The launch schedule of the CUDA engine: what {@link CudaLstmEngine} issues for one forward or
 * backward pass over a {@link Workspace}, for every layer and direction. Method names mirror
 * {@code jlstm.cpu.CpuLstmEngine}.
 *
 * <pre>
 * forward, per layer k and direction d:
 *   Xp[T·B, 4H] = X_k · W_ihᵀ                                         one GEMM for all steps
 *   GEMM:        per step R = h_prev · W_hhᵀ (cuBLAS), then lstm_forward_pointwise
 *   FUSED:       per step lstm_fused_step (product and cell update in one launch)
 *   PERSISTENT:  lstm_persistent_forward, one cooperative launch for all steps
 * backward, per layer k (top down) and direction d:
 *   per step lstm_backward_pointwise → dG_t, dc; dh = dG_t · W_hh (cuBLAS)
 *     or, PERSISTENT, lstm_persistent_backward for all steps
 *   dW_hh = Σ_t dG_tᵀ · h_prev(t), dW_ih = dGᵀ · X_k (GEMMs over all T·B rows),
 *   db_ih = db_hh = dGᵀ · 1 (GEMV: deterministic column sums)
 *   after both directions: dX_k = Σ_d dG_d · W_ih,d
 * </pre>
 * Precision: every product above runs in the engine's {@link Precision} (cuBLAS through the
 * handles' {@link Cublas#setPrecision}; the fused and persistent kernels through their
 * {@code precision} argument, {@link #kernelCode}).
 * The two directions of a bidirectional layer run on two streams (lanes 0 and 1) at the same time,
 * forked from lane 0 and joined back before the next layer needs both.
 */
final class RecurrentPasses {
    /** Threads per block of the pointwise kernels (one per (b, j) element). */
    private static final int POINTWISE_BLOCK = 256;
    /** kWarpsPerBlock in lstm_fused_step.cu. */
    private static final int FUSED_WARPS_PER_BLOCK = 4;

    private final CudaDevice device;
    private final LstmConfig config;
    private final int layers;
    private final int dirs;
    private final int hidden;
    // Float offsets of each layer's and direction's parameters (and of their gradients) in the
    // engine's parameter layout; -1 for absent biases.
    private final long[][] weightIh;
    private final long[][] weightHh;
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
    RecurrentPasses(CudaDevice device, LstmConfig config, java.util.Map<String, Long> offsets) {
        this.device = device;
        this.config = config;
        this.layers = config.numLayers();
        this.dirs = config.directions();
        this.hidden = config.hiddenSize();
        weightIh = new long[layers][dirs];
        weightHh = new long[layers][dirs];
        biasIh = new long[layers][dirs];
        biasHh = new long[layers][dirs];
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                String suffix = LstmConfig.suffix(k, d);
                weightIh[k][d] = offsets.get("weight_ih_" + suffix);
                weightHh[k][d] = offsets.get("weight_hh_" + suffix);
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

    // ---------------------------------------------------------------- forward

    /** All layers and directions; reads ws.x, ws.h0, ws.c0, writes every layer output, ws.hn, ws.cn. */
    void forward(Workspace ws, long parameters, CudaLstmEngine.Schedule schedule, PersistentPlan plan,
                 boolean training) {
        boolean concurrent = concurrent(schedule, plan);
        for (int k = 0; k < layers; k++) {
            long in = k == 0 ? ws.x : ws.layerOutput[k - 1];
            if (concurrent) {
                device.fork();
            }
            for (int d = 0; d < dirs; d++) {
                forwardDirection(ws, parameters, k, d, concurrent ? d : 0, in, schedule, plan, training);
            }
            if (concurrent) {
                device.join();
            }
        }
    }

    /** One layer, one direction, all steps, on one lane; writes this slot of hn and cn. */
    private void forwardDirection(Workspace ws, long parameters, int k, int d, int lane, long in,
                                  CudaLstmEngine.Schedule schedule, PersistentPlan plan, boolean training) {
        int steps = ws.steps, batch = ws.batch, gates4 = 4 * hidden, outWidth = dirs * hidden;
        int inSize = config.layerInputSize(k);
        long slot = (long) (k * dirs + d) * batch * hidden;
        long xp = ws.gates[k][d];
        long cells = ws.cells[k][d];
        long out = at(ws.layerOutput[k], (long) d * hidden);   // this direction's half of each output row
        long wHh = at(parameters, weightHh[k][d]);
        long bIh = address(parameters, biasIh[k][d]);
        long bHh = address(parameters, biasHh[k][d]);
        // Xp = X_k · W_ihᵀ for every step at once.
        device.blas(lane).gemm(false, true, steps * batch, gates4, inSize, in, inSize,
                at(parameters, weightIh[k][d]), inSize, false, xp, gates4);

        if (schedule == CudaLstmEngine.Schedule.PERSISTENT) {
            Kernel kernel = training ? Kernel.PERSISTENT_FORWARD_TRAINING : Kernel.PERSISTENT_FORWARD_INFERENCE;
            KernelLauncher launch = device.kernel(kernel).begin().i(steps).i(batch).i(hidden).i(d).i(precisionCode)
                    .p(xp).p(wHh)
                    .p(bIh).p(bHh).p(at(ws.h0, slot)).p(at(ws.c0, slot)).p(out).i(outWidth);
            if (training) {
                launch.p(cells);
            }
            // one warp per hidden unit, plan.units units per block, every block resident (cooperative)
            launch.p(at(ws.cn, slot)).launchCooperative(plan.blocks(), plan.threads(), plan.forwardShared(),
                    device.stream(lane));
        } else {
            boolean fused = schedule == CudaLstmEngine.Schedule.FUSED;
            for (int s = 0; s < steps; s++) {
                int t = d == 0 ? s : steps - 1 - s;
                int prev = d == 0 ? t - 1 : t + 1;
                long hPrev = s == 0 ? at(ws.h0, slot) : at(out, (long) prev * batch * outWidth);
                int hPrevLd = s == 0 ? hidden : outWidth;
                long cPrev = s == 0 ? at(ws.c0, slot)
                        : training ? at(cells, (long) prev * batch * hidden) : ws.cellState[d];
                long cOut = training ? at(cells, (long) t * batch * hidden) : ws.cellState[d];
                long hOut = at(out, (long) t * batch * outWidth);
                long xpT = at(xp, (long) t * batch * gates4);
                KernelLauncher launch;
                int grid;
                int block;
                if (fused) {
                    launch = device.kernel(training ? Kernel.FUSED_STEP_TRAINING : Kernel.FUSED_STEP_INFERENCE)
                            .begin().i(batch).i(hidden).i(fusedSplit).i(precisionCode).p(xpT).p(hPrev).i(hPrevLd).p(wHh);
                    // 4 warps per block; fusedSplit warps share a unit: 4 / fusedSplit units per block
                    grid = CudaModule.ceilDiv(hidden, FUSED_WARPS_PER_BLOCK / fusedSplit);
                    block = 32 * FUSED_WARPS_PER_BLOCK;
                } else {
                    device.blas(lane).gemm(false, true, batch, gates4, hidden, hPrev, hPrevLd, wHh, hidden, false,
                            ws.recurrent[d], gates4);
                    launch = device.kernel(training ? Kernel.FORWARD_POINTWISE_TRAINING
                            : Kernel.FORWARD_POINTWISE_INFERENCE).begin().i(batch).i(hidden).p(xpT)
                            .p(ws.recurrent[d]);
                    grid = CudaModule.ceilDiv((long) batch * hidden, POINTWISE_BLOCK);   // one thread per (b, j)
                    block = POINTWISE_BLOCK;
                }
                launch.p(bIh).p(bHh).p(cPrev).p(cOut).p(hOut).i(outWidth);
                if (training) {
                    launch.p(xpT);   // activated gates over Xp_t
                }
                launch.launch(grid, 1, block, 1, 0, device.stream(lane));
            }
            int last = d == 0 ? steps - 1 : 0;
            device.copy(at(ws.cn, slot), training ? at(cells, (long) last * batch * hidden) : ws.cellState[d],
                    (long) batch * hidden, lane);
        }
        // hn of this slot: the output row of the last step processed.
        int last = d == 0 ? steps - 1 : 0;
        device.copyRows(at(ws.hn, slot), hidden, at(out, (long) last * batch * outWidth), outWidth, hidden, batch,
                lane);
    }

    // ---------------------------------------------------------------- backward

    /**
     * Back-propagation through all layers, after a training-mode {@link #forward}. Reads ws.dy,
     * ws.dhn, ws.dcn; writes ws.dx(), ws.dh0, ws.dc0 and every parameter gradient at its offset from
     * {@code gradients}.
     */
    void backward(Workspace ws, long parameters, long gradients, CudaLstmEngine.Schedule schedule,
                  PersistentPlan plan) {
        boolean concurrent = concurrent(schedule, plan);
        int rows = ws.steps * ws.batch, gates4 = 4 * hidden;
        for (int k = layers - 1; k >= 0; k--) {
            long outGrad = k == layers - 1 ? ws.dy : ws.layerInputGrad[k + 1];
            long in = k == 0 ? ws.x : ws.layerOutput[k - 1];
            int inSize = config.layerInputSize(k);
            if (concurrent) {
                device.fork();
            }
            for (int d = 0; d < dirs; d++) {
                backwardDirection(ws, parameters, gradients, k, d, concurrent ? d : 0, in, outGrad, schedule, plan);
            }
            if (concurrent) {
                device.join();
            }
            // dX_k = Σ_d dG_d · W_ih,d: direction 0 overwrites, direction 1 adds (lane 0, after the join).
            for (int d = 0; d < dirs; d++) {
                device.blas(0).gemm(false, false, rows, inSize, gates4, ws.gateGrad[d], gates4,
                        at(parameters, weightIh[k][d]), inSize, d == 1, ws.layerInputGrad[k], inSize);
            }
        }
    }

    /** dG of one layer and direction, its dh0/dc0 slot, and its weight and bias gradients. */
    private void backwardDirection(Workspace ws, long parameters, long gradients, int k, int d, int lane, long in,
                                   long outGrad, CudaLstmEngine.Schedule schedule, PersistentPlan plan) {
        int steps = ws.steps, batch = ws.batch, gates4 = 4 * hidden, outWidth = dirs * hidden;
        int inSize = config.layerInputSize(k);
        int rows = steps * batch;
        long state = (long) batch * hidden;
        long slot = (k * dirs + d) * state;
        long gates = ws.gates[k][d];
        long cells = ws.cells[k][d];
        long out = at(ws.layerOutput[k], (long) d * hidden);
        long dG = ws.gateGrad[d];
        long wHh = at(parameters, weightHh[k][d]);
        long dyAt = at(outGrad, (long) d * hidden);

        if (schedule == CudaLstmEngine.Schedule.PERSISTENT) {
            // one warp per hidden unit, plan.units units per block, every block resident (cooperative)
            device.kernel(Kernel.PERSISTENT_BACKWARD).begin().i(steps).i(batch).i(hidden).i(d).i(precisionCode)
                    .p(gates).p(cells)
                    .p(at(ws.c0, slot)).p(dyAt).i(outWidth).p(wHh).p(at(ws.dhn, slot)).p(at(ws.dcn, slot)).p(dG)
                    .p(at(ws.dh0, slot)).p(at(ws.dc0, slot))
                    .launchCooperative(plan.blocks(), plan.threads(), plan.backwardShared(), device.stream(lane));
        } else {
            device.copy(ws.dhCarry[d], at(ws.dhn, slot), state, lane);
            device.copy(ws.dcCarry[d], at(ws.dcn, slot), state, lane);
            int grid = CudaModule.ceilDiv(state, POINTWISE_BLOCK);   // one thread per (b, j)
            for (int s = steps - 1; s >= 0; s--) {
                int t = d == 0 ? s : steps - 1 - s;
                int prev = d == 0 ? t - 1 : t + 1;
                long cPrev = s == 0 ? at(ws.c0, slot) : at(cells, prev * state);
                long dGt = at(dG, (long) t * batch * gates4);
                device.kernel(Kernel.BACKWARD_POINTWISE).begin().i(batch).i(hidden)
                        .p(at(gates, (long) t * batch * gates4)).p(at(cells, t * state)).p(cPrev)
                        .p(at(dyAt, (long) t * batch * outWidth)).i(outWidth).p(ws.dhCarry[d]).p(ws.dcCarry[d])
                        .p(dGt).launch(grid, 1, POINTWISE_BLOCK, 1, 0, device.stream(lane));
                // dh for step t-1 = dG_t · W_hh
                device.blas(lane).gemm(false, false, batch, hidden, gates4, dGt, gates4, wHh, hidden, false,
                        ws.dhCarry[d], hidden);
            }
            device.copy(at(ws.dh0, slot), ws.dhCarry[d], state, lane);
            device.copy(at(ws.dc0, slot), ws.dcCarry[d], state, lane);
        }

        // dW_hh = Σ_t dG_tᵀ · h_prev(t): the steps whose h_prev is an output row, then the h0 step.
        long gWhh = at(gradients, weightHh[k][d]);
        int firstStep = d == 0 ? 0 : steps - 1;   // its h_prev is h0
        if (steps > 1) {
            // d = 0: rows t = 1…T-1 pair with outputs t-1 = 0…T-2; d = 1: rows 0…T-2 with outputs 1…T-1.
            long dGRows = at(dG, d == 0 ? (long) batch * gates4 : 0);
            long hRows = at(out, d == 0 ? 0 : (long) batch * outWidth);
            device.blas(lane).gemm(true, false, gates4, hidden, (steps - 1) * batch, dGRows, gates4, hRows, outWidth,
                    false, gWhh, hidden);
        }
        device.blas(lane).gemm(true, false, gates4, hidden, batch, at(dG, (long) firstStep * batch * gates4), gates4,
                at(ws.h0, slot), hidden, steps > 1, gWhh, hidden);
        // dW_ih = dGᵀ · X_k over all T·B rows.
        device.blas(lane).gemm(true, false, gates4, inSize, rows, dG, gates4, in, inSize, false,
                at(gradients, weightIh[k][d]), inSize);
        if (config.bias()) {
            long gBih = at(gradients, biasIh[k][d]);
            device.blas(lane).columnSums(rows, gates4, dG, gates4, ws.ones, gBih);
            device.copy(at(gradients, biasHh[k][d]), gBih, gates4, lane);   // both biases get the same gradient
        }
    }

    /** Warps per hidden unit the fused kernel uses on this device (for descriptions). */
    int fusedSplit() {
        return fusedSplit;
    }
}
