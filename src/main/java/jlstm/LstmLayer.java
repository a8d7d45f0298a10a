package jlstm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;

import java.util.Objects;

import org.jspecify.annotations.Nullable;

import jlstm.internal.Backends;
import jlstm.internal.MemoryBudget;

/**
 * An LSTM over whole sequences: stacked layers, one or two directions, as PyTorch's
 * {@code nn.LSTM}. Runs on the backend chosen at creation and owns its resources (GPU memory,
 * workspaces) until {@link #close()}.
 *
 * <pre>{@code
 * LstmParameters params = LstmParameters.initialize(LstmConfig.of(8, 16).withLayers(2), 42);
 * try (LstmLayer lstm = LstmLayer.create(params, Device.AUTO)) {
 *     LstmOutput out = lstm.forwardTraining(x, null, null);      // x: [T, B, 8]
 *     LstmGradients g = lstm.backward(dy, null, null);           // dy: [T, B, 16]
 * }
 * }</pre>
 *
 * <p>Shapes: x [T, B, I], y [T, B, D·R] (or [B, T, ·] when the config is batch-first); h0, hn,
 * dh0 [L·D, B, R]; c0, cn, dc0 [L·D, B, H]. R = H, or P for a model with a projection
 * ({@link LstmConfig#realHiddenSize()}).
 *
 * <p><b>Variable-length batches</b> ({@code lengths}, PyTorch's {@code pack_padded_sequence}):
 * sequence b runs its first lengths[b] steps only; y is zero past them, hn/cn are taken at each
 * sequence's last valid step, the reverse direction starts there, and backward sends nothing
 * through the padded steps. The CPU engine does work proportional to the real lengths.
 *
 * <p><b>Dropout</b> ({@link LstmConfig#dropout()} = p &gt; 0, L &gt; 1): in {@link #forwardTraining}
 * only, each output of every layer but the last is zeroed with probability p and the others are
 * scaled by 1/(1−p) before the next layer reads it, as PyTorch does; {@link #backward} uses the same
 * masks. The masks are drawn on the host from a seeded generator ({@link #seedDropout}; default seed
 * {@value #DEFAULT_DROPOUT_SEED}), so a run is reproducible and every backend sees the same masks;
 * {@link #dropoutMasks()} returns those of the last pass, and explicit masks may be given instead.
 *
 * <p><b>Threads.</b> Inference ({@link #forward}) may be called from any number of threads at
 * once, with any shapes, and each call returns exactly what it returns when alone: a call borrows
 * an engine of its own for its duration (its own workspaces; on CUDA its own stream and cuBLAS
 * handle), from a pool that opens engines as concurrent calls need them, up to a bound
 * ({@link EngineOptions#maxEngines()}, default {@code -Djlstm.maxEngines}, else the number of
 * cores, at most 8); further callers wait for an engine to come back. Each engine
 * serves one call at a time. Training is one thread's job at a time:
 * <ul>
 *   <li>{@link #forwardTraining} and {@link #backward} form a pass that stays on one thread; the
 *       pass keeps its engine until its backward returns (inference from other threads meanwhile
 *       uses others, or waits for that backward when the bound is reached), then the engine serves
 *       every thread again (a repeated backward works only while no other call used it), and a
 *       {@code backward} on another thread, or while another training call runs, fails at once
 *       with an {@link IllegalStateException} saying so;</li>
 *   <li>parameters are changed in place (an optimizer step) only while no call runs, and then
 *       announced with {@link #parametersUpdated()}, which fails if a call is running; a change
 *       between {@link #forwardTraining} and its {@link #backward} reaches the next forward, not
 *       that backward (it differentiates the forward that ran);</li>
 *   <li>{@link #close()} while calls run closes their engines when they return.</li>
 * </ul>
 */
public final class LstmLayer implements AutoCloseable {
    /** The seed of the dropout generator of a new layer. */
    public static final long DEFAULT_DROPOUT_SEED = 0;

    private final LstmParameters parameters;
    private final LstmConfig config;
    private final EnginePool pool;
    /** Serialises training calls; tryLock, so that an overlap fails instead of waiting. */
    private final ReentrantLock trainingLock = new ReentrantLock();
    /** The thread inside a training call now, for messages. */
    private volatile String trainingCall;
    /** The last training pass (guarded by trainingLock), or null. */
    private TrainingPass pass;
    private long passCount;
    /** Draws the dropout masks of training passes, one draw per pass (guarded by trainingLock). */
    private SplittableRandom dropoutRandom = new SplittableRandom(DEFAULT_DROPOUT_SEED);
    /** The masks of the last training pass in the caller's layout; empty without dropout. */
    private volatile List<Tensor> lastMasks = List.of();

