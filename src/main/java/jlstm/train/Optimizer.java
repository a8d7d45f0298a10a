package jlstm.train;

import java.util.Map;

import jlstm.Tensor;

/**
 * Updates named parameters in place from their gradients, keeping per-parameter state (moments,
 * momentum buffers) by name so that it can be checkpointed and restored.
 */
public interface Optimizer {

    /** {@code sgd} or {@code adam}. */
    String name();

    /**
     * One update. Every gradient must have a parameter of the same name and shape; parameters
     * without a gradient are left alone.
     *
     * @param parameters name → live parameter tensor (written in place)
     * @param gradients  name → gradient, the parameter's shape (not modified)
     */
    void step(Map<String, Tensor> parameters, Map<String, Tensor> gradients);

    /** Number of {@link #step} calls so far (restored with the state). */
    long steps();

    /** The learning rate of the next step. */
    double learningRate();

    /** Changes the learning rate for the following steps (schedules). */
    void setLearningRate(double learningRate);

    /**
     * The state as named tensors, PyTorch's names prefixed by {@code optimizer.}, e.g.
     * {@code optimizer.exp_avg.weight_ih_l0}; copies, safe to keep.
     */
    Map<String, Tensor> stateTensors();

    /** Scalars and hyper-parameters of the state as strings (for checkpoint metadata). */
    Map<String, String> stateMetadata();

    /**
     * Restores what {@link #stateTensors} and {@link #stateMetadata} returned.
     *
     * @param parameters the parameters the state must match in names and shapes
     * @throws IllegalArgumentException when the state does not fit the parameters
     */
    void loadState(Map<String, Tensor> tensors, Map<String, String> metadata, Map<String, Tensor> parameters);

    /** Checks that a gradient fits its parameter. */
    static Tensor requireParameter(Map<String, Tensor> parameters, String name, Tensor gradient) {
        Tensor p = parameters.get(name);
        if (p == null) {
            throw new IllegalArgumentException("gradient '" + name + "' has no parameter of that name");
        }
        if (!p.hasShape(gradient.shape())) {
            throw new IllegalArgumentException("gradient '" + name + "' has shape " + gradient.shapeString()
                    + " but the parameter has " + p.shapeString());
        }
        return p;
    }
}
