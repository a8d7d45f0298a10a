package jlstm.internal.cpu;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.internal.MemoryBudget;

/**
 * The CPU engine's fast path: every product and the cell update in the native kernels
 * ({@link NativeKernels}), driven from the engine's {@link WorkerPool} (one task per layer and
 * direction, each worker calling the kernel for its share; no other threads anywhere).
 *
 * <p>One recurrence for every batch: the per-step arrays are always in the packed layout of a
 * {@link LengthSchedule} (N = Σ lengths rows; with every length T exactly the padded layout, at no
 * cost), and projections ({@code proj_size}) and dropout masks are steps of the same loop.
 * Per layer k and direction d (the schedule of oneDNN's RNN primitive), R = P or H:
 * <pre>
 * forward:  G[N, 4Hp] = X_k · W_ihᵀ + b            one big product, each worker its own gate columns
 *           per step t (active positions j &lt; n_t): G_t += h_prev · W_hhᵀ, cell update on the
 *           accumulators → c_t, m_t;  h_t = m_t (or m_t · W_hrᵀ)
 *           X_{k+1} = [h_fwd | h_rev] ⊙ mask_k        (dropout, layers below the last)
 * backward: per step: dh = dy_t + dh_carry; dm = dh (or dh · W_hr); dG_t from the saved gates;
 *           dh_carry = dG_t · W_hh;  then dW_ih = dGᵀ X_k, dW_hh = dGᵀ H_prev, dW_hr = dHᵀ M, db,
 *           dX_k = dG · W_ih (each worker its gate rows or rows);  dy_{k−1} = dX_k ⊙ mask_{k−1}
 * </pre>
 * The time loop is shared by units (one barrier a step) or by whole sequences (none), or run by
 * one worker, as {@link CpuTuning} decides ({@link #loopBlocks}). Weights are packed once (per
 * change of the parameters) into the panels the register tile reads; H and P are padded to the
 * kernels' unit block (16 on AVX-512, 8 on AVX2) inside the engine only, and padded lanes stay
 * exactly zero.
 *
 * <p>Native memory is owned here and freed by {@link #close} (or, if an engine is dropped without
 * closing, by a {@link Cleaner}).
 */