    /** A forwardTraining whose activations its engine holds for backward. */
    private record TrainingPass(EnginePool.Slot slot, long id, int steps, int batch, Thread owner) {
    }

    private LstmLayer(LstmParameters parameters, EnginePool pool) {
        this.parameters = parameters;
        this.config = parameters.config();
        this.pool = pool;
    }

    /**
     * A layer on the given device ({@link Device#AUTO} picks CUDA when usable, else the CPU), with
     * the options of {@link EngineOptions#fromSystemProperties()}.
     *
     * @param parameters the weights, shared, not copied: an optimizer may update them in place
     *                   (then call {@link #parametersUpdated()})
     * @param device     where to run
     * @return a new layer; close it to free its engines
     * @throws IllegalStateException if the device asked for is not usable (the message says why)
     * @throws NullPointerException  if an argument is null
     */
    public static LstmLayer create(LstmParameters parameters, Device device) {
        return create(parameters, device, EngineOptions.fromSystemProperties());
    }

    /**
     * A layer on the given device, run as the options say (threads, kernels, schedule, precision, …).
     *
     * @param parameters the weights, shared, not copied
     * @param device     where to run
     * @param options    engine settings
     * @return a new layer; close it to free its engines
     * @throws IllegalStateException if the device asked for is not usable (the message says why)
     * @throws NullPointerException  if an argument is null
     */
    public static LstmLayer create(LstmParameters parameters, Device device, EngineOptions options) {
        Objects.requireNonNull(parameters, "parameters");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(options, "options");
        return create(parameters, Backends.select(device, options), options);
    }

    /**
     * A layer on an explicit backend, with the options of {@link EngineOptions#fromSystemProperties()}.
     *
     * @param parameters the weights, shared, not copied
     * @param backend    the backend that makes the engines
     * @return a new layer; close it to free its engines
     * @throws NullPointerException if an argument is null
     */
    public static LstmLayer create(LstmParameters parameters, LstmBackend backend) {
        return create(parameters, backend, EngineOptions.fromSystemProperties());
    }

    /**
     * A layer on an explicit backend that runs at most {@code maxEngines} calls at once (each
     * concurrent call needs an engine with its own workspace; more callers wait); the other options
     * from {@link EngineOptions#fromSystemProperties()}.
     *
     * @param parameters the weights, shared, not copied
     * @param backend    the backend that makes the engines
     * @param maxEngines the most engines (concurrent calls), at least 1
     * @return a new layer; close it to free its engines
     * @throws IllegalArgumentException if {@code maxEngines} is below 1
     * @throws NullPointerException     if an argument is null
     */
    public static LstmLayer create(LstmParameters parameters, LstmBackend backend, int maxEngines) {
        if (maxEngines < 1) {
            throw new IllegalArgumentException("maxEngines must be at least 1, got " + maxEngines);
        }
        return create(parameters, backend, EngineOptions.fromSystemProperties().withMaxEngines(maxEngines));
    }

    /**
     * A layer on an explicit backend, run as the options say.
     *
     * @param parameters the weights, shared, not copied
     * @param backend    the backend that makes the engines
     * @param options    engine settings
     * @return a new layer; close it to free its engines
     * @throws NullPointerException if an argument is null
     */
    public static LstmLayer create(LstmParameters parameters, LstmBackend backend, EngineOptions options) {
        Objects.requireNonNull(parameters, "parameters");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(options, "options");
        return new LstmLayer(parameters, new EnginePool(backend, parameters, options));
    }

    /**
     * Inference: outputs only, nothing kept for backward. h0 and c0 may be null (zeros).
     * Safe to call from many threads at once (see the class comment).
     *
     * @param x  the input sequences, [T, B, I] ([B, T, I] batch-first), T, B ≥ 1; read, not kept
     *           (a view over a slice or a buffer is copied once)
     * @param h0 initial hidden state [L·D, B, R], or null for zeros
     * @param c0 initial cell state [L·D, B, H], or null for zeros
     * @return y [T, B, D·R] ([B, T, D·R] batch-first), hn [L·D, B, R] and cn [L·D, B, H], new
     *         tensors that the caller owns
     * @throws IllegalArgumentException if a shape disagrees with the config (the message gives the
     *                                  expected shape)
     * @throws NullPointerException     if {@code x} is null
     * @throws InsufficientMemoryException if the call's memory cannot fit the heap
     */
    public LstmOutput forward(Tensor x, @Nullable Tensor h0, @Nullable Tensor c0) {
        return forward(x, h0, c0, null);
    }

