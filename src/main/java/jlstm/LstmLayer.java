package jlstm;

import java.util.LinkedHashMap;
import java.util.Map;

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
 * <p>Shapes: x [T, B, I], y [T, B, D·H] (or [B, T, ·] when the config is batch-first); h0, c0,
 * hn, cn, dh0, dc0 [L·D, B, H]. A layer is not thread-safe.
 */
public final class LstmLayer implements AutoCloseable {
    private final LstmParameters parameters;
    private final LstmConfig config;
    private final LstmEngine engine;
    /** Shape of the last training-mode forward pass, or null when backward is not possible. */
    private int[] trainedShape;

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
        return run(x, h0, c0, false);
    }

    /** Inference from zero initial state. */
    public LstmOutput forward(Tensor x) {
        return run(x, null, null, false);
    }

    /** Training-mode forward: keeps the activations that {@link #backward} needs. */
    public LstmOutput forwardTraining(Tensor x, Tensor h0, Tensor c0) {
        return run(x, h0, c0, true);
    }

    private LstmOutput run(Tensor x, Tensor h0, Tensor c0, boolean training) {
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
        int[] stateShape = stateShape(batch);
        requireShape("h0", h0, stateShape);
        requireShape("c0", c0, stateShape);

        Tensor y = Tensor.zeros(steps, batch, config.outputSize());
        Tensor hn = Tensor.zeros(stateShape);
        Tensor cn = Tensor.zeros(stateShape);
        trainedShape = null;
        engine.forward(steps, batch, timeMajor.data(), h0 == null ? null : h0.data(), c0 == null ? null : c0.data(),
                y.data(), hn.data(), cn.data(), training);
        if (training) {
            trainedShape = new int[] {steps, batch};
        }
        return new LstmOutput(config.batchFirst() ? y.swapFirstTwoAxes() : y, hn, cn);
    }

    /**
     * Back-propagation through time for the last {@link #forwardTraining} call.
     *
     * @param dy  gradient w.r.t. y, the shape of y
     * @param dhn gradient w.r.t. hn [L·D, B, H], or null
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
        int[] stateShape = stateShape(batch);
        requireShape("dhn", dhn, stateShape);
        requireShape("dcn", dcn, stateShape);

        Tensor dyTimeMajor = config.batchFirst() ? dy.swapFirstTwoAxes() : dy;
        Tensor dx = Tensor.zeros(steps, batch, config.inputSize());
        Tensor dh0 = Tensor.zeros(stateShape);
        Tensor dc0 = Tensor.zeros(stateShape);
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

    private int[] stateShape(int batch) {
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
