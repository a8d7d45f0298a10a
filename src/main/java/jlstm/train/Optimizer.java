package jlstm.train;

import java.util.Map;

import jlstm.Tensor;

/**
 * Updates named parameters in place from their gradients, keeping per-parameter state (moments,
 * momentum buffers) by name so that it can be checkpointed and restored.
 *
 * <p>Not thread-safe: an optimizer belongs to one training loop, and its steps run while nothing
 * else reads the parameters it updates.
 */
public interface Optimizer {

    /**
     * The optimizer's name, as checkpoints and the command line spell it.
     *
     * @return {@code sgd} or {@code adam}
     */
    String name();

    /**
     * One update. Every gradient must have a parameter of the same name and shape; parameters
     * without a gradient are left alone.
     *
     * @param parameters name → live parameter tensor (written in place: each must be
     *                   {@linkplain Tensor#isDense() dense})
     * @param gradients  name → gradient, the parameter's shape (not modified; views are read)
     * @throws IllegalArgumentException if a gradient has no parameter of its name and shape
     * @throws IllegalStateException    if a parameter is a view over a slice or a buffer
     */
    void step(Map<String, Tensor> parameters, Map<String, Tensor> gradients);

    /**
     * The number of {@link #step} calls so far (restored with the state).
     *
     * @return the step count
     */
    long steps();

    /**
     * The learning rate of the next step.
     *
     * @return the rate, &gt; 0
     */
    double learningRate();

    /**
     * Changes the learning rate for the following steps (schedules).
     *
     * @param learningRate the new rate, &gt; 0
     * @throws IllegalArgumentException if the rate is not positive
     */
    void setLearningRate(double learningRate);

    /**
     * The state as named tensors, PyTorch's names prefixed by {@code optimizer.}, e.g.
     * {@code optimizer.exp_avg.weight_ih_l0}; copies, safe to keep.
     *
     * @return a new map of new tensors (empty before the first step)
     */
    Map<String, Tensor> stateTensors();

    /**
     * Scalars and hyper-parameters of the state as strings (for checkpoint metadata).
     *
     * @return a new map: {@code optimizer}, {@code optimizer.step}, {@code optimizer.lr} and the
     *         optimizer's own keys
     */
    Map<String, String> stateMetadata();

    /**
     * Restores what {@link #stateTensors} and {@link #stateMetadata} returned.
     *
     * @param tensors    the state tensors, as {@link #stateTensors()} named them (other names ignored)
     * @param metadata   the state's scalars, as {@link #stateMetadata()} wrote them
     * @param parameters the parameters the state must match in names and shapes
     * @throws IllegalArgumentException when the state does not fit the parameters or is another
     *                                  optimizer's
     */
    void loadState(Map<String, Tensor> tensors, Map<String, String> metadata, Map<String, Tensor> parameters);

    /**
     * Checks that a gradient fits its parameter.
     *
     * @param parameters name → parameter
     * @param name       the gradient's name
     * @param gradient   the gradient
     * @return the parameter of that name
     * @throws IllegalArgumentException if there is no such parameter or the shapes differ
     */
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