    /**
     * Inference from zero initial state; safe from many threads.
     *
     * @param x the input sequences, [T, B, I] ([B, T, I] batch-first), T, B ≥ 1
     * @return y [T, B, D·R] ([B, T, D·R] batch-first), hn [L·D, B, R] and cn [L·D, B, H], new
     *         tensors that the caller owns
     * @throws IllegalArgumentException if a shape disagrees with the config (the message gives the
     *                                  expected shape)
     * @throws NullPointerException     if {@code x} is null
     * @throws InsufficientMemoryException if the call's memory cannot fit the heap
     */
    public LstmOutput forward(Tensor x) {
        return forward(x, null, null, null);
    }

    /**
     * Inference over sequences of different lengths (safe from many threads, as {@link #forward}).
     *
     * @param x  the input sequences, [T, B, I] ([B, T, I] batch-first), T, B ≥ 1; read, not kept
     *           (a view over a slice or a buffer is copied once)
     * @param h0 initial hidden state [L·D, B, R], or null for zeros
     * @param c0 initial cell state [L·D, B, H], or null for zeros
     * @param lengths [B]: sequence b's steps, each in [1, T], as {@code pack_padded_sequence};
     *                null means all T (copied, not kept)
     * @return y [T, B, D·R] ([B, T, D·R] batch-first), hn [L·D, B, R] and cn [L·D, B, H], new
     *         tensors that the caller owns
     * @throws IllegalArgumentException if a shape disagrees with the config (the message gives the
     *                                  expected shape)
     * @throws NullPointerException     if {@code x} is null
     * @throws InsufficientMemoryException if the call's memory cannot fit the heap
     */
    public LstmOutput forward(Tensor x, @Nullable Tensor h0, @Nullable Tensor c0, int @Nullable [] lengths) {
        Shape shape = validate(x, h0, c0, lengths);
        EnginePool.Slot slot = pool.borrow();
        try {
            return run(slot, shape, x, h0, c0, false, null);
        } finally {
            pool.giveBack(slot, 0);
        }
    }

    /**
     * Training-mode forward: keeps the activations that {@link #backward} needs. One training pass
     * at a time: {@link IllegalStateException} when another training call is running.
     *
     * @param x  the input sequences, [T, B, I] ([B, T, I] batch-first), T, B ≥ 1; read, not kept
     *           (a view over a slice or a buffer is copied once)
     * @param h0 initial hidden state [L·D, B, R], or null for zeros
     * @param c0 initial cell state [L·D, B, H], or null for zeros
     * @return y [T, B, D·R] ([B, T, D·R] batch-first), hn [L·D, B, R] and cn [L·D, B, H], new
     *         tensors that the caller owns
     * @throws IllegalArgumentException if a shape disagrees with the config (the message gives the
     *                                  expected shape)
     * @throws NullPointerException     if {@code x} is null
     * @throws InsufficientMemoryException if the call's memory cannot fit the heap
     * @throws IllegalStateException if another training call of this layer is running
     */
    public LstmOutput forwardTraining(Tensor x, @Nullable Tensor h0, @Nullable Tensor c0) {
        return forwardTraining(x, h0, c0, null, null);
    }

    /**
     * Training-mode forward over sequences of different lengths.
     *
     * @param x  the input sequences, [T, B, I] ([B, T, I] batch-first), T, B ≥ 1; read, not kept
     *           (a view over a slice or a buffer is copied once)
     * @param h0 initial hidden state [L·D, B, R], or null for zeros
     * @param c0 initial cell state [L·D, B, H], or null for zeros
     * @param lengths [B]: sequence b's steps, each in [1, T], as {@code pack_padded_sequence};
     *                null means all T (copied, not kept)
     * @return y [T, B, D·R] ([B, T, D·R] batch-first), hn [L·D, B, R] and cn [L·D, B, H], new
     *         tensors that the caller owns
     * @throws IllegalArgumentException if a shape disagrees with the config (the message gives the
     *                                  expected shape)
     * @throws NullPointerException     if {@code x} is null
     * @throws InsufficientMemoryException if the call's memory cannot fit the heap
     * @throws IllegalStateException if another training call of this layer is running
     */
    public LstmOutput forwardTraining(Tensor x, @Nullable Tensor h0, @Nullable Tensor c0, int @Nullable [] lengths) {
        return forwardTraining(x, h0, c0, lengths, null);
    }

