package jlstm.cpu;

import java.util.Arrays;

import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/**
 * The CPU engine: the reference implementation, reading like the equations of the design, and
 * fast enough to be worth benchmarking.
 *
 * <p>Per layer k and direction d (d = 1 walks time backwards):
 * <pre>
 * forward:   G[T·B, 4H] = X_k · W_ihᵀ + b_ih + b_hh               (one product for all steps)
 *            per step:  G_t += h_prev · W_hhᵀ; gates, c_t, h_t       (fused pointwise)
 * backward:  per step:  dG_t from saved gates; dh_next = dG_t · W_hh
 *            then:      dW_ih = dGᵀ · X_k,  dW_hh = Σ_t dG_tᵀ · h_prev (one product over all steps),
 *                       db = Σ rows of dG,  dX_k += dG · W_ih
 * </pre>
 *
 * <p>Layout: every matrix of the hot path is stored as an array of rows ({@code float[rows][cols]},
 * row t·B + b for step t and sequence b), which lets the JIT vectorise the products (see
 * {@link Gemm}). The user's flat arrays are copied in and out at the edges.
 *
 * <p>Threads: each pass over a layer and direction is one task on the {@link WorkerPool}. The big
 * products split the rows of their result across workers; the time loop splits the hidden units
 * (worker w owns units [u0, u1) of h and c, and the four gate columns of each of those units),
 * so the recurrent product and the cell update of a step need no exchange between workers, and
 * one barrier per step publishes h_t (forward) or dG_t (backward) to everyone.
 *
 * <p>Gate layout: inside the engine the 4H gate columns of G, dG and the packed weights are
 * grouped by worker: worker w's block starts at 4·u0 and holds [i | f | g | o] of its n = u1 − u0
 * units, so a worker's share of the recurrent product is one contiguous column range (one wide
 * product instead of four narrow ones). With one worker this is PyTorch's order. {@link #gateOrder}
 * maps a PyTorch gate row to its column; parameters and gradients are permuted at the edges.
 *
 * <p>Native kernels ({@link NativeLstm}): where usable (see {@link NativeKernels}), every call
 * goes to them instead, and this Java code is the fallback and the reference they are tested
 * against.
 *
 * <p>Workspaces are sized on the first call of a shape and reused; nothing is allocated per step.
 * The Java path's buffers are made by its first call (none while the native kernels run every
 * call), and the backward pass's (dG, carried gradients, dX, the row-major weight copies and the
 * weight-gradient scratch) by the first backward pass, so inference never holds them.
 * Weights are compared with the copy last packed on every call and re-packed when they changed, so
 * in-place parameter updates are always seen.
 *
 * <p>Per-sequence lengths, projections ({@code proj_size}) and dropout masks are run by
 * {@link PackedLstmEngine} (work proportional to the real lengths); this engine hands such calls
 * to it and keeps the padded paths (native and Java) free of them.
 */
final class CpuLstmEngine implements LstmEngine {
    /** Hidden-unit slices start at multiples of this, so that vector loops start aligned. */
    private static final int UNIT_ALIGN = 16;
    /**
     * Below this many FLOPs per step (2·B·4H·H) the time loop runs on one worker: the step is then
     * so short that the barrier costs more than the split saves. Measured on 2 cores: B = 1,
     * H = 256 (0.5 MFLOP a step) is already faster split (2.9 vs 4.5 ms for 100 steps), so the
     * default only keeps toy sizes on one worker. On a machine where other processes compete for
     * the cores, a descheduled worker stalls the others at every barrier; raising this (system
     * property {@code jlstm.cpu.parallelStepFlops}) trades that risk for one core's speed.
     */
    private static final double PARALLEL_STEP_FLOPS =
            Double.parseDouble(System.getProperty("jlstm.cpu.parallelStepFlops", "1e5"));
    private final LstmParameters params;
    private final LstmConfig config;
    private final int layers;
    private final int dirs;
    private final int hidden;
    private final WorkerPool pool;
    /**
     * The fast path (native kernels) when usable here, else null; it runs every call this engine
     * gets while it can handle the configuration ({@link #useFast}), the Java code below the rest.
     */
    private final NativeLstm fast;
    private boolean lastForwardFast;
    // Lengths, projections and dropout: handed to the packed engine (created on first use).
    private PackedLstmEngine packedEngine;
    private boolean packedTrained;      // the last training-mode forward ran there: so does backward

