package jlstm.cpu;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.MemoryBudget;

/**
 * The CPU engine's fast path: every product and the cell update in the native kernels
 * ({@link NativeKernels}), driven from the engine's {@link WorkerPool} (one task per layer and
 * direction, each worker calling the kernel for its share; no other threads anywhere).
 *
 * <p>What it does, per layer k and direction d (the schedule of oneDNN's RNN primitive):
 * <pre>
 * forward:  G[T·B, 4Hp] = X_k · W_ihᵀ + b            one big product, each worker its own gate columns
 *           per step: G_t += h_prev · W_hhᵀ, cell update on the accumulators; one barrier (h_t)
 * backward: per step: dG_t from the saved gates (own units); a barrier; dh[:, own] = dG_t · W_hh[:, own]
 *           then dW_ih = dGᵀ X_k, dW_hh = dGᵀ H_prev (own gate rows), db, dX_k = dG · W_ih (own rows)
 * </pre>
 * Weights are packed once (per change of the parameters) into the panels the register tile reads;
 * H is padded to the kernels' unit block Hp (16 on AVX-512, 8 on AVX2) inside the engine only.
 *
 * <p>Native memory is owned here and freed by {@link #close} (or, if an engine is dropped without
 * closing, by a {@link Cleaner}).
 */
