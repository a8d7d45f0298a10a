package jlstm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

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
 * ({@link LstmConfig#realHiddenSize()}). A layer is not thread-safe.
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
 */
public final class LstmLayer implements AutoCloseable {
    /** The seed of the dropout generator of a new layer. */
    public static final long DEFAULT_DROPOUT_SEED = 0;

    private final LstmParameters parameters;
    private final LstmConfig config;
    private final LstmEngine engine;
    /** Shape of the last training-mode forward pass, or null when backward is not possible. */
    private int[] trainedShape;
    /** Draws the dropout masks of training-mode passes, one draw per pass. */
    private SplittableRandom dropoutRandom = new SplittableRandom(DEFAULT_DROPOUT_SEED);
    /** The masks of the last training-mode pass in the caller's layout; empty without dropout. */
    private List<Tensor> lastMasks = List.of();

    private LstmLayer(LstmParameters parameters, LstmEngine engine) {
        this.parameters = parameters;
        this.config = parameters.config();
        this.engine = engine;
    }

    /** A layer on the given device ({@link Device#AUTO} picks CUDA when usable, else the CPU). */
    public static LstmLayer create(LstmParameters parameters, Device device) {
        return create(parameters, Backends.select(device));
    }

    /** A layer on an explicit backend. */
    public static LstmLayer create(LstmParameters parameters, LstmBackend backend) {
        return new LstmLayer(parameters, backend.open(parameters));
    }

    /** Inference: outputs only, nothing kept for backward. h0 and c0 may be null (zeros). */
    public LstmOutput forward(Tensor x, Tensor h0, Tensor c0) {
        return run(x, h0, c0, null, false, null);
    }

    /** Inference from zero initial state. */
    public LstmOutput forward(Tensor x) {
        return run(x, null, null, null, false, null);
    }

    /**
     * Inference over sequences of different lengths.
     *
     * @param lengths [B]: sequence b's steps, each in [1, T]; null means all T
     */
    public LstmOutput forward(Tensor x, Tensor h0, Tensor c0, int[] lengths) {
        return run(x, h0, c0, lengths, false, null);
    }

    /** Training-mode forward: keeps the activations that {@link #backward} needs. */
    public LstmOutput forwardTraining(Tensor x, Tensor h0, Tensor c0) {
        return run(x, h0, c0, null, true, null);
    }

    /**
     * Training-mode forward over sequences of different lengths.
     *
     * @param lengths [B]: sequence b's steps, each in [1, T]; null means all T
     */
    public LstmOutput forwardTraining(Tensor x, Tensor h0, Tensor c0, int[] lengths) {
        return run(x, h0, c0, lengths, true, null);
    }

    /**
     * Training-mode forward with explicit dropout masks instead of drawn ones (to replay a pass, or
     * to match masks made elsewhere, e.g. by PyTorch).
     *
     * @param lengths      [B] or null, as in {@link #forwardTraining(Tensor, Tensor, Tensor, int[])}
     * @param dropoutMasks L − 1 tensors of y's shape for the layer's R, [T, B, D·R] (or [B, T, D·R]
     *                     batch-first): multipliers of layers 0 … L−2's outputs (0 or 1/(1−p) for
     *                     dropout p); applied whatever the config's dropout; null to draw them
     */
    public LstmOutput forwardTraining(Tensor x, Tensor h0, Tensor c0, int[] lengths, List<Tensor> dropoutMasks) {
        return run(x, h0, c0, lengths, true, dropoutMasks);
    }

    /** Restarts the dropout generator from a seed: the same seed gives the same masks in the same calls. */
    public void seedDropout(long seed) {
        dropoutRandom = new SplittableRandom(seed);
    }

    /**
     * The dropout masks of the last training-mode pass (drawn or given), L − 1 tensors of y's
     * shape, in the caller's layout; an empty list when that pass had no dropout.
     */
    public List<Tensor> dropoutMasks() {
        return lastMasks;
    }

    private LstmOutput run(Tensor x, Tensor h0, Tensor c0, int[] lengths, boolean training, List<Tensor> masks) {
        if (x == null) {
            throw new IllegalArgumentException("x is required");
        }
        int i = config.inputSize();
        if (x.rank() != 3 || x.dim(2) != i || x.dim(0) < 1 || x.dim(1) < 1) {
            throw new IllegalArgumentException("x has shape " + x.shapeString() + " but " + config + " expects "
                    + (config.batchFirst() ? "[B, T, " : "[T, B, ") + i + "] with T ≥ 1 and B ≥ 1");
        }
        Tensor timeMajor = config.batchFirst() ? x.swapFirstTwoAxes() : x;
        int steps = timeMajor.dim(0), batch = timeMajor.dim(1);
        requireShape("h0", h0, hiddenStateShape(batch));
        requireShape("c0", c0, cellStateShape(batch));
        int[] checkedLengths = lengths == null ? null : checkLengths(lengths, steps, batch);
        if (!training && masks != null) {
            throw new IllegalArgumentException("dropout masks apply in training mode only (dropout is off in inference)");
        }
        float[][] engineMasks = training ? dropoutMasks(masks, steps, batch) : null;

        Tensor y = Tensor.zeros(steps, batch, config.outputSize());
        Tensor hn = Tensor.zeros(hiddenStateShape(batch));
        Tensor cn = Tensor.zeros(cellStateShape(batch));
        trainedShape = null;
        engine.forward(steps, batch, timeMajor.data(), h0 == null ? null : h0.data(), c0 == null ? null : c0.data(),
                y.data(), hn.data(), cn.data(), training, checkedLengths, engineMasks);
        if (training) {
            trainedShape = new int[] {steps, batch};
        }
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
     * The time-major masks for the engine of a training-mode pass: the given ones (checked), or
     * drawn when the config asks for dropout, or null; remembers them for {@link #dropoutMasks()}.
     */
    private float[][] dropoutMasks(List<Tensor> given, int steps, int batch) {
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
     * Back-propagation through time for the last {@link #forwardTraining} call.
     *
     * @param dy  gradient w.r.t. y, the shape of y (nothing flows from steps past a sequence's length)
     * @param dhn gradient w.r.t. hn [L·D, B, R], or null
     * @param dcn gradient w.r.t. cn [L·D, B, H], or null
     */
    public LstmGradients backward(Tensor dy, Tensor dhn, Tensor dcn) {
        if (trainedShape == null) {
            throw new IllegalStateException("backward needs a forwardTraining call first (with no forward since)");
        }
        int steps = trainedShape[0], batch = trainedShape[1];
        int[] yShape = config.batchFirst() ? new int[] {batch, steps, config.outputSize()}
                : new int[] {steps, batch, config.outputSize()};
        if (dy == null) {
            throw new IllegalArgumentException("dy is required");
        }
        requireShape("dy", dy, yShape);
        requireShape("dhn", dhn, hiddenStateShape(batch));
        requireShape("dcn", dcn, cellStateShape(batch));

        Tensor dyTimeMajor = config.batchFirst() ? dy.swapFirstTwoAxes() : dy;
        Tensor dx = Tensor.zeros(steps, batch, config.inputSize());
        Tensor dh0 = Tensor.zeros(hiddenStateShape(batch));
        Tensor dc0 = Tensor.zeros(cellStateShape(batch));
        LstmParameters grads = LstmParameters.zeros(config);
        engine.backward(dyTimeMajor.data(), dhn == null ? null : dhn.data(), dcn == null ? null : dcn.data(),
                dx.data(), dh0.data(), dc0.data(), grads);
        Map<String, Tensor> byName = new LinkedHashMap<>(grads.asMap());
        return new LstmGradients(config.batchFirst() ? dx.swapFirstTwoAxes() : dx, dh0, dc0, byName);
    }

    /** Call after changing parameter tensors in place (e.g. an optimizer step). */
    public void parametersUpdated() {
        engine.parametersUpdated();
    }

    /** The device running this layer: {@code cpu} or {@code cuda}. */
    public String deviceName() {
        return engine.deviceName();
    }

    public LstmParameters parameters() {
        return parameters;
    }

    public LstmConfig config() {
        return config;
    }

    /** The engine behind this layer, for device-resident extensions (training on the GPU). */
    public LstmEngine engine() {
        return engine;
    }

    /** h0, hn: [L·D, B, R]. */
    private int[] hiddenStateShape(int batch) {
        return new int[] {config.numLayers() * config.directions(), batch, config.realHiddenSize()};
    }

    /** c0, cn: [L·D, B, H]. */
    private int[] cellStateShape(int batch) {
        return new int[] {config.numLayers() * config.directions(), batch, config.hiddenSize()};
    }

    private static void requireShape(String what, Tensor t, int[] expected) {
        if (t != null && !t.hasShape(expected)) {
            throw new IllegalArgumentException(what + " has shape " + t.shapeString() + ", expected "
                    + java.util.Arrays.toString(expected));
        }
    }

    @Override
    public void close() {
        engine.close();
    }
}