    // Packed weights, re-packed whenever the parameters differ from the copy last packed.
    private final float[][][] packedFrom;     // [layer][dir·2 + (0 = W_ih, 1 = W_hh)] → flat copy
    private final boolean[][] forwardPacked;  // [layer][dir]
    private final boolean[][] backwardPacked; // [layer][dir]
    private final float[][][][] weightIhT;  // [layer][dir] → [I_k][4H]  (forward input projection)
    private final float[][][][] weightHhT;  // [layer][dir] → [H][4H]    (forward recurrent product)
    private final float[][][][] weightIh;   // [layer][dir] → [4H][I_k]  (backward dX)
    private final float[][][][] weightHh;   // [layer][dir] → [4H][H]    (backward dh)

    // Workspace for the current (T, B).
    private int steps;
    private int batch;
    private boolean trained;
    private float[][] input;            // x [T·B][I] from the last forward
    private float[][][][] initialH;     // [layer][dir] → [B][H], zeros when h0 was absent
    private float[][][][] initialC;     // [layer][dir] → [B][H]
    private float[][][][] hiddenStates; // [layer][dir] → h_t of every step [T·B][H]
    private float[][][] layerOutput;    // [layer] → [T·B][D·H]; the same rows as hiddenStates when D = 1
    private float[][][][] gates;        // [layer][dir] → [T·B][4H]: pre-activations, then activated gates
    private float[][][][] cells;        // [layer][dir] → [T·B][H]: c_t of every step
    private float[][] dGates;           // [T·B][4H] backward scratch
    private float[][] dhCarry;          // [B][H]
    private float[][] dcCarry;          // [B][H]
    private float[][] outputGrad;       // dy [T·B][D·H]
    private float[][][] inputGrad;      // [layer] → [T·B][I_k]: dX of each layer (layer 0's is dx)
    private float[][][] gradIh;         // [layer] → [4H][I_k] scratch for dW_ih
    private float[][] gradHh;           // [4H][H] scratch for dW_hh
    private float[] gradBias;           // [4H], engine gate order
    private float[] biasSum;            // [4H] b_ih + b_hh in engine gate order
    private int[] gateOrder;            // [4H]: PyTorch gate row → engine column
    private int layoutWorkers;          // the step-worker count gateOrder was built for
    private final float[][] scratch;    // [worker][H]: each worker's tanh(c_t) row
    /**
     * @param unitBlock the native kernels to use (16: AVX-512, 8: AVX2; the CPU must have them), or
     *                  0 for the pure-Java path; on the pool of {@link WorkerPool#shared()}
     */
    CpuLstmEngine(LstmParameters params, int unitBlock) {
        this(params, unitBlock, WorkerPool.shared());
    }

    /**
     * @param unitBlock the native kernels to use (16: AVX-512, 8: AVX2; the CPU must have them), or
     *                  0 for the pure-Java path
     * @param pool      the workers every product and step runs on
     */
    CpuLstmEngine(LstmParameters params, int unitBlock, WorkerPool pool) {
        this.fast = unitBlock > 0 ? new NativeLstm(params, unitBlock, pool) : null;
        this.params = params;
        this.config = params.config();
        this.layers = config.numLayers();
        this.dirs = config.directions();
        this.hidden = config.hiddenSize();
        this.pool = pool;
        int gates4 = 4 * hidden;
        // The weight copies themselves: by the Java path's first forward (ensureWorkspace) and
        // first backward (ensureBackwardWorkspace).
        weightIhT = new float[layers][dirs][][];
        weightHhT = new float[layers][dirs][][];
        weightIh = new float[layers][dirs][][];
        weightHh = new float[layers][dirs][][];
        biasSum = new float[gates4];
        scratch = new float[pool.size()][hidden];
        packedFrom = new float[layers][2 * dirs][];
        forwardPacked = new boolean[layers][dirs];
        backwardPacked = new boolean[layers][dirs];
    }

