package jlstm.train;

import java.util.LinkedHashMap;
import java.util.Map;

import jlstm.Tensor;

import org.jspecify.annotations.Nullable;

/**
 * Stochastic gradient descent with momentum, with the update rule of {@code torch.optim.SGD}
 * (dampening 0, no Nesterov):
 * <pre>
 * g ← g + weightDecay·p
 * buf ← g on the first step, then momentum·buf + g
 * p ← p − lr·buf          (p ← p − lr·g when momentum is 0)
 * </pre>
 */
public final class Sgd extends BaseOptimizer {
    private final double momentum;
    private final double weightDecay;
    private final Map<String, Tensor> momentumBuffer = new LinkedHashMap<>(); // name → buf, the parameter's shape

    /**
     * SGD with PyTorch's hyper-parameters {@code lr}, {@code momentum}, {@code weight_decay}.
     *
     * @param learningRate lr, &gt; 0
     * @param momentum     ≥ 0; 0 keeps no buffer
     * @param weightDecay  L2 penalty, ≥ 0
     * @throws IllegalArgumentException if a value is out of range
     */
    public Sgd(double learningRate, double momentum, double weightDecay) {
        super(learningRate);
        if (!(learningRate > 0) || !(momentum >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("sgd: need lr > 0, momentum ≥ 0, weight decay ≥ 0; got lr="
                    + learningRate + " momentum=" + momentum + " wd=" + weightDecay);
        }
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    @Override
    public String name() {
        return "sgd";
    }

    double momentum() {
        return momentum;
    }

    double weightDecay() {
        return weightDecay;
    }

    @Override
    public void step(Map<String, Tensor> parameters, Map<String, Tensor> gradients) {
        java.util.Objects.requireNonNull(parameters, "parameters");
        java.util.Objects.requireNonNull(gradients, "gradients");
        steps++;
        for (Map.Entry<String, Tensor> e : gradients.entrySet()) {
            Tensor p = Optimizer.requireParameter(parameters, e.getKey(), e.getValue());
            float[] buffer = null;
            boolean first = false;
            if (momentum != 0) {
                first = !momentumBuffer.containsKey(e.getKey());
                buffer = momentumBuffer.computeIfAbsent(e.getKey(), k -> Tensor.zeros(p.shape())).data();
            }
            update(p.data(), e.getValue().dense().data(), buffer, first, p.numel(), learningRate, momentum, weightDecay);
        }
    }

    /**
     * The per-element rule. Arrays have n elements: p updated in place, g read only, buffer (null
     * when momentum is 0) updated in place; {@code firstStep} makes buf = g as PyTorch does.
     *
     * @param p            parameter, updated in place
     * @param g            gradient, read only
     * @param buffer       momentum buffer, updated in place, or null when momentum is 0
     * @param firstStep    whether this is the buffer's first step (buf = g)
     * @param n            elements to update
     * @param learningRate lr
     * @param momentum     the momentum factor
     * @param weightDecay  L2 penalty added to the gradient
     */
    public static void update(float[] p, float[] g, float @Nullable [] buffer, boolean firstStep, int n, double learningRate,
                              double momentum, double weightDecay) {
        for (int i = 0; i < n; i++) {
            float d = weightDecay == 0 ? g[i] : (float) (g[i] + weightDecay * p[i]);
            if (buffer != null) {
                buffer[i] = firstStep ? d : (float) (momentum * buffer[i] + d);
                d = buffer[i];
            }
            p[i] = (float) (p[i] - learningRate * d);
        }
    }

    @Override
    public Map<String, Tensor> stateTensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        momentumBuffer.forEach((k, b) -> out.put("optimizer.momentum_buffer." + k, b.copy()));
        return out;
    }

    @Override
    public Map<String, String> stateMetadata() {
        Map<String, String> out = commonMetadata();
        out.put("optimizer.momentum", Double.toString(momentum));
        out.put("optimizer.weight_decay", Double.toString(weightDecay));
        return out;
    }

    @Override
    public void loadState(Map<String, Tensor> tensors, Map<String, String> metadata,
                          Map<String, Tensor> parameters) {
        long restoredSteps = restoredSteps(metadata);
        Map<String, Tensor> buffers = OptimizerState.read(tensors, "optimizer.momentum_buffer.", parameters);
        momentumBuffer.clear();
        momentumBuffer.putAll(buffers);
        steps = restoredSteps;
    }
}
