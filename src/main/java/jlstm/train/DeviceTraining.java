package jlstm.train;

import java.util.LinkedHashMap;
import java.util.Map;

import jlstm.Tensor;
import jlstm.internal.cuda.CudaLstmEngine;
import jlstm.internal.cuda.CudaTrainingStep;

/**
 * The device-resident training step of a {@link SequenceModel} whose LSTM runs on CUDA: head,
 * loss, clipping and the optimizer run as kernels beside the LSTM ({@link CudaTrainingStep}), so a
 * step sends the batch and receives the loss, nothing else. Used for {@link MeanSquaredError} or
 * {@link SoftmaxCrossEntropy} with {@link Adam} or {@link Sgd} on a time-major model without
 * projection or dropout, unless
 * {@code -Djlstm.cuda.deviceTraining=off}; other combinations train on the host. It takes the
 * layer's first engine for itself ({@code LstmLayer#dedicateEngine()}); the layer's own calls use others.
 *
 * <p>While it runs, the device holds the current parameters and optimizer state; the host copies
 * go stale until {@link #synchronizeHost()} (the model calls it before it predicts or hands out
 * its parameters, the trainer at the end of every epoch).
 */
final class DeviceTraining implements AutoCloseable {
    /** System property: on (default) or off. */
    static final String PROPERTY = jlstm.EngineOptions.CUDA_DEVICE_TRAINING;
    private static final String PREFIX = "optimizer.";

    private final SequenceModel model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final CudaTrainingStep step;
    private long steps;
    private boolean hostStale;

    private DeviceTraining(SequenceModel model, Loss loss, Optimizer optimizer, CudaTrainingStep step) {
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.step = step;
        this.steps = optimizer.steps();
    }

    /** A device step for this model, loss and optimizer, or null when they train on the host. */
    static DeviceTraining openIfSupported(SequenceModel model, Loss loss, Optimizer optimizer) {
        if (model.batchFirst() || model.lstm().config().projSize() > 0 || model.lstm().config().dropout() > 0
                || !"cuda".equals(model.lstm().deviceName())
                || !model.lstm().options().deviceTraining()
                || !(model.lstm().dedicateEngine() instanceof CudaLstmEngine engine)) {
            return null;   // batch-first, projections, dropout, other backends, switched off: host steps
        }
        CudaTrainingStep.Objective objective = loss instanceof MeanSquaredError
                ? CudaTrainingStep.Objective.MEAN_SQUARED_ERROR
                : loss instanceof SoftmaxCrossEntropy ? CudaTrainingStep.Objective.SOFTMAX_CROSS_ENTROPY : null;
        CudaTrainingStep.Rule rule = optimizer instanceof Adam a
                ? new CudaTrainingStep.Rule.Adam(a.beta1(), a.beta2(), a.eps(), a.weightDecay())
                : optimizer instanceof Sgd s ? new CudaTrainingStep.Rule.Sgd(s.momentum(), s.weightDecay()) : null;
        if (objective == null || rule == null) {
            return null;
        }
        LinearHead head = model.head();
        CudaTrainingStep step = new CudaTrainingStep(engine, head.outputs(), head.mode() == LinearHead.Mode.LAST_STEP,
                objective, rule);
        try {
            step.setHead(head.weight().data(), head.bias().data());
            // A resumed optimizer's state moves to the device ("optimizer.exp_avg.weight_ih_l0" → slot, name).
            for (Map.Entry<String, Tensor> e : optimizer.stateTensors().entrySet()) {
                String key = e.getKey().substring(PREFIX.length());
                int dot = key.indexOf('.');
                step.setOptimizerState(key.substring(dot + 1), key.substring(0, dot), e.getValue().data());
            }
            return new DeviceTraining(model, loss, optimizer, step);
        } catch (RuntimeException | Error e) {
            step.close();
            throw e;
        }
    }

    /** Whether this device step was made for this loss and optimizer. */
    boolean serves(Loss other, Optimizer otherOptimizer) {
        return other == loss && otherOptimizer == optimizer;
    }

    /**
     * One step on the device; returns the batch's loss before the update.
     *
     * @param x      [T, B, I]
     * @param target as the loss expects for the head's output
     */
    double step(Tensor x, Tensor target, double maxGradNorm) {
        if (x.rank() != 3) {
            throw new IllegalArgumentException("x must be [T, B, I], got " + x.shapeString());
        }
        double value = step.step(x.dim(0), x.dim(1), x.dense().data(), target.dense().data(), optimizer.learningRate(), steps + 1,
                maxGradNorm);
        steps++;
        hostStale = true;
        return value;
    }

    /** Brings the host's parameters and optimizer state up to date with the device. */
    void synchronizeHost() {
        if (!hostStale) {
            return;
        }
        LinearHead head = model.head();
        step.readParameters(model.lstm().parameters(), head.weight().data(), head.bias().data());
        // The layer's other engines (inference, host steps) take the new weights when next used;
        // the engine the device step owns already has them.
        model.lstm().parametersUpdated();
        Map<String, Tensor> parameters = model.liveParameters();
        Map<String, Tensor> state = new LinkedHashMap<>();
        step.readOptimizerState().forEach((key, values) -> {
            String name = key.substring(key.indexOf('.') + 1);
            state.put(PREFIX + key, Tensor.of(values, parameters.get(name).shape()));
        });
        Map<String, String> metadata = new LinkedHashMap<>(optimizer.stateMetadata());
        metadata.put("optimizer.step", Long.toString(steps));
        optimizer.loadState(state, metadata, parameters);
        hostStale = false;
    }

    @Override
    public void close() {
        step.close();
    }
}
