package jlstm.internal.cpu;

import java.util.Arrays;

import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/**
 * The CPU engine: one recurrence for every batch, on the native kernels where they run
 * ({@link NativeLstm}, chosen at construction), else on the pure-Java path below, which is also
 * the reference the kernels are tested against and reads like the equations of the design.
 *
 * <p>Everything per step lives in the packed layout of {@link LengthSchedule} (sorted by length,
 * active batch shrinking per step, rows offset(t) + j); with every length T that is exactly the
 * padded layout, so one time loop serves padded batches, lengths, projections ({@code proj_size})
 * and dropout masks, and the work is proportional to Σ lengths.
 * Per layer k and direction d (d = 1 walks time backwards), with R = P under a projection, else H:
 * <pre>
 * forward:   G[N, 4H] = X_k · W_ihᵀ + b_ih + b_hh                   one product over the N packed rows
 *            per step t (active positions j &lt; n_t):
 *              G_t += h_prev · W_hhᵀ                                 W_hh [4H, R]
 *              i, f, g, o; c_t = f ⊙ c_prev + i ⊙ g; m_t = o ⊙ tanh(c_t)
 *              h_t = m_t (no projection) or m_t · W_hrᵀ ({@link ProjectionStep})
 *            X_{k+1} = [h_fwd | h_rev] ⊙ mask_k                     (dropout, layers below the last)
 * backward:  per step, opposite order:  dh = dy_t + dh_carry;  dm = dh (or dh · W_hr);
 *              dG_t from the saved gates; dc_carry = dc ⊙ f;  dh_carry = dG_t · W_hh
 *            then one product each over the N rows: dW_ih = dGᵀ·X_k, dW_hh = dGᵀ·H_prev,
 *              dW_hr = dHᵀ·M, db = Σ dG, dX_k = dG·W_ih;   dy_{k−1} = dX_k ⊙ mask_{k−1}
 * </pre>
 * h_prev and c_prev of each packed row are kept as references to the rows they were read from (a
 * row of step t±1, or of h0/c0 for a sequence's first step), which makes dW_hh one product even
 * when sequences of the reverse direction start at different steps.
 *
 * <p>Threads (Java path): the products split their rows (or gate rows) across the
 * {@link WorkerPool}; in the time loop each worker runs the whole recurrence of a fixed block of
 * sequences, balanced by their total length, with no barrier per step ({@link #positions}).
 *
 * <p>Weights: every forward compares the parameters with the copy it last packed and re-packs
 * what changed, so in-place parameter updates are seen by the next forward without any call; a
 * backward reads only the packed copies, i.e. the weights of the forward it continues, whatever
 * happened to the parameters since ({@link LstmEngine#backward}). Workspaces grow to the largest shape seen and are
 * reused; the Java path's are made by its first call (none while the native kernels run).
 *
 * <p>Not thread-safe: one call at a time, as every engine.
 */
final class CpuLstmEngine implements LstmEngine {
    private final LstmParameters params;
    private final LstmConfig config;
    private final int layers;
    private final int dirs;
    private final int hidden;   // H: c and the gates
    private final int real;     // R: h (P with a projection, else H)
    private final int proj;     // P, 0 for none
    private final WorkerPool pool;
    private final float[][] scratch; // [worker][H]

    // Weights, re-packed when a parameter differs from the copy last packed.
    private final float[][][][] packedFrom; // [k][d] → copies of W_ih, W_hh, b_ih, b_hh, W_hr (null when absent)
    private final float[][][][] weightIhT; // [k][d] → [I_k][4H]
    private final float[][][][] weightHhT; // [k][d] → [R][4H]
    private final float[][][][] weightIh;  // [k][d] → [4H][I_k]
    private final float[][][][] weightHh;  // [k][d] → [4H][R]
    private final ProjectionStep[][] projections; // [k][d], null without projection
    private final float[][][] biasSum;     // [k][d] → [4H]: b_ih + b_hh (zeros without bias)