final class NativeLstm implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final LstmParameters params;
    private final LstmConfig config;
    private final int unitBlock;
    private final int layers;
    private final int dirs;
    private final int hidden;
    private final int paddedHidden;
    private final WorkerPool pool;
    private final Memory memory = new Memory();
    private final Cleaner.Cleanable cleanable;

    // Packed weights [layer][dir], re-packed when the parameters differ from the copies last packed.
    private final long[][] packedFrom;    // [layer][dir·2 + (0 = W_ih, 1 = W_hh)]: native copy last packed, 0 = none
    private final long[][] forwardIh;     // Hp/W panels [K_k][4W]
    private final long[][] forwardHh;     // Hp/W panels [Hp][4W]
    private final long[][] backwardIh;    // ⌈K_k/4W⌉ panels [4Hp][4W]
    private final long[][] backwardHh;    // ⌈Hp/4W⌉ panels [4Hp][4W]
    private final long[][] bias;          // [4Hp], 0 without bias
    private final boolean[][] forwardPacked;
    private final boolean[][] backwardPacked;
    private final long barrier;           // 256 bytes shared by the workers of one call (kernels.inc: Barrier)
    private int soloCalls;                // calls left to run on one worker (see runLayer)

    // Workspace for the current (T, B).
    private int steps;
    private int batch;
    private boolean trained;
    private long input;         // x [T·B][I]
    private long[] outputs;     // [layer] → [T·B][D·Hp]: h of both directions, the next layer's input
    private long[][] gates;     // [layer][dir] → [T·B][4Hp]
    private long[][] cells;     // [layer][dir] → [T·B][Hp]
    private long[][] initialH;  // [layer][dir] → [B][Hp]
    private long[][] initialC;  // [layer][dir] → [B][Hp]
    private long outputGrad;    // dy [T·B][D·Hp]
    private long[] inputGrads;  // [layer] → dX_k [T·B][K_k]
    private long gateGrads;     // dG [T·B][4Hp]
    private long dhCarry;       // [B][Hp]
    private long dcCarry;       // [B][Hp]
    private long gradIh;        // [4Hp][max K_k]
    private long gradHh;        // [4Hp][Hp]
    private long gradBias;      // [4Hp]
    private final List<Long> shapeBuffers = new ArrayList<>();
    private long shapeBytes;      // what shapeBuffers hold
    private boolean closed;

    NativeLstm(LstmParameters params, int unitBlock) {
        this(params, unitBlock, WorkerPool.shared());
    }

    NativeLstm(LstmParameters params, int unitBlock, WorkerPool pool) {
        NativeKernels.requireLoaded();
        if (unitBlock != 16 && unitBlock != 8) {
            throw new IllegalArgumentException("unit block must be 16 (AVX-512) or 8 (AVX2), got " + unitBlock);
        }
        this.params = params;
        this.config = params.config();
        this.unitBlock = unitBlock;
        this.layers = config.numLayers();
        this.dirs = config.directions();
        this.hidden = config.hiddenSize();
        this.paddedHidden = (hidden + unitBlock - 1) / unitBlock * unitBlock;
        this.pool = pool;
        this.cleanable = CLEANER.register(this, memory);
        packedFrom = new long[layers][2 * dirs];
        forwardIh = new long[layers][dirs];
        forwardHh = new long[layers][dirs];
        backwardIh = new long[layers][dirs];
        backwardHh = new long[layers][dirs];
        bias = new long[layers][dirs];
        forwardPacked = new boolean[layers][dirs];
        backwardPacked = new boolean[layers][dirs];
        barrier = memory.allocate(256);
    }

    /** The unit block (kernel vector width) this instance packs for: 16 (AVX-512) or 8 (AVX2). */
    int unitBlock() {
        return unitBlock;
    }

    /** K_k: layer k's input width inside the engine (layer k > 0 reads the padded outputs). */
    private int paddedInput(int k) {
        return k == 0 ? config.inputSize() : dirs * paddedHidden;
    }

    /** Feature blocks of layer k's input: PyTorch's [fwd | rev] of H each ↦ Hp each inside. */
    private int blockIn(int k) {
        return k == 0 ? config.inputSize() : hidden;
    }

    private int blockPad(int k) {
        return k == 0 ? config.inputSize() : paddedHidden;
    }

    // ---------------------------------------------------------------- weights

    /**
     * Marks packed weights stale where a parameter changed since it was packed: a bitwise compare
     * with a native copy (memcmp, a fraction of a millisecond for megabytes of weights), so that
     * parameters updated in place are always seen, without any call from the code that updates them.
     */
    private void checkParameters() {
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                boolean same = true;
                for (int which = 0; which < 2; which++) {
                    float[] current = which == 0 ? params.weightIh(k, d) : params.weightHh(k, d);
                    long seen = packedFrom[k][2 * d + which];
                    if (seen == 0) {
                        seen = memory.allocate(4L * current.length);
                        packedFrom[k][2 * d + which] = seen;
                        same = false;
                    } else if (!NativeKernels.sameFloats(current, seen)) {
                        same = false;
                    }
                    if (!same) {
                        NativeKernels.rowsIn(current, 0, 1, current.length, current.length, seen, current.length);
                    }
                }
                if (!same) {
                    forwardPacked[k][d] = false;
                    backwardPacked[k][d] = false;
                }
            }
        }
    }

    /** rows × cols floats from a Java array into native memory; large copies split across the workers. */
    private void copyIn(float[] src, int srcOff, int rows, int cols, int srcLd, long dst, int dstLd) {
        if (src == null || (long) rows * cols < PARALLEL_COPY || pool.size() == 1) {
            NativeKernels.rowsIn(src, srcOff, rows, cols, srcLd, dst, dstLd);
            return;
        }
        pool.run((worker, workers) -> {
            int r0 = WorkerPool.start(rows, worker, workers, 1), r1 = WorkerPool.start(rows, worker + 1, workers, 1);
            NativeKernels.rowsIn(src, srcOff + r0 * srcLd, r1 - r0, cols, srcLd, dst + 4L * r0 * dstLd, dstLd);
        });
    }

    /** rows × cols floats from native memory into a Java array; large copies split across the workers. */
    private void copyOut(long src, int srcLd, int rows, int cols, float[] dst, int dstOff, int dstLd) {
        if ((long) rows * cols < PARALLEL_COPY || pool.size() == 1) {
            NativeKernels.rowsOut(src, srcLd, rows, cols, dst, dstOff, dstLd);
            return;
        }
        pool.run((worker, workers) -> {
            int r0 = WorkerPool.start(rows, worker, workers, 1), r1 = WorkerPool.start(rows, worker + 1, workers, 1);
            NativeKernels.rowsOut(src + 4L * r0 * srcLd, srcLd, r1 - r0, cols, dst, dstOff + r0 * dstLd, dstLd);
        });
    }

    /** From this many floats a copy at the edges is split across the workers (a memcpy of 256 KiB and more). */
    private static final long PARALLEL_COPY = 1 << 16;

    private void packForward(int k, int d) {
        int kin = config.layerInputSize(k), kp = paddedInput(k);
        if (forwardIh[k][d] == 0) {
            forwardIh[k][d] = memory.allocate(4L * 4 * paddedHidden * kp);
            forwardHh[k][d] = memory.allocate(4L * 4 * paddedHidden * paddedHidden);
            if (config.bias()) {
                bias[k][d] = memory.allocate(4L * 4 * paddedHidden);
            }
        }
        NativeKernels.packForward(params.weightIh(k, d), unitBlock, hidden, paddedHidden, kin, kp, blockIn(k),
                blockPad(k), forwardIh[k][d]);
        NativeKernels.packForward(params.weightHh(k, d), unitBlock, hidden, paddedHidden, hidden, paddedHidden,
                hidden, paddedHidden, forwardHh[k][d]);
        forwardPacked[k][d] = true;
    }

    private void packBackward(int k, int d) {
        int kin = config.layerInputSize(k), kp = paddedInput(k), nr = 4 * unitBlock;
        if (backwardIh[k][d] == 0) {
            backwardIh[k][d] = memory.allocate(4L * ceilDiv(kp, nr) * nr * 4 * paddedHidden);
            backwardHh[k][d] = memory.allocate(4L * ceilDiv(paddedHidden, nr) * nr * 4 * paddedHidden);
        }
        NativeKernels.packBackward(params.weightIh(k, d), unitBlock, hidden, paddedHidden, kin, kp, blockIn(k),
                blockPad(k), backwardIh[k][d]);
        NativeKernels.packBackward(params.weightHh(k, d), unitBlock, hidden, paddedHidden, hidden, paddedHidden,
                hidden, paddedHidden, backwardHh[k][d]);
        backwardPacked[k][d] = true;
    }

    // ---------------------------------------------------------------- workspace

    /**
     * The bytes {@link #ensureWorkspace} (and, training, {@link #ensureBackwardWorkspace}) allocate
     * for a shape, by the same sums.
     */
    static long workspaceBytes(LstmConfig config, int unitBlock, int t, int b, boolean training) {
        long rows = (long) t * b;
        long hp = (config.hiddenSize() + unitBlock - 1) / unitBlock * unitBlock, g4 = 4L * hp;
        int layers = config.numLayers(), dirs = config.directions();
        long floats = rows * config.inputSize() + layers * (rows * dirs * hp + dirs * (rows * (g4 + hp) + 2L * b * hp));
        if (training) {
            long widest = 0, inputs = 0;
            for (int k = 0; k < layers; k++) {
                long in = k == 0 ? config.inputSize() : dirs * hp;
                widest = Math.max(widest, in);
                inputs += rows * in;
            }
            floats += inputs + rows * dirs * hp + rows * g4 + 2L * b * hp + g4 * (widest + hp + 1);
        }
        return 4 * floats;
    }

    private void ensureWorkspace(int t, int b) {
        if (t == steps && b == batch && input != 0) {
            return;
        }
        long rows = (long) t * b, hp = paddedHidden, g4 = 4L * hp;
        // Checked before the old shape's buffers go, so that a refused call leaves the engine as it was.
        long floats = rows * config.inputSize() + layers * (rows * dirs * hp + dirs * (rows * (g4 + hp) + 2L * b * hp));
        MemoryBudget.requireNative(4 * floats - shapeBytes, "the CPU kernels' workspace for T=" + t + ", B=" + b
                + " through " + config);
        for (long address : shapeBuffers) {
            memory.free(address);
        }
        shapeBuffers.clear();
        shapeBytes = 0;
        steps = t;
        batch = b;
        trained = false;
        input = shapeBuffer(rows * config.inputSize());
        outputs = new long[layers];
        inputGrads = new long[layers];
        gates = new long[layers][dirs];
        cells = new long[layers][dirs];
        initialH = new long[layers][dirs];
        initialC = new long[layers][dirs];
        for (int k = 0; k < layers; k++) {
            outputs[k] = shapeBuffer(rows * dirs * hp);
            for (int d = 0; d < dirs; d++) {
                gates[k][d] = shapeBuffer(rows * g4);
                cells[k][d] = shapeBuffer(rows * hp);
                initialH[k][d] = shapeBuffer(b * hp);
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
        long rows = (long) steps * batch, hp = paddedHidden, g4 = 4L * hp;
        int widest = 0;
        long inputs = 0;
        for (int k = 0; k < layers; k++) {
            widest = Math.max(widest, paddedInput(k));
            inputs += rows * paddedInput(k);
        }
        long floats = inputs + rows * dirs * hp + rows * g4 + 2L * batch * hp + g4 * (widest + hp + 1);
        MemoryBudget.requireNative(4 * floats, "the CPU kernels' backward workspace for T=" + steps + ", B=" + batch
                + " through " + config);
        for (int k = 0; k < layers; k++) {
            inputGrads[k] = shapeBuffer(rows * paddedInput(k));
        }
        outputGrad = shapeBuffer(rows * dirs * hp);
        gateGrads = shapeBuffer(rows * g4);
        dhCarry = shapeBuffer(batch * hp);
        dcCarry = shapeBuffer(batch * hp);
        gradIh = shapeBuffer(g4 * widest);
        gradHh = shapeBuffer(g4 * hp);
        gradBias = shapeBuffer(g4);
    }

    /** Zeroed native floats that live until the shape changes or the engine closes. */
    private long shapeBuffer(long floats) {
        long address = memory.allocate(4 * floats);
        shapeBuffers.add(address);
        shapeBytes += 4 * floats;
        return address;
    }

    // ---------------------------------------------------------------- forward

    /** As {@link jlstm.LstmEngine#forward}: time-major arrays, sizes trusted. */
    void forward(int t, int b, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                 boolean training) {
        ensureOpen();
        ensureWorkspace(t, b);
        checkParameters();
        trained = false;
        int rows = t * b, inSize = config.inputSize(), hp = paddedHidden, width = dirs * hp;
        copyIn(x, 0, rows, inSize, inSize, input, inSize);
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                int slot = (k * dirs + d) * b * hidden;
                NativeKernels.rowsIn(h0, h0 == null ? 0 : slot, b, hidden, hidden, initialH[k][d], hp);
                NativeKernels.rowsIn(c0, c0 == null ? 0 : slot, b, hidden, hidden, initialC[k][d], hp);
            }
        }
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                if (!forwardPacked[k][d]) {
                    packForward(k, d);
                }
                long[] args = new long[ARGS_FORWARD];
                args[A_X] = k == 0 ? input : outputs[k - 1];
                args[A_LDX] = k == 0 ? inSize : width;
                args[A_K] = paddedInput(k);
                args[A_WIH] = forwardIh[k][d];
                args[A_WHH] = forwardHh[k][d];
                args[A_BIAS] = bias[k][d];
                if (config.bias()) {
                    NativeKernels.packBias(params.biasIh(k, d), params.biasHh(k, d), unitBlock, hidden, hp, bias[k][d]);
                }
                args[A_G] = gates[k][d];
                args[A_C] = cells[k][d];
                args[A_HOUT] = outputs[k] + 4L * d * hp;
                args[A_LDH] = width;
                args[A_H0] = initialH[k][d];
                args[A_C0] = initialC[k][d];
                args[A_T] = t;
                args[A_B] = b;
                args[A_HP] = hp;
                args[A_REVERSE] = d;
                args[A_TRAINING] = training ? 1 : 0;
                args[A_BARRIER] = barrier;
                args[A_SOLO_LOOP] = worthSplitting(b) ? 0 : 1;
                args[A_H] = hidden;
                runLayer(args, true);
            }
        }
        long last = outputs[layers - 1];
        for (int d = 0; d < dirs; d++) {
            copyOut(last + 4L * d * hp, width, rows, hidden, y, d * hidden, dirs * hidden);
        }
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                long lastRow = (long) (d == 0 ? t - 1 : 0) * b;
                int slot = (k * dirs + d) * b * hidden;
                NativeKernels.rowsOut(outputs[k] + 4L * (lastRow * width + (long) d * hp), width, b, hidden, hn, slot,
                        hidden);
                NativeKernels.rowsOut(cells[k][d] + 4L * lastRow * hp, hp, b, hidden, cn, slot, hidden);
            }
        }
        trained = training;
    }

    // ---------------------------------------------------------------- backward

    /** As {@link jlstm.LstmEngine#backward}, after a training-mode {@link #forward}. */
    void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                  LstmParameters gradients) {
        ensureOpen();
        if (!trained) {
            throw new IllegalStateException("backward needs a training-mode forward pass first");
        }
        checkParameters();
        ensureBackwardWorkspace();
        int t = steps, b = batch, rows = t * b, hp = paddedHidden, width = dirs * hp;
        for (int d = 0; d < dirs; d++) {
            copyIn(dy, d * hidden, rows, hidden, dirs * hidden, outputGrad + 4L * d * hp, width);
        }
        for (int k = layers - 1; k >= 0; k--) {
            long outGrad = k == layers - 1 ? outputGrad : inputGrads[k + 1];
            int kp = paddedInput(k), kin = config.layerInputSize(k);
            for (int d = 0; d < dirs; d++) {
                if (!backwardPacked[k][d]) {
                    packBackward(k, d);
                }
                int slot = (k * dirs + d) * b * hidden;
                NativeKernels.rowsIn(dhn, dhn == null ? 0 : slot, b, hidden, hidden, dhCarry, hp);
                NativeKernels.rowsIn(dcn, dcn == null ? 0 : slot, b, hidden, hidden, dcCarry, hp);
                long[] args = new long[ARGS_BACKWARD];
                args[B_X] = k == 0 ? input : outputs[k - 1];
                args[B_LDX] = k == 0 ? config.inputSize() : width;
                args[B_K] = kp;
                args[B_WIH] = backwardIh[k][d];
                args[B_WHH] = backwardHh[k][d];
                args[B_G] = gates[k][d];
                args[B_C] = cells[k][d];
                args[B_HOUT] = outputs[k] + 4L * d * hp;
                args[B_LDH] = width;
                args[B_H0] = initialH[k][d];
                args[B_C0] = initialC[k][d];
                args[B_DY] = outGrad + 4L * d * hp;
                args[B_LDY] = width;
                args[B_DG] = gateGrads;
                args[B_DHC] = dhCarry;
                args[B_DCC] = dcCarry;
                args[B_DX] = inputGrads[k];
                args[B_DX_ACCUMULATE] = d;
                args[B_DWIH] = gradIh;
                args[B_DWHH] = gradHh;
                args[B_DB] = config.bias() ? gradBias : 0;
                args[B_T] = t;
                args[B_B] = b;
                args[B_HP] = hp;
                args[B_REVERSE] = d;
                args[B_BARRIER] = barrier;
                args[B_SOLO_LOOP] = worthSplitting(b) ? 0 : 1;
                args[B_H] = hidden;
                runLayer(args, false);
                NativeKernels.unpackWeightGradient(gradIh, unitBlock, hidden, hp, kin, kp, blockIn(k), blockPad(k),
                        gradients.weightIh(k, d));
                NativeKernels.unpackWeightGradient(gradHh, unitBlock, hidden, hp, hidden, hp, hidden, hp,
                        gradients.weightHh(k, d));
                if (config.bias()) {
                    NativeKernels.unpackBiasGradient(gradBias, unitBlock, hidden, hp, gradients.biasIh(k, d),
                            gradients.biasHh(k, d));
                }
                NativeKernels.rowsOut(dhCarry, hp, b, hidden, dh0, slot, hidden);
                NativeKernels.rowsOut(dcCarry, hp, b, hidden, dc0, slot, hidden);
            }
        }
        int inSize = config.inputSize();
        copyOut(inputGrads[0], inSize, rows, inSize, dx, 0, inSize);
    }

    /**
     * Runs one layer and direction on the pool. The workers meet at a barrier every step, so when
     * another process takes one worker's core, the others wait for it (up to a scheduler time
     * slice, milliseconds, against a step of microseconds), and a split run can be slower than
     * one worker alone. The barrier times its waits; when they add up to nearly a whole worker's
     * time ({@link #CONTENDED}), the next {@value #SOLO_CALLS} layer runs go to the
     * calling thread alone (no barriers), then all workers are tried again. On an idle machine
     * the waits are the small imbalance between the workers' shares and this never triggers.
     */
    private void runLayer(long[] args, boolean forward) {
        int workers = soloCalls > 0 || soloForTests ? 1 : pool.size();
        long start = System.nanoTime();
        if (workers == 1) {
            if (forward) {
                NativeKernels.forward(args, unitBlock, 0, 1);
            } else {
                NativeKernels.backward(args, unitBlock, 0, 1);
            }
        } else if (forward) {
            pool.run((worker, n) -> NativeKernels.forward(args, unitBlock, worker, n));
        } else {
            pool.run((worker, n) -> NativeKernels.backward(args, unitBlock, worker, n));
        }
        long elapsed = System.nanoTime() - start;
        if (workers == 1) {
            soloCalls = Math.max(0, soloCalls - 1);  // (counts down only while contention keeps it solo)
        } else if (NativeKernels.takeStalls(barrier) > CONTENDED * (workers - 1) * elapsed) {
            soloCalls = SOLO_CALLS;
        }
    }

    /**
     * Whether the time loop is worth splitting between the workers (else worker 0 runs it alone
     * while the big products before and after it stay split). Split, each worker keeps its
     * share of W_hh in its own L2 cache but they meet at a barrier every step, so a split pays
     * when a step is large (from {@value #SPLIT_STEP_FLOPS} FLOPs, 2·B·4H·H) or when W_hh is too
     * big for one core's cache (more than {@value #SPLIT_WEIGHT_BYTES} bytes). Measured on 2 cores
     * (benchmarks/RESULTS.md): (B, H) = (1, 256), 0.5 MFLOP a step but 1 MiB of W_hh: split 0.94 ms
     * against 1.50 on one worker; (16, 128), 2 MFLOP and 256 KiB: one worker 3.0 ms, split 3.1-3.4.
     */
    private boolean worthSplitting(int b) {
        long stepFlops = 2L * b * 4 * paddedHidden * paddedHidden;
        long weightBytes = 16L * paddedHidden * paddedHidden;
        return alwaysSplit || stepFlops >= SPLIT_STEP_FLOPS || weightBytes > SPLIT_WEIGHT_BYTES;
    }

    /** Tests: split every time loop, whatever its size, so that small shapes cover the split schedule. */
    static volatile boolean alwaysSplit;

    /** Tests: every layer run on the calling thread alone, as under contention (see runLayer). */
    static volatile boolean soloForTests;

    static final long SPLIT_STEP_FLOPS = 8_000_000;
    static final long SPLIT_WEIGHT_BYTES = 512 * 1024;

    /** How many layer runs stay on one worker after contention was seen (then all workers again). */
    static final int SOLO_CALLS = 8;
    /**
     * Barrier waits (summed over the workers) beyond this share of (workers − 1) × the call's time
     * mean that the split run did hardly more work than one worker alone would have: the cores
     * are taken by other processes, and one worker without barriers does better.
     */
    static final double CONTENDED = 0.75;

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
        LstmConfig config = new LstmConfig(5, 7, 2, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 3);
        int t = 4, b = 3, state = config.numLayers() * config.directions() * b * config.hiddenSize();
        int out = t * b * config.outputSize();
        Random random = new Random(5);
        float[] x = randoms(random, t * b * config.inputSize()), h0 = randoms(random, state);
        float[] c0 = randoms(random, state), dy = randoms(random, out), dhn = randoms(random, state);
        float[] dcn = randoms(random, state);
        float[][] expected = runBoth(new CpuLstmEngine(params, 0), null, config, params, t, b,
                x, h0, c0, dy, dhn, dcn);
        float[][] got;
        try (NativeLstm fast = new NativeLstm(params, unitBlock)) {
            got = runBoth(null, fast, config, params, t, b, x, h0, c0, dy, dhn, dcn);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return "it threw " + e;
        }
        String[] names = {"y", "hn", "cn", "dx", "dh0", "dc0", "dW_ih", "dW_hh", "db"};
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

    private static float[][] runBoth(CpuLstmEngine java, NativeLstm fast, LstmConfig config, LstmParameters params,
                                     int t, int b, float[] x, float[] h0, float[] c0, float[] dy, float[] dhn,
                                     float[] dcn) {
        int state = h0.length;
        float[] y = new float[dy.length], hn = new float[state], cn = new float[state];
        float[] dx = new float[x.length], dh0 = new float[state], dc0 = new float[state];
        LstmParameters grads = LstmParameters.zeros(config);
        if (java != null) {
            try (java) {
                java.forward(t, b, x, h0, c0, y, hn, cn, true);
                java.backward(dy, dhn, dcn, dx, dh0, dc0, grads);
            }
        } else {
            fast.forward(t, b, x, h0, c0, y, hn, cn, true);
            fast.backward(dy, dhn, dcn, dx, dh0, dc0, grads);
        }
        int last = config.numLayers() - 1;
        return new float[][] {y, hn, cn, dx, dh0, dc0, grads.weightIh(last, 1), grads.weightHh(0, 0),
                grads.biasIh(last, 0)};
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
            A_LDH = 9, A_H0 = 10, A_C0 = 11, A_T = 12, A_B = 13, A_HP = 14, A_REVERSE = 15, A_TRAINING = 16,
            A_BARRIER = 17, A_SOLO_LOOP = 18, A_H = 19, ARGS_FORWARD = 20;
    static final int B_X = 0, B_LDX = 1, B_K = 2, B_WIH = 3, B_WHH = 4, B_G = 5, B_C = 6, B_HOUT = 7, B_LDH = 8,
            B_H0 = 9, B_C0 = 10, B_DY = 11, B_LDY = 12, B_DG = 13, B_DHC = 14, B_DCC = 15, B_DX = 16,
            B_DX_ACCUMULATE = 17, B_DWIH = 18, B_DWHH = 19, B_DB = 20, B_T = 21, B_B = 22, B_HP = 23, B_REVERSE = 24,
            B_BARRIER = 25, B_SOLO_LOOP = 26, B_H = 27, ARGS_BACKWARD = 28;

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