    /**
     * Training-mode forward with explicit dropout masks instead of drawn ones (to replay a pass, or
     * to match masks made elsewhere, e.g. by PyTorch).
     *
     * @param x  the input sequences, [T, B, I] ([B, T, I] batch-first), T, B ≥ 1; read, not kept
     *           (a view over a slice or a buffer is copied once)
     * @param h0 initial hidden state [L·D, B, R], or null for zeros
     * @param c0 initial cell state [L·D, B, H], or null for zeros
     * @param lengths      [B] or null, as in {@link #forwardTraining(Tensor, Tensor, Tensor, int[])}
     * @param dropoutMasks L − 1 tensors of y's shape for the layer's R, [T, B, D·R] (or [B, T, D·R]
     *                     batch-first): multipliers of layers 0 … L−2's outputs (0 or 1/(1−p) for
     *                     dropout p); applied whatever the config's dropout; null to draw them
     * @return y [T, B, D·R] ([B, T, D·R] batch-first), hn [L·D, B, R] and cn [L·D, B, H], new
     *         tensors that the caller owns
     * @throws IllegalArgumentException if a shape disagrees with the config (the message gives the
     *                                  expected shape)
     * @throws NullPointerException     if {@code x} is null
     * @throws InsufficientMemoryException if the call's memory cannot fit the heap
     * @throws IllegalStateException if another training call of this layer is running
     */
    public LstmOutput forwardTraining(Tensor x, @Nullable Tensor h0, @Nullable Tensor c0, int @Nullable [] lengths,
                                      @Nullable List<Tensor> dropoutMasks) {
        Shape shape = validate(x, h0, c0, lengths);
        enterTraining("forwardTraining");
        try {
            if (pass != null) {
                pool.unpin(pass.slot(), pass.id()); // replaced: its engine may serve others again
                pass = null;
            }
            float[][] masks = dropoutMasks(dropoutMasks, shape.steps, shape.batch);
            EnginePool.Slot slot = pool.borrow();
            long id = 0;
            try {
                LstmOutput out = run(slot, shape, x, h0, c0, true, masks);
                id = ++passCount;
                pass = new TrainingPass(slot, id, shape.steps, shape.batch, Thread.currentThread());
                return out;
            } finally {
                pool.giveBack(slot, id);
            }
        } finally {
            exitTraining();
        }
    }

    /**
     * Restarts the dropout generator from a seed: the same seed gives the same masks in the same calls.
     *
     * @param seed the generator's new seed
     * @throws IllegalStateException if a training call of this layer is running
     */
    public void seedDropout(long seed) {
        enterTraining("seedDropout");
        try {
            dropoutRandom = new SplittableRandom(seed);
        } finally {
            exitTraining();
        }
    }

    /**
     * The dropout masks of the last training-mode pass (drawn or given), L − 1 tensors of y's
     * shape, in the caller's layout; an empty list when that pass had no dropout.
     *
     * @return an unmodifiable list of copies (changing them changes nothing here)
     */
    public List<Tensor> dropoutMasks() {
        return lastMasks;
    }

    /** T, B and the checked lengths (null: all T) of a validated call. */
    private record Shape(int steps, int batch, int @Nullable [] lengths) {
    }

    private Shape validate(Tensor x, @Nullable Tensor h0, @Nullable Tensor c0, int @Nullable [] lengths) {
        Objects.requireNonNull(x, "x");
        int i = config.inputSize();
        if (x.rank() != 3 || x.dim(2) != i || x.dim(0) < 1 || x.dim(1) < 1) {
            throw new IllegalArgumentException("x has shape " + x.shapeString() + " but " + config + " expects "
                    + (config.batchFirst() ? "[B, T, " : "[T, B, ") + i + "] with T ≥ 1 and B ≥ 1");
        }
        int steps = config.batchFirst() ? x.dim(1) : x.dim(0);
        int batch = config.batchFirst() ? x.dim(0) : x.dim(1);
        requireShape("h0", h0, hiddenStateShape(batch));
        requireShape("c0", c0, cellStateShape(batch));
        long outputs = (long) steps * batch * config.outputSize();
        if (outputs > Integer.MAX_VALUE - 8 || (long) steps * batch * config.inputSize() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("x of shape " + x.shapeString() + " gives y of " + outputs
                    + " values, more than one Java array holds; split the sequence or the batch");
        }
        return new Shape(steps, batch, lengths == null ? null : checkLengths(lengths, steps, batch));
    }