    // Workspace, grown to the largest (N, B) seen; rows beyond the current N are unused.
    private int rowCapacity;
    private int batchCapacity;
    private LengthSchedule schedule;
    private boolean trained;
    private float[][] input;            // [N][I]: packed x
    private float[][][][] initialH;     // [k][d] → [B][R] by sorted position
    private float[][][][] initialC;     // [k][d] → [B][H]
    private float[][][][] gates;        // [k][d] → [N][4H]: pre-activations, then activated i, f, g, o
    private float[][][][] cells;        // [k][d] → [N][H]: c_t
    private float[][][][] cellOutput;   // [k][d] → [N][H]: m_t = o ⊙ tanh(c_t); the same rows as hiddenStates without projection
    private float[][][][] hiddenStates; // [k][d] → [N][R]: h_t
    private float[][][][] previousH;    // [k][d] → [N]: the h_prev row each packed row read (aliases)
    private float[][][][] previousC;    // [k][d] → [N]: the c_prev row (aliases)
    private float[][][] layerOutput;    // [k] → [N][D·R]: [h_fwd | h_rev]; aliases hiddenStates[k][0] when D = 1
    private float[][][] layerInput;     // [k] → [N][I_k]: what layer k read (x, the layer below's output, masked)
    private float[][][] masks;          // [k] → [N][D·R]: packed dropout masks of layers 0 … L−2, or null
    private float[][][] maskedInputRows; // [k] → [N][D·R] for k ≥ 1: storage of the masked layer inputs
    private float[][] dGates;           // [N][4H]
    private float[][] dHidden;          // [N][P]: dh of every row, for dW_hr (projection only)
    private float[][] dCell;            // [B][H]: dm of a step (projection only)
    private float[][] zeroRows;         // [B][H] zeros: the "carried dh" when dm already holds all of dh
    private float[][] dhCarry;          // [B][R]
    private float[][] dcCarry;          // [B][H]
    private float[][] outputGrad;       // [N][D·R]: dy packed
    private float[][][] inputGrad;      // [k] → [N][I_k]: dX_k (layer 0's is dx)
    private final float[][][] gradIh;   // [k] → [4H][I_k]
    private float[][] gradHh;           // [4H][R]
    private float[][] gradHr;           // [P][H], or null
    private float[] gradBias;           // [4H]

    private final CpuTuning tuning;
    /** The native kernels when this engine runs on them (every call), else null: the Java path below. */
    private final NativeLstm fast;

    /**
     * An engine on the process-wide pool of {@link WorkerPool#shared()} (tests).
     *
     * @param unitBlock the native kernels to use (16: AVX-512, 8: AVX2; the CPU must have them), or
     *                  0 for the pure-Java path
     * @param tuning    how the time loops are shared between the workers
     */
    CpuLstmEngine(LstmParameters params, int unitBlock, CpuTuning tuning) {
        this(params, unitBlock, WorkerPool.shared(), tuning);
    }

    /**
     * @param unitBlock the native kernels to use (16: AVX-512, 8: AVX2; the CPU must have them), or
     *                  0 for the pure-Java path
     * @param pool      the workers every product and step runs on
     * @param tuning    how the time loops are shared between the workers
     */
    CpuLstmEngine(LstmParameters params, int unitBlock, WorkerPool pool, CpuTuning tuning) {
        this.params = params;
        this.config = params.config();
        this.layers = config.numLayers();
        this.dirs = config.directions();
        this.hidden = config.hiddenSize();
        this.real = config.realHiddenSize();
        this.proj = config.projSize();
        this.pool = pool;
        this.tuning = tuning;
        this.fast = unitBlock > 0 ? new NativeLstm(params, unitBlock, pool, tuning) : null;
        this.scratch = new float[pool.size()][hidden];
        int gates4 = 4 * hidden;
        weightIhT = new float[layers][dirs][][];
        weightHhT = new float[layers][dirs][][];
        weightIh = new float[layers][dirs][][];
        weightHh = new float[layers][dirs][][];
        projections = new ProjectionStep[layers][dirs];
        packedFrom = new float[layers][dirs][][];
        biasSum = new float[layers][dirs][gates4];
        gradIh = new float[layers][][];
        // The weight copies and gradient scratch themselves: by the Java path's first call (ensureWeights).
    }