final class NativeLstm implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final LstmParameters params;
    private final LstmConfig config;
    private final CpuTuning tuning;
    private final int unitBlock;
    private final int layers;
    private final int dirs;
    private final int hidden;        // H
    private final int proj;          // P, 0 for none
    private final int real;          // R: the width of h (P or H)
    private final int paddedHidden;  // Hp
    private final int paddedReal;    // Rp
    private final WorkerPool pool;
    private final Memory memory = new Memory();
    private final Cleaner.Cleanable cleanable;

    // Weights. Each forward compares the parameters with the copies it last read and takes a new
    // copy where one changed; both layouts are packed from those copies, never from the live
    // arrays, so a backward differentiates the weights its forward ran with, whatever happened to
    // the parameters since (LstmEngine#backward), and compares nothing.
    private final float[][] liveWeights;  // [(k·D + d)·3 + 0/1/2]: W_ih, W_hh, W_hr (the parameters' arrays) or null
    private final float[][] seenWeights;  // [slot]: copies of what the last forward read; null before the first
    private final float[][] liveBiasIh;   // [k·D + d]: b_ih, or null without bias
    private final float[][] liveBiasHh;   // [k·D + d]: b_hh
    private final long weightFloats;      // Σ lengths of liveWeights
    private final boolean[][] weightDiffers; // [worker][slot]: the parallel compare's findings
    private final WorkerPool.Task compareShare = this::compareShare;
    private final long[][] forwardIh;     // Hp/W panels [K_k][4W]
    private final long[][] forwardHh;     // Hp/W panels [Rp][4W]
    private final long[][] backwardIh;    // ⌈K_k/4W⌉ panels [4Hp][4W]
    private final long[][] backwardHh;    // ⌈Rp/4W⌉ panels [4Hp][4W]
    private final long[][] forwardHr;     // ⌈P/4W⌉ panels [Hp][4W] (W_hrᵀ), projection only
    private final long[][] backwardHr;    // ⌈Hp/4W⌉ panels [Rp][4W] (W_hr), projection only
    private final long[][] bias;          // [4Hp], 0 without bias
    private final boolean[][] forwardPacked;
    private final boolean[][] backwardPacked;
    private final long barrier;           // 256 bytes shared by the workers of one call (kernels.inc: Barrier)
    // The kernels' argument arrays and the pool tasks that pass them (and copyShare, unpackShare,
    // compareShare), made once, and the row index cut per worker once per schedule: a forward or
    // backward whose (T, B, lengths) are the last call's allocates nothing on the Java heap, on any
    // number of workers, large copies and lengths included (NativeLstmAllocationTest). What does
    // allocate: the first forward (the weights' copies), a new (T, B, lengths) (LengthSchedule and
    // its tables, useSchedule), a workspace that grows (ensureWorkspace's address arrays), errors.
    private final long[][][] forwardArgs;   // [layer][dir] → [ARGS_FORWARD]
    private final long[][][] backwardArgs;  // [layer][dir] → [ARGS_BACKWARD]
    private final WorkerPool.Task[][] forwardTasks;
    private final WorkerPool.Task[][] backwardTasks;
    private final String[][] gradientNames;    // [k·D + d] → names of W_ih, W_hh, b_ih, b_hh, W_hr (built once)
    private final WorkerPool.Task unpackShare = this::unpackShare;
    private int unpackLayer;                   // the layer whose dW_ih and dW_hh unpackShare writes
    private float[] unpackIh;                  // into these [4H][K_k], [4H][R]
    private float[] unpackHh;
    private final WorkerPool.Task copyShare = this::copyShare;
    private boolean copyInto;                  // copyShare's arguments (runCopy): into native memory, else out of it
    private float[] copyArray;
    private int copyOffset;
    private int copyCols;
    private int copyArrayLd;
    private long copyAddress;
    private int copyAddressLd;

    // Workspace, grown to the largest (N, B, T') seen; rows past the current N are unused.
    private int rowCapacity;
    private int batchCapacity;
    private int stepCapacity;
    private LengthSchedule schedule;
    private boolean tablesCurrent; // the native tables below hold schedule's (false after the workspace moved)
    private int[] paddedRows;   // [N] packed row → padded row; null when the layout is the padded one
    private int[][] rowSlices;  // [worker] → its share of paddedRows (copyShare); null without paddedRows or with one worker
    private int[] sequences;    // [B] sorted position → sequence
    private int[][] finalRows;  // [dir] → [B]: sequence → packed row of its final state
    private int[] loopBlocks;   // [workers + 1] the rows split of the time loop, or null (units split)
    private boolean trained;
    private long scheduleTable; // int32 [2T' + 1]: offsets, then n_t
    private long[] previousRows; // [dir] → int32 [N]
    private long loopTable;     // int32 [workers + 1]
    private long input;         // x [N][I]
    private long[] outputs;     // [layer] → [N][D·Rp]: h of both directions
    private long[] maskedInputs; // [layer] → [N][D·Rp] for k ≥ 1: outputs[k−1] ⊙ mask (dropout only)
    private long[] masks;       // [layer] → [N][D·Rp] for k < L − 1: the packed dropout masks
    private boolean masked;     // the last forward had dropout masks
    private long[][] gates;     // [layer][dir] → [N][4Hp]
    private long[][] cells;     // [layer][dir] → [N][Hp]
    private long[][] cellOutputs; // [layer][dir] → [N][Hp]: m_t (projection only)
    private long[][] initialH;  // [layer][dir] → [B][Rp]
    private long[][] initialC;  // [layer][dir] → [B][Hp]
    private long outputGrad;    // dy [N][D·Rp]
    private long[] inputGrads;  // [layer] → dX_k [N][K_k]
    private long gateGrads;     // dG [N][4Hp]
    private long dhCarry;       // [B][Rp]
    private long dcCarry;       // [B][Hp]
    private long hiddenGrads;   // dh_t [N][Rp] (projection)
    private long cellGrad;      // dm_t [B][Hp] (projection)
    private long gradIh;        // [4Hp][max K_k]
    private long gradHh;        // [4Hp][Rp]
    private long gradHr;        // [P][Hp]
    private long gradBias;      // [4Hp]
    private final List<Long> shapeBuffers = new ArrayList<>();
    private long shapeBytes;      // what shapeBuffers hold
    private boolean closed;

    /** @param pool the workers every call runs on @param tuning how the time loops are shared */
    NativeLstm(LstmParameters params, int unitBlock, WorkerPool pool, CpuTuning tuning) {
        NativeKernels.requireLoaded();
        if (unitBlock != 16 && unitBlock != 8) {
            throw new IllegalArgumentException("unit block must be 16 (AVX-512) or 8 (AVX2), got " + unitBlock);
        }
        this.params = params;
        this.config = params.config();
        this.tuning = tuning;
        this.unitBlock = unitBlock;
        this.layers = config.numLayers();
        this.dirs = config.directions();
        this.hidden = config.hiddenSize();
        this.proj = config.projSize();
        this.real = config.realHiddenSize();
        this.paddedHidden = ceilDiv(hidden, unitBlock) * unitBlock;
        this.paddedReal = ceilDiv(real, unitBlock) * unitBlock;
        this.pool = pool;
        this.cleanable = CLEANER.register(this, memory);
        liveWeights = new float[layers * dirs * 3][];
        seenWeights = new float[liveWeights.length][];
        liveBiasIh = new float[layers * dirs][];
        liveBiasHh = new float[layers * dirs][];
        long floats = 0;
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                int slot = (k * dirs + d) * 3;
                liveWeights[slot] = params.weightIh(k, d);
                liveWeights[slot + 1] = params.weightHh(k, d);
                liveWeights[slot + 2] = params.weightHr(k, d);
                liveBiasIh[k * dirs + d] = params.biasIh(k, d);
                liveBiasHh[k * dirs + d] = params.biasHh(k, d);
                for (int which = 0; which < 3; which++) {
                    floats += liveWeights[slot + which] == null ? 0 : liveWeights[slot + which].length;
                }
            }
        }
        weightFloats = floats;
        weightDiffers = new boolean[pool.size()][liveWeights.length];
        forwardIh = new long[layers][dirs];
        forwardHh = new long[layers][dirs];
        backwardIh = new long[layers][dirs];
        backwardHh = new long[layers][dirs];
        forwardHr = new long[layers][dirs];
        backwardHr = new long[layers][dirs];
        bias = new long[layers][dirs];
        forwardPacked = new boolean[layers][dirs];
        backwardPacked = new boolean[layers][dirs];
        barrier = memory.allocate(256);
        forwardArgs = new long[layers][dirs][ARGS_FORWARD];
        backwardArgs = new long[layers][dirs][ARGS_BACKWARD];
        gradientNames = new String[layers * dirs][];
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                String suffix = LstmConfig.suffix(k, d);
                gradientNames[k * dirs + d] = new String[] {"weight_ih_" + suffix, "weight_hh_" + suffix,
                        "bias_ih_" + suffix, "bias_hh_" + suffix, "weight_hr_" + suffix};
            }
        }
        forwardTasks = new WorkerPool.Task[layers][dirs];
        backwardTasks = new WorkerPool.Task[layers][dirs];
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                long[] forwardLayer = forwardArgs[k][d], backwardLayer = backwardArgs[k][d];
                forwardTasks[k][d] = (worker, n) -> NativeKernels.forward(forwardLayer, unitBlock, worker, n);
                backwardTasks[k][d] = (worker, n) -> NativeKernels.backward(backwardLayer, unitBlock, worker, n);
            }
        }
    }

    /** The unit block (kernel vector width) this instance packs for: 16 (AVX-512) or 8 (AVX2). */
    int unitBlock() {
        return unitBlock;
    }

    /** K_k: layer k's input width inside the engine (layer k > 0 reads the padded outputs). */
    private int paddedInput(int k) {
        return k == 0 ? config.inputSize() : dirs * paddedReal;
    }

    /** Feature blocks of layer k's input: PyTorch's [fwd | rev] of R each ↦ Rp each inside. */
    private int blockIn(int k) {
        return k == 0 ? config.inputSize() : real;
    }

    private int blockPad(int k) {
        return k == 0 ? config.inputSize() : paddedReal;
    }

    // ---------------------------------------------------------------- weights

    /**
     * Takes what a forward runs with: where a weight differs from the copy the last forward read
     * (Arrays.equals, vectorised; NaNs of different payloads count as equal), a new copy, and its
     * packed layouts marked stale. So parameters updated in place are seen by the next forward
     * without any call from the code that updates them. Forward only: backward packs from the
     * copies, i.e. the weights of the forward it continues.
     */
    private void checkParameters() {
        boolean parallel = weightFloats >= PARALLEL_COPY && pool.size() > 1;
        if (parallel) {
            // On one thread this compare (every weight, each forward) was a serial section while the
            // other workers waited: at (T, B, I, H) = (100, 1, 256, 256) 27-30 % of the caller's
            // kernel time (benchmarks/kernel_ab/README.md); so each worker compares its share.
            pool.run(compareShare);
        }
        for (int slot = 0; slot < liveWeights.length; slot++) {
            float[] live = liveWeights[slot], seen = seenWeights[slot];
            if (live == null) {
                continue;
            }
            boolean changed = seen == null;
            if (parallel) {
                for (boolean[] differs : weightDiffers) {
                    changed |= differs[slot];
                }
            } else if (!changed) {
                changed = !Arrays.equals(live, seen);
            }
            if (changed) {
                if (seen == null) {
                    seenWeights[slot] = live.clone();
                } else {
                    System.arraycopy(live, 0, seen, 0, live.length);
                }
                int k = slot / (3 * dirs), d = slot / 3 % dirs;
                forwardPacked[k][d] = false;
                backwardPacked[k][d] = false;
            }
        }
    }

    /** One worker's share of {@link #checkParameters}: weightDiffers[worker][slot] = its part of the slot differs. */
    private void compareShare(int worker, int workers) {
        boolean[] differs = weightDiffers[worker];
        for (int slot = 0; slot < liveWeights.length; slot++) {
            float[] live = liveWeights[slot], seen = seenWeights[slot];
            differs[slot] = false;
            if (live != null && seen != null) {
                int n = live.length;
                int from = WorkerPool.start(n, worker, workers, 16), to = WorkerPool.start(n, worker + 1, workers, 16);
                differs[slot] = to > from && !Arrays.equals(live, from, to, seen, from, to);
            }
        }
    }

    /**
     * The schedule's N packed rows × cols floats from a Java array (row paddedRows[r], or r in the
     * padded layout) into native memory; large copies split across the workers.
     */
    private void copyIn(float[] src, int srcOff, int cols, int srcLd, long dst, int dstLd) {
        int rows = schedule.rows();
        if (src == null || (long) rows * cols < PARALLEL_COPY || pool.size() == 1) {
            NativeKernels.rowsIn(src, srcOff, paddedRows, rows, cols, srcLd, dst, dstLd);
            return;
        }
        runCopy(true, src, srcOff, cols, srcLd, dst, dstLd);
    }

    /** The schedule's N packed rows × cols floats from native memory into a Java array (rows paddedRows[r]); large copies split. */
    private void copyOut(long src, int srcLd, int cols, float[] dst, int dstOff, int dstLd) {
        int rows = schedule.rows();
        if ((long) rows * cols < PARALLEL_COPY || pool.size() == 1) {
            NativeKernels.rowsOut(src, srcLd, null, rows, cols, dst, dstOff, dstLd, paddedRows);
            return;
        }
        runCopy(false, dst, dstOff, cols, dstLd, src, srcLd);
    }

    /** Runs {@link #copyShare} on the pool with these arguments (fields, so that a call makes no task object). */
    private void runCopy(boolean in, float[] array, int offset, int cols, int arrayLd, long address, int addressLd) {
        copyInto = in;
        copyArray = array;
        copyOffset = offset;
        copyCols = cols;
        copyArrayLd = arrayLd;
        copyAddress = address;
        copyAddressLd = addressLd;
        try {
            pool.run(copyShare);
        } finally {
            copyArray = null; // hold no caller's array past the call
        }
    }

    /** One worker's rows of {@link #copyIn} or {@link #copyOut}: its share of the N rows, its slice of paddedRows. */
    private void copyShare(int worker, int workers) {
        int rows = schedule.rows();
        int r0 = WorkerPool.start(rows, worker, workers, 1), r1 = WorkerPool.start(rows, worker + 1, workers, 1);
        int[] part = paddedRows == null ? null : rowSlices[worker];
        int offset = copyOffset + (part == null ? r0 * copyArrayLd : 0);
        long address = copyAddress + 4L * r0 * copyAddressLd;
        if (copyInto) {
            NativeKernels.rowsIn(copyArray, offset, part, r1 - r0, copyCols, copyArrayLd, address, copyAddressLd);
        } else {
            NativeKernels.rowsOut(address, copyAddressLd, null, r1 - r0, copyCols, copyArray, offset, copyArrayLd,
                    part);
        }
    }

    /** paddedRows cut at the workers' shares of the N rows, as {@link #copyShare} splits them (null: no slices). */
    private static int[][] rowSlices(int[] paddedRows, int workers) {
        if (paddedRows == null || workers == 1) {
            return null;
        }
        int rows = paddedRows.length;
        int[][] slices = new int[workers][];
        for (int w = 0; w < workers; w++) {
            slices[w] = Arrays.copyOfRange(paddedRows, WorkerPool.start(rows, w, workers, 1),
                    WorkerPool.start(rows, w + 1, workers, 1));
        }
        return slices;
    }

    /** From this many floats a copy at the edges is split across the workers (a memcpy of 256 KiB and more). */
    private static final long PARALLEL_COPY = 1 << 16;

    private void packForward(int k, int d) {
        int kin = config.layerInputSize(k), kp = paddedInput(k), hp = paddedHidden, rp = paddedReal;
        if (forwardIh[k][d] == 0) {
            forwardIh[k][d] = memory.allocate(4L * 4 * hp * kp);
            forwardHh[k][d] = memory.allocate(4L * 4 * hp * rp);
            if (config.bias()) {
                bias[k][d] = memory.allocate(4L * 4 * hp);
            }
            if (proj > 0) {
                forwardHr[k][d] = memory.allocate(4L * ceilDiv(proj, 4 * unitBlock) * 4 * unitBlock * hp);
            }
        }
        int slot = (k * dirs + d) * 3;
        NativeKernels.packForward(seenWeights[slot], unitBlock, hidden, hp, kin, kp, blockIn(k), blockPad(k),
                forwardIh[k][d]);
        NativeKernels.packForward(seenWeights[slot + 1], unitBlock, hidden, hp, real, rp, real, rp, forwardHh[k][d]);
        if (proj > 0) { // W_hr [P][H]: B[u][p] = W_hr[p][u]
            NativeKernels.packPanels(seenWeights[slot + 2], proj, hidden, true, unitBlock, hp, forwardHr[k][d]);
        }
        forwardPacked[k][d] = true;
    }

    private void packBackward(int k, int d) {
        int kin = config.layerInputSize(k), kp = paddedInput(k), nr = 4 * unitBlock, hp = paddedHidden;
        int rp = paddedReal;
        if (backwardIh[k][d] == 0) {
            backwardIh[k][d] = memory.allocate(4L * ceilDiv(kp, nr) * nr * 4 * hp);
            backwardHh[k][d] = memory.allocate(4L * ceilDiv(rp, nr) * nr * 4 * hp);
            if (proj > 0) {
                backwardHr[k][d] = memory.allocate(4L * ceilDiv(hp, nr) * nr * rp);
            }
        }
        int slot = (k * dirs + d) * 3; // the copies the last forward read: backward differentiates that forward
        NativeKernels.packBackward(seenWeights[slot], unitBlock, hidden, hp, kin, kp, blockIn(k), blockPad(k),
                backwardIh[k][d]);
        NativeKernels.packBackward(seenWeights[slot + 1], unitBlock, hidden, hp, real, rp, real, rp,
                backwardHh[k][d]);
        if (proj > 0) { // B[p][u] = W_hr[p][u]
            NativeKernels.packPanels(seenWeights[slot + 2], proj, hidden, false, unitBlock, rp, backwardHr[k][d]);
        }
        backwardPacked[k][d] = true;
    }

    // ---------------------------------------------------------------- workspace

    /**
     * The native bytes an engine's workspace takes for calls of one shape, before any call: what
     * {@link #ensureWorkspace} (and, training, {@link #ensureBackwardWorkspace}) allocate for a
     * fresh engine, by the same sums. Rows are T·B, what a call without lengths packs (with lengths
     * it packs Σ lengths, fewer); a training call of a multi-layer config with dropout also holds
     * its masks (explicit masks given with dropout 0 are not counted).
     *
     * @param workers the engine's worker count (one loop-table entry each)
     */
    static long workspaceBytes(LstmConfig config, int unitBlock, int workers, int steps, int batch, boolean training) {
        long rows = (long) steps * batch;
        boolean withMasks = training && config.numLayers() > 1 && config.dropout() > 0;
        long floats = forwardFloats(config, unitBlock, workers, rows, batch, steps, withMasks);
        if (training) {
            floats += backwardFloats(config, unitBlock, rows, batch);
        }
        return 4 * floats;
    }

    /** The floats (and int32s) {@link #ensureWorkspace} allocates for these capacities, buffer by buffer. */
    private static long forwardFloats(LstmConfig config, int unitBlock, int workers, long rows, long b, long steps,
                                      boolean withMasks) {
        int layers = config.numLayers(), dirs = config.directions();
        long hp = ceilDiv(config.hiddenSize(), unitBlock) * (long) unitBlock;
        long rp = ceilDiv(config.realHiddenSize(), unitBlock) * (long) unitBlock, g4 = 4 * hp, width = dirs * rp;
        long perDirection = rows * g4 + rows * hp + (config.projSize() > 0 ? rows * hp : 0) + b * rp + b * hp;
        return (2 * steps + 1) + (workers + 1L) + dirs * rows // schedule, loop table, previous rows
                + rows * config.inputSize()
                + layers * (rows * width + dirs * perDirection)
                + (withMasks ? 2L * (layers - 1) * rows * width : 0); // masks and masked inputs
    }

    /** The floats {@link #ensureBackwardWorkspace} allocates for these capacities, buffer by buffer. */
    private static long backwardFloats(LstmConfig config, int unitBlock, long rows, long b) {
        int layers = config.numLayers(), dirs = config.directions(), proj = config.projSize();
        long hp = ceilDiv(config.hiddenSize(), unitBlock) * (long) unitBlock;
        long rp = ceilDiv(config.realHiddenSize(), unitBlock) * (long) unitBlock, g4 = 4 * hp;
        long widest = 0, inputs = 0;
        for (int k = 0; k < layers; k++) {
            long in = k == 0 ? config.inputSize() : dirs * rp; // paddedInput(k)
            widest = Math.max(widest, in);
            inputs += rows * in;
        }
        return inputs + rows * dirs * rp + rows * g4 + b * (rp + hp) + g4 * (widest + rp + 1)
                + (proj > 0 ? rows * rp + b * hp + (long) proj * hp : 0);
    }

    /** What this engine's workspace holds now, in bytes (for the estimate's test). */
    long workspaceBytesHeld() {
        return shapeBytes;
    }

    /** Sizes the forward workspace for a schedule: grown (never shrunk) to the largest rows, batch and steps seen. */
    private void ensureWorkspace(LengthSchedule s, boolean withMasks) {
        int n = s.rows(), b = s.batch(), steps = s.maxLength();
        boolean masksMissing = withMasks && layers > 1 && (masks == null || masks[0] == 0);
        if (n <= rowCapacity && b <= batchCapacity && steps <= stepCapacity && input != 0 && !masksMissing) {
            return;
        }
        n = Math.max(n, rowCapacity);
        b = Math.max(b, batchCapacity);
        steps = Math.max(steps, stepCapacity);
        withMasks |= masks != null && masks[0] != 0;
        long rows = n, hp = paddedHidden, rp = paddedReal, g4 = 4L * hp, width = dirs * rp;
        // Checked before the old buffers go, so that a refused call leaves the engine as it was.
        long floats = forwardFloats(config, unitBlock, pool.size(), rows, b, steps, withMasks);
        MemoryBudget.requireNative(4 * floats - shapeBytes, "the CPU kernels' workspace for T=" + s.steps() + ", B="
                + s.batch() + " (" + s.rows() + " rows) through " + config);
        for (long address : shapeBuffers) {
            memory.free(address);
        }
        shapeBuffers.clear();
        shapeBytes = 0;
        rowCapacity = n;
        batchCapacity = b;
        stepCapacity = steps;
        trained = false;
        tablesCurrent = false;
        scheduleTable = shapeBuffer(2L * steps + 1);
        loopTable = shapeBuffer(pool.size() + 1L);
        previousRows = new long[dirs];
        for (int d = 0; d < dirs; d++) {
            previousRows[d] = shapeBuffer(rows);
        }
        input = shapeBuffer(rows * config.inputSize());
        outputs = new long[layers];
        maskedInputs = new long[layers];
        masks = new long[layers];
        inputGrads = new long[layers];
        gates = new long[layers][dirs];
        cells = new long[layers][dirs];
        cellOutputs = new long[layers][dirs];
        initialH = new long[layers][dirs];
        initialC = new long[layers][dirs];
        for (int k = 0; k < layers; k++) {
            outputs[k] = shapeBuffer(rows * width);
            if (withMasks && k < layers - 1) {
                masks[k] = shapeBuffer(rows * width);
                maskedInputs[k + 1] = shapeBuffer(rows * width);
            }
            for (int d = 0; d < dirs; d++) {
                gates[k][d] = shapeBuffer(rows * g4);
                cells[k][d] = shapeBuffer(rows * hp);
                cellOutputs[k][d] = proj > 0 ? shapeBuffer(rows * hp) : 0;
                initialH[k][d] = shapeBuffer(b * rp);
                initialC[k][d] = shapeBuffer(b * hp);
            }
        }
        // Backward buffers on first use (inference never needs them).
        outputGrad = 0;
        gateGrads = 0;
    }

    private void ensureBackwardWorkspace() {
        if (gateGrads != 0) {
            return;
        }
        long rows = rowCapacity, b = batchCapacity, hp = paddedHidden, rp = paddedReal, g4 = 4L * hp;
        int widest = 0;
        for (int k = 0; k < layers; k++) {
            widest = Math.max(widest, paddedInput(k));
        }
        long floats = backwardFloats(config, unitBlock, rows, b);
        MemoryBudget.requireNative(4 * floats, "the CPU kernels' backward workspace for " + rows + " rows, B="
                + b + " through " + config);
        for (int k = 0; k < layers; k++) {
            inputGrads[k] = shapeBuffer(rows * paddedInput(k));
        }
        outputGrad = shapeBuffer(rows * dirs * rp);
        gateGrads = shapeBuffer(rows * g4);
        dhCarry = shapeBuffer(b * rp);
        dcCarry = shapeBuffer(b * hp);
        gradIh = shapeBuffer(g4 * widest);
        gradHh = shapeBuffer(g4 * rp);
        gradBias = shapeBuffer(g4);
        if (proj > 0) {
            hiddenGrads = shapeBuffer(rows * rp);
            cellGrad = shapeBuffer(b * hp);
            gradHr = shapeBuffer((long) proj * hp);
        }
    }

    /** Zeroed native floats that live until the workspace grows or the engine closes. */
    private long shapeBuffer(long floats) {
        long address = memory.allocate(4 * floats);
        shapeBuffers.add(address);
        shapeBytes += 4 * floats;
        return address;
    }

    /**
     * The schedule's tables into native memory, and how this call's time loops are shared; nothing
     * when they hold this schedule already (the same object as the last call's, see {@link #forward}).
     */
    private void useSchedule(LengthSchedule s) {
        if (s == schedule && tablesCurrent) {
            return;
        }
        schedule = s;
        paddedRows = s.full() ? null : s.paddedRows();
        rowSlices = rowSlices(paddedRows, pool.size());
        sequences = s.sequences();
        finalRows = new int[dirs][];
        NativeKernels.intsIn(s.kernelTable(), scheduleTable);
        for (int d = 0; d < dirs; d++) {
            NativeKernels.intsIn(s.previousRows(d), previousRows[d]);
            finalRows[d] = s.finalRows(d);
        }
        loopBlocks = loopBlocks(s, pool.size());
        if (loopBlocks != null) {
            NativeKernels.intsIn(loopBlocks, loopTable);
        }
        tablesCurrent = true;
    }

    /**
     * How the workers share the time loops of this call: null for the units split (each worker
     * its unit blocks of every sequence, one barrier a step), else each worker's first sorted
     * position [workers + 1] (whole sequences, no barrier; {0, B, B, …} for one worker alone).
     * By units when a step is large or W_hh too big for one core's cache (each worker then keeps
     * its part of W_hh in its own cache); by sequences when there are enough of them for every
     * worker and W_hh fits; one worker when a step is too small to pay for any split. A
     * projection's step needs all units of m_t, so there it is sequences or one worker.
     */
    private int[] loopBlocks(LengthSchedule s, int workers) {
        int b = s.batch();
        CpuTuning.TimeLoop loop = tuning.timeLoop();
        if (loop == CpuTuning.TimeLoop.AUTO) {
            long stepFlops = 2L * b * 4 * paddedHidden * paddedReal;
            long weightBytes = 16L * paddedHidden * paddedReal;
            boolean enoughRows = b >= 2 * workers;
            if (workers == 1) {
                loop = CpuTuning.TimeLoop.ONE_WORKER;
            } else if (enoughRows && (weightBytes <= tuning.rowsWeightBytes() || proj > 0)) {
                loop = CpuTuning.TimeLoop.SPLIT_ROWS;
            } else if (proj == 0 && (stepFlops >= tuning.splitStepFlops() || weightBytes > tuning.splitWeightBytes())) {
                loop = CpuTuning.TimeLoop.SPLIT_UNITS;
            } else {
                loop = CpuTuning.TimeLoop.ONE_WORKER;
            }
        }
        if (loop == CpuTuning.TimeLoop.SPLIT_UNITS && proj > 0) {
            loop = CpuTuning.TimeLoop.SPLIT_ROWS;
        }
        return switch (loop) {
            case SPLIT_UNITS -> null;
            case SPLIT_ROWS -> s.balancedBlocks(workers);
            default -> {
                int[] blocks = new int[workers + 1];
                Arrays.fill(blocks, 1, workers + 1, b);
                yield blocks;
            }
        };
    }

    // ---------------------------------------------------------------- forward

    /** As {@link jlstm.LstmEngine#forward} with lengths and dropout masks: time-major arrays, sizes trusted. */
    void forward(int t, int b, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                 boolean training, int[] lengths, float[][] dropoutMasks) {
        ensureOpen();
        if (dropoutMasks != null && layers > 1 && dropoutMasks.length != layers - 1) {
            throw new IllegalArgumentException("expected " + (layers - 1) + " dropout masks, got " + dropoutMasks.length);
        }
        // The last call's schedule when this call has the same (T, B, lengths): its tables stay.
        LengthSchedule s = schedule != null && schedule.sameAs(t, b, lengths) ? schedule
                : LengthSchedule.of(t, b, lengths);
        masked = dropoutMasks != null && layers > 1;
        ensureWorkspace(s, masked);
        checkParameters();
        trained = false;
        useSchedule(s);
        int n = s.rows(), inSize = config.inputSize(), hp = paddedHidden, rp = paddedReal, width = dirs * rp;
        copyIn(x, 0, inSize, inSize, input, inSize);
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                int slot = k * dirs + d;
                NativeKernels.rowsIn(h0, h0 == null ? 0 : slot * b * real, sequences, b, real, real, initialH[k][d], rp);
                NativeKernels.rowsIn(c0, c0 == null ? 0 : slot * b * hidden, sequences, b, hidden, hidden,
                        initialC[k][d], hp);
            }
        }
        if (masked) {
            for (int k = 0; k < layers - 1; k++) {
                for (int d = 0; d < dirs; d++) {
                    copyIn(dropoutMasks[k], d * real, real, dirs * real, masks[k] + 4L * d * rp, width);
                }
            }
        }
        for (int k = 0; k < layers; k++) {
            long layerInput = layerInput(k);
            for (int d = 0; d < dirs; d++) {
                if (!forwardPacked[k][d]) {
                    packForward(k, d);
                }
                long[] args = forwardArgs[k][d];
                args[A_X] = layerInput;
                args[A_LDX] = k == 0 ? inSize : width;
                args[A_K] = paddedInput(k);
                args[A_WIH] = forwardIh[k][d];
                args[A_WHH] = forwardHh[k][d];
                args[A_BIAS] = bias[k][d];
                if (config.bias()) {
                    NativeKernels.packBias(liveBiasIh[k * dirs + d], liveBiasHh[k * dirs + d], unitBlock, hidden, hp,
                            bias[k][d]);
                }
                args[A_G] = gates[k][d];
                args[A_C] = cells[k][d];
                args[A_HOUT] = outputs[k] + 4L * d * rp;
                args[A_LDH] = width;
                args[A_H0] = initialH[k][d];
                args[A_C0] = initialC[k][d];
                args[A_SCHEDULE] = scheduleTable;
                args[A_T] = s.maxLength();
                args[A_B] = b;
                args[A_H] = hidden;
                args[A_HP] = hp;
                args[A_P] = proj;
                args[A_RP] = rp;
                args[A_REVERSE] = d;
                args[A_TRAINING] = training ? 1 : 0;
                args[A_BARRIER] = barrier;
                args[A_ROWS] = loopBlocks == null ? 0 : loopTable;
                args[A_M] = cellOutputs[k][d];
                args[A_WHR] = forwardHr[k][d];
                runLayer(k, d, true);
            }
        }
        long last = outputs[layers - 1];
        if (paddedRows != null) {
            Arrays.fill(y, 0f); // padded steps stay zero
        }
        for (int d = 0; d < dirs; d++) {
            copyOut(last + 4L * d * rp, width, real, y, d * real, dirs * real);
        }
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                int[] finalRows = this.finalRows[d];
                int slot = k * dirs + d;
                NativeKernels.rowsOut(outputs[k] + 4L * d * rp, width, finalRows, b, real, hn, slot * b * real, real,
                        null);
                NativeKernels.rowsOut(cells[k][d], hp, finalRows, b, hidden, cn, slot * b * hidden, hidden, null);
            }
        }
        trained = training;
    }

    /** What layer k reads: x, or the layer below's output, times its dropout mask when there is one. */
    private long layerInput(int k) {
        if (k == 0) {
            return input;
        }
        if (!masked) {
            return outputs[k - 1];
        }
        NativeKernels.multiply(outputs[k - 1], masks[k - 1], maskedInputs[k], (long) schedule.rows() * dirs * paddedReal);
        return maskedInputs[k];
    }

    // ---------------------------------------------------------------- backward

    /** As {@link jlstm.LstmEngine#backward}, after a training-mode {@link #forward}. */
    void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                  LstmParameters gradients) {
        ensureOpen();
        if (!trained) {
            throw new IllegalStateException("backward needs a training-mode forward pass first");
        }
        // No look at the parameters: the backward layouts are packed from the copies the forward read.
        ensureBackwardWorkspace();
        LengthSchedule s = schedule;
        int b = s.batch(), n = s.rows(), hp = paddedHidden, rp = paddedReal, width = dirs * rp;
        for (int d = 0; d < dirs; d++) {
            copyIn(dy, d * real, real, dirs * real, outputGrad + 4L * d * rp, width);
        }
        for (int k = layers - 1; k >= 0; k--) {
            long outGrad = k == layers - 1 ? outputGrad : inputGrads[k + 1];
            if (k < layers - 1 && masked) { // d(layer k's output) = mask_k ⊙ d(layer k+1's input)
                NativeKernels.multiply(outGrad, masks[k], outGrad, (long) n * width);
            }
            int kp = paddedInput(k), kin = config.layerInputSize(k);
            for (int d = 0; d < dirs; d++) {
                if (!backwardPacked[k][d]) {
                    packBackward(k, d);
                }
                int slot = k * dirs + d;
                NativeKernels.rowsIn(dhn, dhn == null ? 0 : slot * b * real, sequences, b, real, real, dhCarry, rp);
                NativeKernels.rowsIn(dcn, dcn == null ? 0 : slot * b * hidden, sequences, b, hidden, hidden, dcCarry,
                        hp);
                long[] args = backwardArgs[k][d];
                args[B_X] = k == 0 ? input : masked ? maskedInputs[k] : outputs[k - 1];
                args[B_LDX] = k == 0 ? config.inputSize() : width;
                args[B_K] = kp;
                args[B_WIH] = backwardIh[k][d];
                args[B_WHH] = backwardHh[k][d];
                args[B_G] = gates[k][d];
                args[B_C] = cells[k][d];
                args[B_HOUT] = outputs[k] + 4L * d * rp;
                args[B_LDH] = width;
                args[B_H0] = initialH[k][d];
                args[B_C0] = initialC[k][d];
                args[B_DY] = outGrad + 4L * d * rp;
                args[B_LDY] = width;
                args[B_DG] = gateGrads;
                args[B_DHC] = dhCarry;
                args[B_DCC] = dcCarry;
                args[B_DX] = inputGrads[k];
                args[B_DX_ACCUMULATE] = d;
                args[B_DWIH] = gradIh;
                args[B_DWHH] = gradHh;
                args[B_DB] = config.bias() ? gradBias : 0;
                args[B_SCHEDULE] = scheduleTable;
                args[B_PREV] = previousRows[d];
                args[B_T] = s.maxLength();
                args[B_B] = b;
                args[B_H] = hidden;
                args[B_HP] = hp;
                args[B_P] = proj;
                args[B_RP] = rp;
                args[B_REVERSE] = d;
                args[B_BARRIER] = barrier;
                args[B_ROWS] = loopBlocks == null ? 0 : loopTable;
                args[B_M] = cellOutputs[k][d];
                args[B_WHR] = backwardHr[k][d];
                args[B_DH] = hiddenGrads;
                args[B_DM] = cellGrad;
                args[B_DWHR] = gradHr;
                runLayer(k, d, false);
                unpackWeightGradients(k, d, kin, kp, gradients);
                if (config.bias()) {
                    NativeKernels.unpackBiasGradient(gradBias, unitBlock, hidden, hp, gradient(gradients, k, d, 2),
                            gradient(gradients, k, d, 3));
                }
                if (proj > 0) {
                    NativeKernels.rowsOut(gradHr, hp, null, proj, hidden, gradient(gradients, k, d, 4), 0, hidden,
                            null);
                }
                NativeKernels.rowsOut(dhCarry, rp, null, b, real, dh0, slot * b * real, real, sequences);
                NativeKernels.rowsOut(dcCarry, hp, null, b, hidden, dc0, slot * b * hidden, hidden, sequences);
            }
        }
        int inSize = config.inputSize();
        if (paddedRows != null) {
            Arrays.fill(dx, 0f); // no gradient reaches padded steps
        }
        copyOut(inputGrads[0], inSize, inSize, dx, 0, inSize);
    }

    /**
     * dW_ih and dW_hh of layer k, direction d, into PyTorch's layout. Large ones are shared by the
     * workers (PyTorch rows split): on one thread this copy was a serial section while the others
     * waited (at (100, 1, 256, 256) 2 MiB a backward call; benchmarks/kernel_ab/README.md).
     */
    private void unpackWeightGradients(int k, int d, int kin, int kp, LstmParameters gradients) {
        int hp = paddedHidden, rp = paddedReal, rows = 4 * hidden, blockIn = blockIn(k), blockPad = blockPad(k);
        float[] ih = gradient(gradients, k, d, 0), hh = gradient(gradients, k, d, 1);
        if ((long) rows * (kin + real) < PARALLEL_COPY || pool.size() == 1) {
            NativeKernels.unpackWeightGradient(gradIh, unitBlock, hidden, hp, kin, kp, blockIn, blockPad, ih, 0, rows);
            NativeKernels.unpackWeightGradient(gradHh, unitBlock, hidden, hp, real, rp, real, rp, hh, 0, rows);
            return;
        }
        unpackLayer = k;
        unpackIh = ih;
        unpackHh = hh;
        pool.run(unpackShare);
        unpackIh = unpackHh = null;
    }

    /** One worker's PyTorch rows of {@link #unpackWeightGradients}. */
    private void unpackShare(int worker, int workers) {
        int k = unpackLayer, rows = 4 * hidden;
        int r0 = WorkerPool.start(rows, worker, workers, 1), r1 = WorkerPool.start(rows, worker + 1, workers, 1);
        NativeKernels.unpackWeightGradient(gradIh, unitBlock, hidden, paddedHidden, config.layerInputSize(k),
                paddedInput(k), blockIn(k), blockPad(k), unpackIh, r0, r1);
        NativeKernels.unpackWeightGradient(gradHh, unitBlock, hidden, paddedHidden, real, paddedReal, real, paddedReal,
                unpackHh, r0, r1);
    }

    /** Gradient tensor {@code which} (0 W_ih, 1 W_hh, 2 b_ih, 3 b_hh, 4 W_hr) of layer k, direction d. */
    private float[] gradient(LstmParameters gradients, int k, int d, int which) {
        return gradients.get(gradientNames[k * dirs + d][which]).data();
    }

    /** Runs one layer and direction on the pool: each worker its share ({@link #loopBlocks}). */
    private void runLayer(int k, int d, boolean forward) {
        pool.run(forward ? forwardTasks[k][d] : backwardTasks[k][d]); // (a pool of one runs it on the caller)
    }

    @Override
    public void close() {
        closed = true;
        cleanable.clean();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the engine is closed");
        }
    }

    // ---------------------------------------------------------------- self-check

    /**
     * Runs a small bidirectional two-layer case (odd sizes, so the padding is exercised) through
     * these kernels and through the pure-Java engine; null when every output and gradient agrees,
     * else the first mismatch. Guards against a build or CPU quirk giving wrong numbers quietly.
     */
    static String selfCheck(int unitBlock) {
        // Two layers with dropout between them, bidirectional, a projection, and lengths.
        LstmConfig config = new LstmConfig(5, 7, 2, true, true, false, 3, 0);
        LstmParameters params = LstmParameters.initialize(config, 3);
        int t = 4, b = 3, real = config.realHiddenSize(), states = config.numLayers() * config.directions() * b;
        int out = t * b * config.outputSize();
        int[] lengths = {3, 4, 1};
        Random random = new Random(5);
        float[] x = randoms(random, t * b * config.inputSize()), h0 = randoms(random, states * real);
        float[] c0 = randoms(random, states * 7), dy = randoms(random, out), dhn = randoms(random, states * real);
        float[] dcn = randoms(random, states * 7);
        float[][] masks = {randoms(random, t * b * config.directions() * real)};
        float[][] expected;
        float[][] got;
        try (CpuLstmEngine java = new CpuLstmEngine(params, 0, CpuTuning.DEFAULT)) {
            expected = runBoth(java, config, t, b, lengths, masks, x, h0, c0, dy, dhn, dcn);
        }
        try (CpuLstmEngine fast = new CpuLstmEngine(params, unitBlock, CpuTuning.DEFAULT)) {
            got = runBoth(fast, config, t, b, lengths, masks, x, h0, c0, dy, dhn, dcn);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return "it threw " + e;
        }
        String[] names = {"y", "hn", "cn", "dx", "dh0", "dc0", "dW_ih", "dW_hh", "db", "dW_hr"};
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                if (!(Math.abs(expected[i][j] - got[i][j]) <= 1e-4 * Math.max(1, Math.abs(expected[i][j])))) {
                    return String.format(Locale.ROOT, "%s[%d] = %g, the Java path gives %g", names[i], j, got[i][j],
                            expected[i][j]);
                }
            }
        }
        return null;
    }

    private static float[][] runBoth(CpuLstmEngine engine, LstmConfig config, int t, int b, int[] lengths,
                                     float[][] masks, float[] x, float[] h0, float[] c0, float[] dy, float[] dhn,
                                     float[] dcn) {
        float[] y = new float[dy.length], hn = new float[h0.length], cn = new float[c0.length];
        float[] dx = new float[x.length], dh0 = new float[h0.length], dc0 = new float[c0.length];
        LstmParameters grads = LstmParameters.zeros(config);
        engine.forward(t, b, x, h0, c0, y, hn, cn, true, lengths, masks);
        engine.backward(dy, dhn, dcn, dx, dh0, dc0, grads);
        int last = config.numLayers() - 1;
        return new float[][] {y, hn, cn, dx, dh0, dc0, grads.weightIh(last, 1), grads.weightHh(0, 0),
                grads.biasIh(last, 0), grads.weightHr(0, 1)};
    }

    private static float[] randoms(Random random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    // ---------------------------------------------------------------- argument slots (src/main/native/args.h)

    static final int A_X = 0, A_LDX = 1, A_K = 2, A_WIH = 3, A_WHH = 4, A_BIAS = 5, A_G = 6, A_C = 7, A_HOUT = 8,
            A_LDH = 9, A_H0 = 10, A_C0 = 11, A_SCHEDULE = 12, A_T = 13, A_B = 14, A_H = 15, A_HP = 16, A_P = 17,
            A_RP = 18, A_REVERSE = 19, A_TRAINING = 20, A_BARRIER = 21, A_ROWS = 22, A_M = 23, A_WHR = 24,
            ARGS_FORWARD = 25;
    static final int B_X = 0, B_LDX = 1, B_K = 2, B_WIH = 3, B_WHH = 4, B_G = 5, B_C = 6, B_HOUT = 7, B_LDH = 8,
            B_H0 = 9, B_C0 = 10, B_DY = 11, B_LDY = 12, B_DG = 13, B_DHC = 14, B_DCC = 15, B_DX = 16,
            B_DX_ACCUMULATE = 17, B_DWIH = 18, B_DWHH = 19, B_DB = 20, B_SCHEDULE = 21, B_PREV = 22, B_T = 23,
            B_B = 24, B_H = 25, B_HP = 26, B_P = 27, B_RP = 28, B_REVERSE = 29, B_BARRIER = 30, B_ROWS = 31,
            B_M = 32, B_WHR = 33, B_DH = 34, B_DM = 35, B_DWHR = 36, ARGS_BACKWARD = 37;

    /** The native blocks of one engine; also the Cleaner's action (it must not reference the engine). */
    private static final class Memory implements Runnable {
        private final List<Long> blocks = new ArrayList<>();

        long allocate(long bytes) {
            long address = NativeKernels.allocate(bytes);
            if (address == 0) {
                throw new OutOfMemoryError("jlstm CPU kernels: cannot allocate " + bytes + " bytes of native memory");
            }
            synchronized (blocks) {
                blocks.add(address);
            }
            return address;
        }

        void free(long address) {
            synchronized (blocks) {
                if (blocks.remove(Long.valueOf(address))) {
                    NativeKernels.release(address);
                }
            }
        }

        @Override
        public void run() {
            synchronized (blocks) {
                for (long address : blocks) {
                    NativeKernels.release(address);
                }
                blocks.clear();
            }
        }
    }
}