    /**
     * One call on a borrowed engine; checks the heap it needs first.
     *
     * @param masks L − 1 time-major dropout masks [T·B·D·R], or null
     */
    private LstmOutput run(EnginePool.Slot slot, Shape shape, Tensor x, @Nullable Tensor h0, @Nullable Tensor c0,
                           boolean training, float @Nullable [][] masks) {
        int steps = shape.steps, batch = shape.batch;
        requireMemory(slot, steps, batch, training);
        Tensor timeMajor = config.batchFirst() ? x.swapFirstTwoAxes() : x.dense();
        Tensor y = Tensor.zeros(steps, batch, config.outputSize());
        Tensor hn = Tensor.zeros(hiddenStateShape(batch));
        Tensor cn = Tensor.zeros(cellStateShape(batch));
        slot.engine.forward(steps, batch, timeMajor.data(), h0 == null ? null : h0.dense().data(),
                c0 == null ? null : c0.dense().data(),
                y.data(), hn.data(), cn.data(), training, shape.lengths, masks);
        return new LstmOutput(config.batchFirst() ? y.swapFirstTwoAxes() : y, hn, cn);
    }

    /** A copy of lengths after checking that there is one per sequence, each in [1, T]. */
    private static int[] checkLengths(int[] lengths, int steps, int batch) {
        if (lengths.length != batch) {
            throw new IllegalArgumentException("lengths has " + lengths.length + " entries but the batch has " + batch
                    + " sequences");
        }
        for (int b = 0; b < batch; b++) {
            if (lengths[b] < 1 || lengths[b] > steps) {
                throw new IllegalArgumentException("lengths[" + b + "] = " + lengths[b] + " is outside [1, T] = [1, "
                        + steps + "] (every sequence needs at least one step, as in PyTorch's pack_padded_sequence)");
            }
        }
        return lengths.clone();
    }

    /**
     * The time-major masks for the engine of a training pass: the given ones (checked), or drawn
     * when the config asks for dropout, or null; remembers them for {@link #dropoutMasks()}. Called
     * inside a training call (the generator is guarded by the training lock).
     */
    private float @Nullable [][] dropoutMasks(@Nullable List<Tensor> given, int steps, int batch) {
        int count = config.numLayers() - 1;
        int width = config.outputSize();
        int[] shape = config.batchFirst() ? new int[] {batch, steps, width} : new int[] {steps, batch, width};
        lastMasks = List.of();
        if (given == null && (config.dropout() == 0 || count == 0)) {
            return null;
        }
        float[][] masks = new float[count][];
        List<Tensor> kept = new ArrayList<>();
        if (given != null) {
            if (given.size() != count) {
                throw new IllegalArgumentException("dropout masks: " + config + " has " + count
                        + " mask(s) (one per layer but the last), got " + given.size());
            }
            if (count == 0) {
                return null;
            }
            for (int k = 0; k < count; k++) {
                Tensor m = given.get(k);
                if (m == null) {
                    throw new IllegalArgumentException("dropout mask " + k + " is null");
                }
                requireShape("dropout mask " + k, m, shape);
                masks[k] = (config.batchFirst() ? m.swapFirstTwoAxes() : m.copy()).data();
                kept.add(m.copy());
            }
        } else {
            for (int k = 0; k < count; k++) {
                masks[k] = DropoutMasks.draw(dropoutRandom, config.dropout(), steps * batch * width);
                Tensor m = Tensor.of(masks[k], steps, batch, width);
                kept.add(config.batchFirst() ? m.swapFirstTwoAxes() : m.copy());
            }
        }
        lastMasks = List.copyOf(kept);
        return masks;
    }