    /**
     * Marks the packed weights stale where a parameter changed since it was packed. Comparing is
     * a vectorised intrinsic (Arrays.equals), several times cheaper than re-packing every call,
     * and needs no cooperation from callers that update parameters in place.
     */
    private void checkParameters() {
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                boolean same = true;
                for (int which = 0; which < 2; which++) {
                    float[] current = which == 0 ? params.weightIh(k, d) : params.weightHh(k, d);
                    float[] seen = packedFrom[k][2 * d + which];
                    if (seen == null || !Arrays.equals(current, seen)) {
                        packedFrom[k][2 * d + which] = current.clone();
                        same = false;
                    }
                }
                if (!same) {
                    forwardPacked[k][d] = false;
                    backwardPacked[k][d] = false;
                }
            }
        }
    }

    @Override
    public String deviceName() {
        return "cpu";
    }

    @Override
    public void parametersUpdated() {
        // Nothing to do: every call compares the parameters with the packed copy (checkParameters).
    }

    private void ensureWorkspace(int t, int b) {
        if (t == steps && b == batch && gates != null) {
            return;
        }
        steps = t;
        batch = b;
        int rows = t * b;
        int gates4 = 4 * hidden;
        if (weightIhT[0][0] == null) {
            for (int k = 0; k < layers; k++) {
                for (int d = 0; d < dirs; d++) {
                    weightIhT[k][d] = new float[config.layerInputSize(k)][gates4];
                    weightHhT[k][d] = new float[hidden][gates4];
                }
            }
        }
        input = new float[rows][config.inputSize()];
        initialH = new float[layers][dirs][b][hidden];
        initialC = new float[layers][dirs][b][hidden];
        hiddenStates = new float[layers][dirs][rows][hidden];
        gates = new float[layers][dirs][rows][gates4];
        cells = new float[layers][dirs][rows][hidden];
        layerOutput = new float[layers][][];
        for (int k = 0; k < layers; k++) {
            layerOutput[k] = dirs == 1 ? hiddenStates[k][0] : new float[rows][dirs * hidden];
        }
        // Backward-only buffers of the old shape go; ensureBackwardWorkspace makes them when needed,
        // so that inference never holds them.
        dGates = null;
        dhCarry = null;
        dcCarry = null;
        outputGrad = null;
        inputGrad = null;
    }

    /** The backward pass's buffers for the current (T, B), and the per-model ones, on first need. */
    private void ensureBackwardWorkspace() {
        int gates4 = 4 * hidden, rows = steps * batch;
        if (gradHh == null) {
            gradIh = new float[layers][][];
            for (int k = 0; k < layers; k++) {
                int inSize = config.layerInputSize(k);
                gradIh[k] = new float[gates4][inSize];
                for (int d = 0; d < dirs; d++) {
                    weightIh[k][d] = new float[gates4][inSize];
                    weightHh[k][d] = new float[gates4][hidden];
                }
            }
            gradHh = new float[gates4][hidden];
            gradBias = new float[gates4];
        }
        if (dGates == null) {
            dGates = new float[rows][gates4];
            dhCarry = new float[batch][hidden];
            dcCarry = new float[batch][hidden];
            outputGrad = new float[rows][dirs * hidden];
            inputGrad = new float[layers][][];
            for (int k = 0; k < layers; k++) {
                inputGrad[k] = new float[rows][config.layerInputSize(k)];
            }
        }
    }

    // ---------------------------------------------------------------- forward

    /**
     * Whether the native kernels run this call: they cover every padded call (lengths,
     * projections and dropout masks never reach them: see the forward with lengths).
     */
    private boolean useFast() {
        return fast != null;
    }

    @Override
    public void forward(int t, int b, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                        boolean training, int[] lengths, float[][] dropoutMasks) {
        if (lengths == null && dropoutMasks == null && config.projSize() == 0) {
            forward(t, b, x, h0, c0, y, hn, cn, training);
            return;
        }
        trained = false;
        lastForwardFast = false;
        packedTrained = false;
        if (packedEngine == null) {
            packedEngine = new PackedLstmEngine(params, pool);
        }
        packedEngine.forward(t, b, x, h0, c0, y, hn, cn, training, lengths, dropoutMasks);
        packedTrained = training;
    }

    @Override
    public void forward(int t, int b, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                        boolean training) {
        if (config.projSize() > 0) { // the padded paths have no projection
            forward(t, b, x, h0, c0, y, hn, cn, training, null, null);
            return;
        }
        packedTrained = false;
        lastForwardFast = useFast();
        if (lastForwardFast) {
            fast.forward(t, b, x, h0, c0, y, hn, cn, training);
            return;
        }
        ensureWorkspace(t, b);
        checkParameters();
        ensureGateOrder(stepSplit(pool.size()) == StepSplit.UNITS ? pool.size() : 1);
        trained = false;
        toRows(x, input);
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                int slot = (k * dirs + d) * b * hidden; // this layer/direction's rows of h0/c0
                toRows(h0, slot, initialH[k][d]);
                toRows(c0, slot, initialC[k][d]);
            }
        }
        for (int k = 0; k < layers; k++) {
            float[][] in = k == 0 ? input : layerOutput[k - 1];
            for (int d = 0; d < dirs; d++) {
                int layer = k, direction = d;
                sumBiases(params.biasIh(k, d), params.biasHh(k, d));
                pool.run((worker, workers) -> forwardDirection(layer, direction, in, worker, workers));
                forwardPacked[k][d] = true;
            }
            if (dirs == 2) {
                concatenateDirections(k);
            }
        }
        fromRows(layerOutput[layers - 1], y);
        writeFinalState(hn, cn);
        trained = training;
    }

    /** One layer, one direction: the share of one worker of the input projection and of the time loop. */
    private void forwardDirection(int k, int d, float[][] in, int worker, int workers) {
        int inSize = config.layerInputSize(k);
        int gates4 = 4 * hidden;
        int rows = steps * batch;
        float[][] g = gates[k][d];
        float[][] c = cells[k][d];
        float[][] h = hiddenStates[k][d];

        // Pack this worker's share of the transposed weights (when they changed).
        if (!forwardPacked[k][d]) {
            transposeInto(params.weightIh(k, d), gates4, inSize, gateOrder, weightIhT[k][d], worker, workers);
            transposeInto(params.weightHh(k, d), gates4, hidden, gateOrder, weightHhT[k][d], worker, workers);
            pool.barrier();
        }

        // Input projection of every step at once, on top of the biases: this worker's rows of G.
        int r0 = WorkerPool.start(rows, worker, workers, 2), r1 = WorkerPool.start(rows, worker + 1, workers, 2);
        setBiases(g, r0, r1, biasSum);
        Gemm.nnRows(r1 - r0, inSize, 0, gates4, in, r0, 0, weightIhT[k][d], 0, g, r0);
        pool.barrier();

        // The recurrence: this worker's tile of every step (sequences [b0, b1), units [u0, u1)).
        StepSplit split = stepSplit(workers);
        int[] tile = split.tile(batch, hidden, worker, workers);
        int b0 = tile[0], b1 = tile[1], u0 = tile[2], u1 = tile[3];
        if (b0 >= b1 || u0 >= u1) {
            // No share of the loop. Split by units, aligned slices leave some workers none when H is
            // small for the worker count (H = 100 on 8+ workers): they still meet every step's
            // barrier, or the others wait for them forever.
            for (int s = 0; split == StepSplit.UNITS && s < steps; s++) {
                pool.barrier();
            }
            return;
        }
        int rowCount = b1 - b0;
        float[][] wHhT = weightHhT[k][d];
        for (int s = 0; s < steps; s++) {
            int t = d == 0 ? s : steps - 1 - s;
            int prev = d == 0 ? t - 1 : t + 1; // the step processed just before t
            boolean first = s == 0;
            float[][] hPrev = first ? initialH[k][d] : h;
            float[][] cPrev = first ? initialC[k][d] : c;
            int prevRow = (first ? 0 : prev * batch) + b0;
            int row = t * batch + b0;
            // This worker's gate block [4·u0, 4·u1) of its rows of G_t += h_prev · W_hhᵀ[:, same columns]
            Gemm.nnRows(rowCount, hidden, 4 * u0, 4 * u1, hPrev, prevRow, 0, wHhT, 0, g, row);
            CellMath.forwardPointwiseRows(rowCount, u0, u1, 4 * u0, g, row, cPrev, prevRow, c, row, h, row,
                    scratch[worker]);
            if (split == StepSplit.UNITS) {
                pool.barrier(); // h_t complete before anyone reads it as h_prev
            }
        }
    }

    /** Builds the gate column order for this many step workers; a change invalidates the packed weights. */
    private void ensureGateOrder(int stepWorkers) {
        if (gateOrder != null && layoutWorkers == stepWorkers) {
            return;
        }
        int[] order = new int[4 * hidden];
        for (int w = 0; w < stepWorkers; w++) {
            int u0 = WorkerPool.start(hidden, w, stepWorkers, UNIT_ALIGN);
            int u1 = WorkerPool.start(hidden, w + 1, stepWorkers, UNIT_ALIGN);
            int n = u1 - u0;
            for (int q = 0; q < 4; q++) {
                for (int j = u0; j < u1; j++) {
                    order[q * hidden + j] = 4 * u0 + q * n + (j - u0);
                }
            }
        }
        gateOrder = order;
        layoutWorkers = stepWorkers;
        for (boolean[] row : forwardPacked) {
            Arrays.fill(row, false);
        }
        for (boolean[] row : backwardPacked) {
            Arrays.fill(row, false);
        }
    }

    /**
     * How the workers share the time loop. The sequences of a batch are independent, so splitting
     * them needs no barrier at all and keeps each product full width; with too few sequences the
     * hidden units are split instead (one barrier a step); a step too small to split runs on one.
     */
    enum StepSplit {
        SINGLE, BATCH, UNITS;

        /** Worker w's tile of a step: {b0, b1, u0, u1}, sequences [b0, b1) and units [u0, u1); may be empty. */
        int[] tile(int batch, int hidden, int worker, int workers) {
            return switch (this) {
                case SINGLE -> worker == 0 ? new int[] {0, batch, 0, hidden} : new int[] {0, 0, 0, 0};
                case BATCH -> new int[] {WorkerPool.start(batch, worker, workers, 1),
                        WorkerPool.start(batch, worker + 1, workers, 1), 0, hidden};
                case UNITS -> new int[] {0, batch, WorkerPool.start(hidden, worker, workers, UNIT_ALIGN),
                        WorkerPool.start(hidden, worker + 1, workers, UNIT_ALIGN)};
            };
        }
    }

    private StepSplit stepSplit(int workers) {
        double stepFlops = 2.0 * batch * 4 * hidden * hidden;
        if (workers == 1 || stepFlops < PARALLEL_STEP_FLOPS) {
            return StepSplit.SINGLE;
        }
        return batch >= 2 * workers ? StepSplit.BATCH : StepSplit.UNITS;
    }

    /** biasSum = b_ih + b_hh in engine gate order (zeros without bias). */
    private void sumBiases(float[] biasIh, float[] biasHh) {
        for (int row = 0; row < biasSum.length; row++) {
            biasSum[gateOrder[row]] = biasIh == null ? 0f : biasIh[row] + biasHh[row];
        }
    }

    /** Rows [r0, r1) of G set to the bias sum. */
    private static void setBiases(float[][] g, int r0, int r1, float[] bias) {
        for (int r = r0; r < r1; r++) {
            System.arraycopy(bias, 0, g[r], 0, bias.length);
        }
    }

    /** This worker's rows of out[cols][order[r]] = w[r, cols] (flat): a transpose with permuted columns. */
    private static void transposeInto(float[] w, int rows, int cols, int[] order, float[][] out, int worker,
                                      int workers) {
        int c0 = WorkerPool.start(cols, worker, workers, 1), c1 = WorkerPool.start(cols, worker + 1, workers, 1);
        final int tile = 16;
        for (int r0 = 0; r0 < rows; r0 += tile) {
            int rEnd = Math.min(rows, r0 + tile);
            for (int col = c0; col < c1; col++) {
                float[] outRow = out[col];
                for (int r = r0; r < rEnd; r++) {
                    outRow[order[r]] = w[r * cols + col];
                }
            }
        }
    }

    /** Layer k's output rows [h_fwd | h_rev] from the two directions' states. */
    private void concatenateDirections(int k) {
        float[][] out = layerOutput[k];
        for (int r = 0; r < out.length; r++) {
            System.arraycopy(hiddenStates[k][0][r], 0, out[r], 0, hidden);
            System.arraycopy(hiddenStates[k][1][r], 0, out[r], hidden, hidden);
        }
    }

    private void writeFinalState(float[] hn, float[] cn) {
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                int last = d == 0 ? steps - 1 : 0;
                int slot = (k * dirs + d) * batch * hidden;
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(hiddenStates[k][d][last * batch + b], 0, hn, slot + b * hidden, hidden);
                    System.arraycopy(cells[k][d][last * batch + b], 0, cn, slot + b * hidden, hidden);
                }
            }
        }
    }

    // ---------------------------------------------------------------- backward

    @Override
    public void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                         LstmParameters gradients) {
        if (packedTrained) {
            packedEngine.backward(dy, dhn, dcn, dx, dh0, dc0, gradients);
            return;
        }
        if (lastForwardFast) {
            fast.backward(dy, dhn, dcn, dx, dh0, dc0, gradients);
            return;
        }
        if (!trained) {
            throw new IllegalStateException("backward needs a training-mode forward pass first");
        }
        ensureBackwardWorkspace();
        checkParameters();
        toRows(dy, outputGrad);
        for (int k = layers - 1; k >= 0; k--) {
            float[][] outGrad = k == layers - 1 ? outputGrad : inputGrad[k + 1];
            float[][] in = k == 0 ? input : layerOutput[k - 1];
            for (float[] row : inputGrad[k]) {
                Arrays.fill(row, 0f);
            }
            for (int d = 0; d < dirs; d++) {
                int layer = k, direction = d;
                int slot = (k * dirs + d) * batch * hidden;
                toRows(dhn, slot, dhCarry);
                toRows(dcn, slot, dcCarry);
                pool.run((worker, workers) -> backwardDirection(layer, direction, in, outGrad, gradients, worker,
                        workers));
                backwardPacked[k][d] = true;
                fromRows(dhCarry, dh0, slot);
                fromRows(dcCarry, dc0, slot);
            }
        }
        fromRows(inputGrad[0], dx);
    }

    /** Back-propagation through one layer and direction, the share of one worker: the time loop, the weight gradients and dX. */
    private void backwardDirection(int k, int d, float[][] in, float[][] outGrad, LstmParameters gradients,
                                   int worker, int workers) {
        int inSize = config.layerInputSize(k);
        int gates4 = 4 * hidden;
        int rows = steps * batch;
        float[][] g = gates[k][d];
        float[][] c = cells[k][d];
        float[][] h = hiddenStates[k][d];
        float[][] wHh = weightHh[k][d];
        float[][] wIh = weightIh[k][d];

        // Pack this worker's rows of W_hh and W_ih (row-major copies of the parameters).
        int w0 = WorkerPool.start(gates4, worker, workers, 2), w1 = WorkerPool.start(gates4, worker + 1, workers, 2);
        if (!backwardPacked[k][d]) {
            toPermutedRows(params.weightHh(k, d), gateOrder, wHh, w0, w1);
            toPermutedRows(params.weightIh(k, d), gateOrder, wIh, w0, w1);
            pool.barrier();
        }

        StepSplit split = stepSplit(workers);
        int[] tile = split.tile(batch, hidden, worker, workers);
        int b0 = tile[0], b1 = tile[1], u0 = tile[2], u1 = tile[3];
        boolean hasTile = b0 < b1 && u0 < u1;
        for (int s = 0; !hasTile && split == StepSplit.UNITS && s < steps; s++) {
            pool.barrier(); // no units of its own: still meets every step's barrier (see forwardDirection)
        }
        for (int s = steps - 1; s >= 0 && hasTile; s--) {
            int t = d == 0 ? s : steps - 1 - s;
            int prev = d == 0 ? t - 1 : t + 1;
            boolean first = s == 0; // t is the first step this direction processed
            int row = t * batch + b0;
            CellMath.backwardPointwiseRows(b1 - b0, u0, u1, 4 * u0, g, row, c, row,
                    first ? initialC[k][d] : c, (first ? 0 : prev * batch) + b0, outGrad, row, d * hidden,
                    dhCarry, dcCarry, b0, dGates, row, scratch[worker]);
            if (split == StepSplit.UNITS) {
                pool.barrier(); // dG_t complete
            }
            // dh_next[b0..b1, u0..u1) = dG_t[b0..b1, :] · W_hh[:, u0..u1)
            for (int b = b0; b < b1; b++) {
                Arrays.fill(dhCarry[b], u0, u1, 0f);
            }
            Gemm.nnRows(b1 - b0, gates4, u0, u1, dGates, row, 0, wHh, 0, dhCarry, b0);
        }

        pool.barrier(); // every dG_t complete

        // Weight gradients: this worker's rows [w0, w1) of dW_ih [4H, I_k] and dW_hh [4H, H].
        float[][] dWih = gradIh[k];
        for (int r = w0; r < w1; r++) {
            Arrays.fill(dWih[r], 0f);
            Arrays.fill(gradHh[r], 0f);
        }
        Gemm.tnRows(w1 - w0, rows, 0, inSize, dGates, 0, w0, in, 0, dWih, w0);
        // dW_hh = Σ_t dG_tᵀ · h_prev(t): the steps after the first pair with the neighbouring rows of h,
        // the first step with h0.
        int later = rows - batch;
        int firstStepRow = d == 0 ? 0 : later;
        if (later > 0) {
            Gemm.tnRows(w1 - w0, later, 0, hidden, dGates, d == 0 ? batch : 0, w0, h, d == 0 ? 0 : batch,
                    gradHh, w0);
        }
        Gemm.tnRows(w1 - w0, batch, 0, hidden, dGates, firstStepRow, w0, initialH[k][d], 0, gradHh, w0);
        if (config.bias()) {
            Arrays.fill(gradBias, w0, w1, 0f);
            for (int r = 0; r < rows; r++) {
                float[] dGRow = dGates[r];
                for (int j = w0; j < w1; j++) {
                    gradBias[j] += dGRow[j];
                }
            }
        }
        pool.barrier(); // all engine-order gradient rows done before they are un-permuted
        fromPermutedRows(dWih, gateOrder, gradients.weightIh(k, d), w0, w1);
        fromPermutedRows(gradHh, gateOrder, gradients.weightHh(k, d), w0, w1);
        if (config.bias()) {
            float[] dbIh = gradients.biasIh(k, d), dbHh = gradients.biasHh(k, d);
            for (int row = w0; row < w1; row++) {
                dbIh[row] = gradBias[gateOrder[row]];
                dbHh[row] = dbIh[row];
            }
        }

        // dX_k += dG · W_ih: this worker's rows of dX.
        int r0 = WorkerPool.start(rows, worker, workers, 2), r1 = WorkerPool.start(rows, worker + 1, workers, 2);
        Gemm.nnRows(r1 - r0, gates4, 0, inSize, dGates, r0, 0, wIh, 0, inputGrad[k], r0);
    }

    // ---------------------------------------------------------------- copies at the edges

    /** Flat [rows·cols] → rows. */
    private static void toRows(float[] flat, float[][] rows) {
        toRows(flat, 0, rows);
    }

    /** Flat from offset → rows; null gives zeros. */
    private static void toRows(float[] flat, int offset, float[][] rows) {
        for (int r = 0; r < rows.length; r++) {
            float[] row = rows[r];
            if (flat == null) {
                Arrays.fill(row, 0f);
            } else {
                System.arraycopy(flat, offset + r * row.length, row, 0, row.length);
            }
        }
    }

    /** Flat rows [r0, r1) → rows order[r]. */
    private static void toPermutedRows(float[] flat, int[] order, float[][] rows, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            float[] row = rows[order[r]];
            System.arraycopy(flat, r * row.length, row, 0, row.length);
        }
    }

    private static void fromRows(float[][] rows, float[] flat) {
        fromRows(rows, flat, 0);
    }

    private static void fromRows(float[][] rows, float[] flat, int offset) {
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, flat, offset + r * rows[r].length, rows[r].length);
        }
    }

    /** Rows order[r] → flat rows r, for r in [r0, r1). */
    private static void fromPermutedRows(float[][] rows, int[] order, float[] flat, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            float[] row = rows[order[r]];
            System.arraycopy(row, 0, flat, r * row.length, row.length);
        }
    }

    @Override
    public void close() {
        if (fast != null) {
            fast.close();
        }
        if (packedEngine != null) {
            packedEngine.close();
        }
        gates = null;
        cells = null;
        hiddenStates = null;
        layerOutput = null;
    }
}
