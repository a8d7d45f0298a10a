package jlstm.train;

import java.util.LinkedHashMap;
import java.util.Map;

import jlstm.Tensor;

/**
 * Adam (Kingma &amp; Ba), with the update rule of {@code torch.optim.Adam} (amsgrad off, maximize off):
 * <pre>
 * g ← g + weightDecay·p
 * m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²          (both start at zero)
 * p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + eps)              t = step count from 1
 * </pre>
 * eps sits outside the square root, as PyTorch. State names follow PyTorch's
 * ({@code exp_avg}, {@code exp_avg_sq}, {@code step}).
 */
public final class Adam extends BaseOptimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, Tensor> firstMoment = new LinkedHashMap<>();  // name → m, the parameter's shape
    private final Map<String, Tensor> secondMoment = new LinkedHashMap<>(); // name → v, the parameter's shape

    /**
     * Adam with PyTorch's defaults β = (0.9, 0.999), eps = 1e-8, no weight decay.
     *
     * @param learningRate lr, &gt; 0
     * @throws IllegalArgumentException if {@code learningRate} is not positive
     */
    public Adam(double learningRate) {
        this(learningRate, 0.9, 0.999, 1e-8, 0);
    }

    /**
     * Adam with every hyper-parameter (PyTorch's names: {@code lr}, {@code betas}, {@code eps},
     * {@code weight_decay}).
     *
     * @param learningRate lr, &gt; 0
     * @param beta1        decay of the first moment, in [0, 1)
     * @param beta2        decay of the second moment, in [0, 1)
     * @param eps          added to the denominator, ≥ 0
     * @param weightDecay  L2 penalty, ≥ 0
     * @throws IllegalArgumentException if a value is out of range (the message lists them)
     */
    public Adam(double learningRate, double beta1, double beta2, double eps, double weightDecay) {
        super(learningRate);
        if (!(learningRate > 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0)
                || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("adam: need lr > 0, 0 ≤ β1, β2 < 1, eps ≥ 0, weight decay ≥ 0; got lr="
                    + learningRate + " β1=" + beta1 + " β2=" + beta2 + " eps=" + eps + " wd=" + weightDecay);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    @Override
    public String name() {
        return "adam";
    }

    double beta1() {
        return beta1;
    }

    double beta2() {
        return beta2;
    }

    double eps() {
        return eps;
    }

    double weightDecay() {
        return weightDecay;
    }

    @Override
    public void step(Map<String, Tensor> parameters, Map<String, Tensor> gradients) {
        java.util.Objects.requireNonNull(parameters, "parameters");
        java.util.Objects.requireNonNull(gradients, "gradients");
        steps++;
        double biasCorrection1 = 1 - Math.pow(beta1, steps);
        double biasCorrection2 = 1 - Math.pow(beta2, steps);
        double stepSize = learningRate / biasCorrection1;
        double biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
        for (Map.Entry<String, Tensor> e : gradients.entrySet()) {
            Tensor p = Optimizer.requireParameter(parameters, e.getKey(), e.getValue());
            float[] m = firstMoment.computeIfAbsent(e.getKey(), k -> Tensor.zeros(p.shape())).data();
            float[] v = secondMoment.computeIfAbsent(e.getKey(), k -> Tensor.zeros(p.shape())).data();
            update(p.data(), e.getValue().dense().data(), m, v, p.numel(), beta1, beta2, stepSize, biasCorrection2Sqrt, eps,
                    weightDecay);
        }
    }

    /**
     * The per-element rule (one element, one thread on a GPU). Arrays have n elements each:
     * p is updated in place, g read only, m and v updated in place.
     *
     * @param p                   parameter, updated in place
     * @param g                   gradient, read only
     * @param m                   first moment, updated in place
     * @param v                   second moment, updated in place
     * @param n                   elements to update (each array holds at least n)
     * @param beta1               β1
     * @param beta2               β2
     * @param stepSize            lr / (1 − β1ᵗ)
     * @param biasCorrection2Sqrt √(1 − β2ᵗ)
     * @param eps                 added to the denominator
     * @param weightDecay         L2 penalty added to the gradient
     */
    public static void update(float[] p, float[] g, float[] m, float[] v, int n, double beta1, double beta2,
                              double stepSize, double biasCorrection2Sqrt, double eps, double weightDecay) {
        for (int i = 0; i < n; i++) {
            float grad = weightDecay == 0 ? g[i] : (float) (g[i] + weightDecay * p[i]);
            m[i] = (float) (beta1 * m[i] + (1 - beta1) * grad);
            v[i] = (float) (beta2 * v[i] + (1 - beta2) * grad * grad);
            double denom = Math.sqrt(v[i]) / biasCorrection2Sqrt + eps;
            p[i] = (float) (p[i] - stepSize * m[i] / denom);
        }
    }

    @Override
    public Map<String, Tensor> stateTensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        firstMoment.forEach((k, m) -> out.put("optimizer.exp_avg." + k, m.copy()));
        secondMoment.forEach((k, v) -> out.put("optimizer.exp_avg_sq." + k, v.copy()));
        return out;
    }

    @Override
    public Map<String, String> stateMetadata() {
        Map<String, String> out = commonMetadata();
        out.put("optimizer.betas", beta1 + "," + beta2);
        out.put("optimizer.eps", Double.toString(eps));
        out.put("optimizer.weight_decay", Double.toString(weightDecay));
        return out;
    }

    @Override
    public void loadState(Map<String, Tensor> tensors, Map<String, String> metadata,
                          Map<String, Tensor> parameters) {
        long restoredSteps = restoredSteps(metadata);
        Map<String, Tensor> m = OptimizerState.read(tensors, "optimizer.exp_avg.", parameters);
        Map<String, Tensor> v = OptimizerState.read(tensors, "optimizer.exp_avg_sq.", parameters);
        if (!m.keySet().equals(v.keySet())) {
            throw new IllegalArgumentException("optimizer state: exp_avg and exp_avg_sq name different parameters");
        }
        firstMoment.clear();
        firstMoment.putAll(m);
        secondMoment.clear();
        secondMoment.putAll(v);
        steps = restoredSteps;
    }
}