    /**
     * The heap a call needs beyond what its engine already holds: its outputs (and, training, the
     * gradients backward returns), the batch-first copies, and the engine's workspace for this shape
     * when it differs from the one it has.
     */
    private void requireMemory(EnginePool.Slot slot, int steps, int batch, boolean training) {
        long rows = (long) steps * batch;
        long slots = (long) config.numLayers() * config.directions() * batch;
        long state = slots * (config.realHiddenSize() + config.hiddenSize()); // h [.., R] and c [.., H]
        long io = rows * config.outputSize() + state;
        if (config.batchFirst()) {
            io += rows * (config.inputSize() + config.outputSize());
        }
        if (training) { // what backward will return: dx, dh0, dc0, one gradient per parameter (+ dy, dx swapped)
            io += rows * config.inputSize() + state + parameters.count()
                    + (config.batchFirst() ? rows * (config.inputSize() + config.outputSize()) : 0);
        }
        boolean sameShape = slot.steps == steps && slot.batch == batch;
        boolean trainingWorkspace = training || (sameShape && slot.trainingWorkspace);
        long workspace = pool.backend().workspaceBytes(config, steps, batch, trainingWorkspace, pool.options());
        long growth = Math.max(0, workspace - slot.workspaceBytes);
        // Native memory is counted against the heap's limit as well, so -Xmx bounds a call on every path.
        long nativeWorkspace = pool.backend().nativeWorkspaceBytes(config, steps, batch, trainingWorkspace,
                pool.options());
        long nativeGrowth = Math.max(0, nativeWorkspace - slot.nativeWorkspaceBytes);
        MemoryBudget.require(Float.BYTES * io + growth + nativeGrowth, (training ? "a training pass" : "a forward pass")
                + " of T=" + steps + ", B=" + batch + " through " + config + (nativeGrowth >= MemoryBudget.SMALL_BYTES
                ? " (" + MemoryBudget.human(nativeGrowth) + " of it the CPU kernels' native workspace, counted against"
                + " -Xmx)" : ""));
        slot.steps = steps;
        slot.batch = batch;
        slot.trainingWorkspace = trainingWorkspace;
        slot.workspaceBytes = workspace;
        slot.nativeWorkspaceBytes = nativeWorkspace;
    }

    /**
     * Back-propagation through time for the last {@link #forwardTraining} call, on the thread that
     * made it. It differentiates that forward as it ran: with the weights it read, also when the
     * parameters were changed in place since (the next forward uses the changed ones), on every
     * device.
     *
     * @param dy  gradient w.r.t. y, the shape of y (nothing flows from steps past a sequence's length)
     * @param dhn gradient w.r.t. hn [L·D, B, R], or null for zeros
     * @param dcn gradient w.r.t. cn [L·D, B, H], or null for zeros
     * @return dx (the shape of x), dh0 [L·D, B, R], dc0 [L·D, B, H] and one gradient per parameter
     *         (PyTorch's names and shapes), new tensors that the caller owns
     * @throws IllegalStateException    with no training pass to go back through, on another thread
     *                                  than its forwardTraining, or while another training call runs
     * @throws IllegalArgumentException if a shape differs from the pass's (the message gives it)
     * @throws NullPointerException     if {@code dy} is null
     */
    public LstmGradients backward(Tensor dy, @Nullable Tensor dhn, @Nullable Tensor dcn) {
        Objects.requireNonNull(dy, "dy");
        enterTraining("backward");
        try {
            TrainingPass p = pass;
            if (p == null) {
                throw new IllegalStateException("backward needs a forwardTraining call first");
            }
            if (p.owner() != Thread.currentThread()) {
                throw new IllegalStateException("backward on thread '" + Thread.currentThread().getName()
                        + "', but the last forwardTraining ran on thread '" + p.owner().getName() + "': a training pass"
                        + " (forwardTraining, then backward) must stay on one thread, and passes must not interleave");
            }
            int steps = p.steps(), batch = p.batch();
            int[] yShape = config.batchFirst() ? new int[] {batch, steps, config.outputSize()}
                    : new int[] {steps, batch, config.outputSize()};
            requireShape("dy", dy, yShape);
            requireShape("dhn", dhn, hiddenStateShape(batch));
            requireShape("dcn", dcn, cellStateShape(batch));
            if (!pool.resume(p.slot(), p.id())) {
                pass = null;
                throw new IllegalStateException("backward needs a forwardTraining call first (its activations are gone:"
                        + " a forward on this thread since the last forwardTraining discarded them, or after this pass's"
                        + " backward its engine served another call)");
            }
            try {
                Tensor dyTimeMajor = config.batchFirst() ? dy.swapFirstTwoAxes() : dy.dense();
                Tensor dx = Tensor.zeros(steps, batch, config.inputSize());
                Tensor dh0 = Tensor.zeros(hiddenStateShape(batch));
                Tensor dc0 = Tensor.zeros(cellStateShape(batch));
                LstmParameters grads = LstmParameters.zeros(config);
                p.slot().engine.backward(dyTimeMajor.data(), dhn == null ? null : dhn.dense().data(),
                        dcn == null ? null : dcn.dense().data(), dx.data(), dh0.data(), dc0.data(), grads);
                Map<String, Tensor> byName = new LinkedHashMap<>(grads.asMap());
                return new LstmGradients(config.batchFirst() ? dx.swapFirstTwoAxes() : dx, dh0, dc0, byName);
            } finally {
                pool.finish(p.slot(), p.id()); // the pass is over: its engine may serve others now
            }
        } finally {
            exitTraining();
        }
    }