    /** The Java path's row-stored weight copies and gradient scratch, made by its first call. */
    private void ensureWeights() {
        if (gradBias != null) {
            return;
        }
        int gates4 = 4 * hidden;
        for (int k = 0; k < layers; k++) {
            int in = config.layerInputSize(k);
            gradIh[k] = new float[gates4][in];
            for (int d = 0; d < dirs; d++) {
                weightIhT[k][d] = new float[in][gates4];
                weightHhT[k][d] = new float[real][gates4];
                weightIh[k][d] = new float[gates4][in];
                weightHh[k][d] = new float[gates4][real];
                if (proj > 0) {
                    projections[k][d] = new ProjectionStep(hidden, proj);
                }
            }
        }
        gradHh = new float[gates4][real];
        gradHr = proj > 0 ? new float[proj][hidden] : null;
        gradBias = new float[gates4];
    }

    @Override
    public String deviceName() {
        return "cpu";
    }

    @Override
    public void parametersUpdated() {
        // Nothing to do: every forward compares the parameters with the copy last packed.
    }

    // ---------------------------------------------------------------- forward

    @Override
    public void forward(int steps, int batch, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                        boolean training) {
        forward(steps, batch, x, h0, c0, y, hn, cn, training, null, null);
    }

    @Override
    public void forward(int steps, int batch, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                        boolean training, int[] lengths, float[][] dropoutMasks) {
        if (fast != null) {
            fast.forward(steps, batch, x, h0, c0, y, hn, cn, training, lengths, dropoutMasks);
            return;
        }
        trained = false;
        LengthSchedule s = LengthSchedule.of(steps, batch, lengths);
        schedule = s;
        ensureWorkspace(s.rows(), batch);
        packWeights();
        s.pack(x, config.inputSize(), input);
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                int slot = k * dirs + d;
                sortedRows(h0, slot, real, initialH[k][d]);
                sortedRows(c0, slot, hidden, initialC[k][d]);
            }
        }
        packMasks(dropoutMasks);
        for (int k = 0; k < layers; k++) {
            layerInput[k] = k == 0 ? input : maskedInput(k);
            float[][] in = layerInput[k];
            for (int d = 0; d < dirs; d++) {
                int layer = k, direction = d;
                pool.run((worker, workers) -> forwardDirection(layer, direction, in, worker, workers));
            }
            if (dirs == 2) {
                for (int r = 0; r < s.rows(); r++) {
                    System.arraycopy(hiddenStates[k][0][r], 0, layerOutput[k][r], 0, real);
                    System.arraycopy(hiddenStates[k][1][r], 0, layerOutput[k][r], real, real);
                }
            }
        }
        Arrays.fill(y, 0f); // padded steps stay zero
        s.unpack(layerOutput[layers - 1], 0, dirs * real, y, dirs * real, 0);
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                int slot = (k * dirs + d) * batch;
                for (int b = 0; b < batch; b++) {
                    int row = s.finalRow(b, d);
                    System.arraycopy(hiddenStates[k][d][row], 0, hn, (slot + b) * real, real);
                    System.arraycopy(cells[k][d][row], 0, cn, (slot + b) * hidden, hidden);
                }
            }
        }
        trained = training;
    }

    /** One layer and direction, one worker's share: the input projection, then the time loop. */
    private void forwardDirection(int k, int d, float[][] in, int worker, int workers) {
        LengthSchedule s = schedule;
        int rows = s.rows(), gates4 = 4 * hidden, inSize = config.layerInputSize(k);
        float[][] g = gates[k][d];

        // G = X_k · W_ihᵀ + b_ih + b_hh: this worker's packed rows.
        int r0 = WorkerPool.start(rows, worker, workers, 2), r1 = WorkerPool.start(rows, worker + 1, workers, 2);
        for (int r = r0; r < r1; r++) {
            System.arraycopy(biasSum[k][d], 0, g[r], 0, gates4);
        }
        Gemm.nnRows(r1 - r0, inSize, 0, gates4, in, r0, 0, weightIhT[k][d], 0, g, r0);
        pool.barrier();

        int[] block = positions(worker, workers); // this worker's sequences, for the whole loop
        float[][] c = cells[k][d], m = cellOutput[k][d], h = hiddenStates[k][d];
        float[][] hPrev = previousH[k][d], cPrev = previousC[k][d];
        int last = s.maxLength() - 1;
        for (int n = 0; n <= last; n++) {
            int t = d == 0 ? n : last - n;
            int active = s.batchSize(t), row = s.offset(t);
            int j0 = block[0], j1 = Math.min(block[1], active);
            // Where each active position's h_prev, c_prev come from (LengthSchedule, steps 4 and 5).
            int from = d == 0 ? t - 1 : t + 1;
            int continuing = d == 0 ? (t == 0 ? 0 : active) : (t == last ? 0 : s.batchSize(t + 1));
            for (int j = j0; j < j1; j++) {
                boolean fromStep = j < continuing;
                hPrev[row + j] = fromStep ? h[s.offset(from) + j] : initialH[k][d][j];
                cPrev[row + j] = fromStep ? c[s.offset(from) + j] : initialC[k][d][j];
            }
            int count = j1 - j0;
            if (count > 0) {
                Gemm.nnRows(count, real, 0, gates4, hPrev, row + j0, 0, weightHhT[k][d], 0, g, row + j0);
                CellMath.forwardPointwiseRows(count, 0, hidden, 0, g, row + j0, cPrev, row + j0, c, row + j0, m,
                        row + j0, scratch[worker]);
                if (proj > 0) {
                    projections[k][d].forward(count, m, row + j0, h, row + j0);
                }
            }
        }
    }

    /**
     * The sorted positions [p0, p1) whose whole recurrence this worker runs. A sequence's steps
     * depend only on its own earlier steps, so with a fixed block per worker the time loop needs no
     * barrier at all (a worker whose sequences have ended simply stops). The blocks are contiguous
     * (one product per step) and cut where the running sum of the lengths crosses w/W of the total,
     * so each worker gets the same number of steps: fewer, longer sequences at the front. Worker 0
     * takes everything when the batch is too small to split or a step too small to be worth it.
     */
    private int[] positions(int worker, int workers) {
        LengthSchedule s = schedule;
        int batch = s.batch();
        boolean split = switch (tuning.timeLoop()) {
            case AUTO -> workers > 1 && batch >= 2 * workers
                    && 2.0 * batch * 4 * hidden * real >= tuning.javaSplitStepFlops();
            case ONE_WORKER -> false;
            case SPLIT_ROWS, SPLIT_UNITS -> workers > 1; // (the Java path splits by sequences only)
        };
        if (!split) {
            return worker == 0 ? new int[] {0, batch} : new int[] {0, 0};
        }
        int[] blocks = s.balancedBlocks(workers);
        return new int[] {blocks[worker], blocks[worker + 1]};
    }

    /** Layer k's input: the output of layer k − 1, times its dropout mask when there is one. */
    private float[][] maskedInput(int k) {
        float[][] out = layerOutput[k - 1];
        if (masks == null) {
            return out;
        }
        float[][] mask = masks[k - 1];
        float[][] in = maskedInputRows[k];
        for (int r = 0; r < schedule.rows(); r++) {
            float[] o = out[r], q = mask[r], i = in[r];
            for (int col = 0; col < o.length; col++) {
                i[col] = o[col] * q[col];
            }
        }
        return in;
    }

    /** Packs the dropout masks (L − 1 arrays [T·B·D·R]) into packed rows, or clears them. */
    private void packMasks(float[][] dropoutMasks) {
        if (dropoutMasks == null || layers == 1) {
            masks = null; // one layer: nothing between layers to drop
            return;
        }
        if (dropoutMasks.length != layers - 1) {
            throw new IllegalArgumentException("expected " + (layers - 1) + " dropout masks, got " + dropoutMasks.length);
        }
        int width = dirs * real;
        if (masks == null || masks.length != layers - 1 || masks[0].length < rowCapacity) {
            masks = new float[layers - 1][rowCapacity][width];
        }
        if (maskedInputRows == null || maskedInputRows[1].length < rowCapacity) {
            maskedInputRows = new float[layers][][];
            for (int k = 1; k < layers; k++) {
                maskedInputRows[k] = new float[rowCapacity][width];
            }
        }
        for (int k = 0; k < layers - 1; k++) {
            schedule.pack(dropoutMasks[k], width, masks[k]);
        }
    }

    // ---------------------------------------------------------------- backward

    @Override
    public void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                         LstmParameters gradients) {
        if (fast != null) {
            fast.backward(dy, dhn, dcn, dx, dh0, dc0, gradients);
            return;
        }
        if (!trained) {
            throw new IllegalStateException("backward needs a training-mode forward pass first");
        }
        LengthSchedule s = schedule;
        int batch = s.batch(), rows = s.rows();
        ensureBackwardWorkspace();
        // No packWeights(): the packed copies are those the forward ran with, which is what backward differentiates.
        s.pack(dy, dirs * real, outputGrad);
        for (int k = layers - 1; k >= 0; k--) {
            float[][] outGrad = k == layers - 1 ? outputGrad : inputGrad[k + 1];
            if (k < layers - 1 && masks != null) {
                // d(layer k's output) = mask_k ⊙ d(layer k+1's input)
                float[][] mask = masks[k];
                for (int r = 0; r < rows; r++) {
                    float[] gRow = outGrad[r], q = mask[r];
                    for (int col = 0; col < gRow.length; col++) {
                        gRow[col] *= q[col];
                    }
                }
            }
            for (int r = 0; r < rows; r++) {
                Arrays.fill(inputGrad[k][r], 0f);
            }
            for (int d = 0; d < dirs; d++) {
                int slot = k * dirs + d;
                sortedRows(dhn, slot, real, dhCarry);
                sortedRows(dcn, slot, hidden, dcCarry);
                int layer = k, direction = d;
                pool.run((worker, workers) -> backwardDirection(layer, direction, outGrad, gradients, worker,
                        workers));
                for (int j = 0; j < batch; j++) {
                    int b = s.sequence(j);
                    System.arraycopy(dhCarry[j], 0, dh0, (slot * batch + b) * real, real);
                    System.arraycopy(dcCarry[j], 0, dc0, (slot * batch + b) * hidden, hidden);
                }
            }
        }
        Arrays.fill(dx, 0f); // no gradient reaches padded steps
        s.unpack(inputGrad[0], 0, config.inputSize(), dx, config.inputSize(), 0);
    }

    /** One layer and direction, one worker's share: the time loop, then the weight gradients and dX. */
    private void backwardDirection(int k, int d, float[][] outGrad, LstmParameters gradients, int worker,
                                   int workers) {
        LengthSchedule s = schedule;
        int rows = s.rows(), gates4 = 4 * hidden, inSize = config.layerInputSize(k);
        float[][] g = gates[k][d], c = cells[k][d], cPrev = previousC[k][d];
        int[] block = positions(worker, workers); // the same sequences as forward: no barrier per step
        int last = s.maxLength() - 1;
        for (int n = last; n >= 0; n--) {
            int t = d == 0 ? n : last - n;
            int active = s.batchSize(t), row = s.offset(t);
            int j0 = block[0], j1 = Math.min(block[1], active);
            int count = j1 - j0;
            if (count > 0) {
                if (proj == 0) {
                    CellMath.backwardPointwiseRows(count, 0, hidden, 0, g, row + j0, c, row + j0, cPrev, row + j0,
                            outGrad, row + j0, d * hidden, dhCarry, dcCarry, j0, dGates, row + j0, scratch[worker]);
                } else {
                    // dh = dy_t + dh_carry (kept per row for dW_hr); dm = dh · W_hr is what the cell sees.
                    for (int j = j0; j < j1; j++) {
                        float[] dhRow = dHidden[row + j], dyRow = outGrad[row + j], carry = dhCarry[j];
                        for (int p = 0; p < real; p++) {
                            dhRow[p] = dyRow[d * real + p] + carry[p];
                        }
                    }
                    projections[k][d].backward(count, dHidden, row + j0, dCell, j0);
                    CellMath.backwardPointwiseRows(count, 0, hidden, 0, g, row + j0, c, row + j0, cPrev, row + j0,
                            dCell, j0, 0, zeroRows, dcCarry, j0, dGates, row + j0, scratch[worker]);
                }
                // dh_carry of these positions = dG_t · W_hh: the gradient of the h_prev they read.
                for (int j = j0; j < j1; j++) {
                    Arrays.fill(dhCarry[j], 0f);
                }
                Gemm.nnRows(count, gates4, 0, real, dGates, row + j0, 0, weightHh[k][d], 0, dhCarry, j0);
            }
        }
        pool.barrier(); // every dG_t complete

        // Gate rows [w0, w1) of dW_ih = dGᵀ · X_k, dW_hh = dGᵀ · H_prev and db = Σ dG.
        int w0 = WorkerPool.start(gates4, worker, workers, 2), w1 = WorkerPool.start(gates4, worker + 1, workers, 2);
        float[][] dWih = gradIh[k];
        for (int r = w0; r < w1; r++) {
            Arrays.fill(dWih[r], 0f);
            Arrays.fill(gradHh[r], 0f);
        }
        Gemm.tnRows(w1 - w0, rows, 0, inSize, dGates, 0, w0, layerInput[k], 0, dWih, w0);
        Gemm.tnRows(w1 - w0, rows, 0, real, dGates, 0, w0, previousH[k][d], 0, gradHh, w0);
        copyRows(dWih, gradients.weightIh(k, d), w0, w1, inSize);
        copyRows(gradHh, gradients.weightHh(k, d), w0, w1, real);
        if (config.bias()) {
            Arrays.fill(gradBias, w0, w1, 0f);
            for (int r = 0; r < rows; r++) {
                float[] dGRow = dGates[r];
                for (int j = w0; j < w1; j++) {
                    gradBias[j] += dGRow[j];
                }
            }
            float[] dbIh = gradients.biasIh(k, d), dbHh = gradients.biasHh(k, d);
            System.arraycopy(gradBias, w0, dbIh, w0, w1 - w0);
            System.arraycopy(gradBias, w0, dbHh, w0, w1 - w0);
        }
        if (proj > 0) {
            int p0 = WorkerPool.start(proj, worker, workers, 1), p1 = WorkerPool.start(proj, worker + 1, workers, 1);
            projections[k][d].weightGradient(rows, dHidden, cellOutput[k][d], gradHr, p0, p1);
            copyRows(gradHr, gradients.weightHr(k, d), p0, p1, hidden);
        }

        // dX_k += dG · W_ih: this worker's packed rows.
        int r0 = WorkerPool.start(rows, worker, workers, 2), r1 = WorkerPool.start(rows, worker + 1, workers, 2);
        Gemm.nnRows(r1 - r0, gates4, 0, inSize, dGates, r0, 0, weightIh[k][d], 0, inputGrad[k], r0);
    }

    // ---------------------------------------------------------------- workspace and copies

    private void ensureWorkspace(int rows, int batch) {
        if (rows <= rowCapacity && batch <= batchCapacity && gates != null) {
            return;
        }
        int n = Math.max(rows, rowCapacity), b = Math.max(batch, batchCapacity);
        rowCapacity = n;
        batchCapacity = b;
        int gates4 = 4 * hidden, width = dirs * real;
        input = new float[n][config.inputSize()];
        initialH = new float[layers][dirs][b][real];
        initialC = new float[layers][dirs][b][hidden];
        gates = new float[layers][dirs][n][gates4];
        cells = new float[layers][dirs][n][hidden];
        hiddenStates = new float[layers][dirs][n][real];
        cellOutput = proj > 0 ? new float[layers][dirs][n][hidden] : hiddenStates;
        previousH = new float[layers][dirs][n][];
        previousC = new float[layers][dirs][n][];
        layerOutput = new float[layers][][];
        layerInput = new float[layers][][];
        for (int k = 0; k < layers; k++) {
            layerOutput[k] = dirs == 1 ? hiddenStates[k][0] : new float[n][width];
        }
        inputGrad = null; // the backward buffers: by the first backward pass (inference never holds them)
        masks = null;
        maskedInputRows = null;
    }

    /** The backward pass's buffers, for the current capacity. */
    private void ensureBackwardWorkspace() {
        if (inputGrad != null) {
            return;
        }
        int n = rowCapacity, b = batchCapacity, gates4 = 4 * hidden;
        inputGrad = new float[layers][][];
        for (int k = 0; k < layers; k++) {
            inputGrad[k] = new float[n][config.layerInputSize(k)];
        }
        dGates = new float[n][gates4];
        dHidden = proj > 0 ? new float[n][proj] : null;
        dCell = proj > 0 ? new float[b][hidden] : null;
        zeroRows = proj > 0 ? new float[b][hidden] : null;
        dhCarry = new float[b][real];
        dcCarry = new float[b][hidden];
        outputGrad = new float[n][dirs * real];
    }

    /**
     * Every layer's weights into the row-stored forms the products read, and b_ih + b_hh, where a
     * parameter changed since it was last packed: comparing (a vectorised Arrays.equals) costs a
     * fraction of re-packing, and in-place updates by an optimizer are seen by the next forward.
     * Forward only: the backward of a pass reads the forms its forward packed.
     */
    private void packWeights() {
        ensureWeights();
        int gates4 = 4 * hidden;
        for (int k = 0; k < layers; k++) {
            int in = config.layerInputSize(k);
            for (int d = 0; d < dirs; d++) {
                float[] wIh = params.weightIh(k, d), wHh = params.weightHh(k, d);
                float[] bIh = params.biasIh(k, d), bHh = params.biasHh(k, d), wHr = params.weightHr(k, d);
                float[][] seen = packedFrom[k][d];
                float[][] now = {wIh, wHh, bIh, bHh, wHr};
                boolean same = seen != null;
                for (int i = 0; same && i < now.length; i++) {
                    same = java.util.Arrays.equals(seen[i], now[i]);
                }
                if (same) {
                    continue;
                }
                float[][] copy = new float[now.length][];
                for (int i = 0; i < now.length; i++) {
                    copy[i] = now[i] == null ? null : now[i].clone();
                }
                packedFrom[k][d] = copy;
                for (int r = 0; r < gates4; r++) {
                    System.arraycopy(wIh, r * in, weightIh[k][d][r], 0, in);
                    System.arraycopy(wHh, r * real, weightHh[k][d][r], 0, real);
                    for (int col = 0; col < in; col++) {
                        weightIhT[k][d][col][r] = wIh[r * in + col];
                    }
                    for (int col = 0; col < real; col++) {
                        weightHhT[k][d][col][r] = wHh[r * real + col];
                    }
                    biasSum[k][d][r] = bIh == null ? 0f : bIh[r] + bHh[r];
                }
                if (proj > 0) {
                    projections[k][d].pack(wHr);
                }
            }
        }
    }

    /** Rows of a state [L·D, B, width] (flat; null for zeros) for one slot, by sorted position. */
    private void sortedRows(float[] state, int slot, int width, float[][] out) {
        int batch = schedule.batch();
        for (int j = 0; j < batch; j++) {
            if (state == null) {
                Arrays.fill(out[j], 0, width, 0f);
            } else {
                System.arraycopy(state, (slot * batch + schedule.sequence(j)) * width, out[j], 0, width);
            }
        }
    }

    /** Rows [r0, r1) of a row-stored matrix into a flat one of the same width. */
    private static void copyRows(float[][] rows, float[] flat, int r0, int r1, int width) {
        for (int r = r0; r < r1; r++) {
            System.arraycopy(rows[r], 0, flat, r * width, width);
        }
    }

    @Override
    public void close() {
        if (fast != null) {
            fast.close();
        }
        gates = null;
        cells = null;
        hiddenStates = null;
        cellOutput = null;
        layerOutput = null;
        rowCapacity = 0;
        batchCapacity = 0;
    }
}