    /** Enters a training call, or fails at once when another thread is in one. */
    private void enterTraining(String call) {
        if (!trainingLock.tryLock()) {
            String running = trainingCall;
            throw new IllegalStateException(call + " on thread '" + Thread.currentThread().getName() + "' while "
                    + (running == null ? "another training call" : running) + " runs: training calls of one"
                    + " LstmLayer must not overlap (one training thread per layer; inference may run alongside)");
        }
        if (trainingLock.getHoldCount() > 1) {
            trainingLock.unlock();
            throw new IllegalStateException(call + " from inside a training call");
        }
        trainingCall = call + " on thread '" + Thread.currentThread().getName() + "'";
    }

    private void exitTraining() {
        trainingCall = null;
        trainingLock.unlock();
    }

    /**
     * Call after changing parameter tensors in place (e.g. an optimizer step), while no call on
     * this layer runs; every engine picks the change up before its next call.
     *
     * @throws IllegalStateException when a call is running on another thread
     */
    public void parametersUpdated() {
        pool.parametersUpdated();
    }

    /**
     * The device running this layer.
     *
     * @return {@code cpu} or {@code cuda}
     */
    public String deviceName() {
        return pool.backend().name();
    }

    /**
     * The layer's weights: the tensors it was created with, not copies. Change them only while no
     * call runs, then call {@link #parametersUpdated()}.
     *
     * @return the parameters
     */
    public LstmParameters parameters() {
        return parameters;
    }

    /**
     * The options this layer's engines run with.
     *
     * @return the options given at creation, or read from the system properties then
     */
    public EngineOptions options() {
        return pool.options();
    }

    /**
     * The model's shape: sizes, layers, directions, layout.
     *
     * @return the config of {@link #parameters()}
     */
    public LstmConfig config() {
        return config;
    }

    /**
     * Dedicates this layer's first engine to the caller for good, for device-resident extensions
     * (training on the GPU): from the first call on it is the caller's alone and the layer's own
     * calls use other engines (so a layer allowed one engine has none left for itself). It follows
     * the engine rule: one call at a time. Not a getter: call it once and keep the engine.
     *
     * @return the dedicated engine, closed with the layer
     * @throws IllegalStateException if the layer is closed
     */
    public LstmEngine dedicateEngine() {
        return pool.dedicateFirst();
    }

    /** h0, hn: [L·D, B, R]. */
    private int[] hiddenStateShape(int batch) {
        return new int[] {config.numLayers() * config.directions(), batch, config.realHiddenSize()};
    }

    /** c0, cn: [L·D, B, H]. */
    private int[] cellStateShape(int batch) {
        return new int[] {config.numLayers() * config.directions(), batch, config.hiddenSize()};
    }

    private static void requireShape(String what, @Nullable Tensor t, int[] expected) {
        if (t != null && !t.hasShape(expected)) {
            throw new IllegalArgumentException(what + " has shape " + t.shapeString() + ", expected "
                    + java.util.Arrays.toString(expected));
        }
    }

    /** Engines opened so far (for tests: at most the bound, one when used from one thread). */
    int engineCount() {
        return pool.size();
    }

    /** Frees every engine (those running a call when it returns); later calls fail. Idempotent. */
    @Override
    public void close() {
        pool.close();
    }
}
