package jlstm.train;

import java.util.LinkedHashMap;
import java.util.Map;

/** What every optimizer keeps the same way: the learning rate, the step count and their metadata. */
abstract class BaseOptimizer implements Optimizer {
    /** The learning rate of the next step, &gt; 0. */
    protected double learningRate;
    /** The number of steps taken (restored with the state). */
    protected long steps;

    /**
     * An optimizer at step 0.
     *
     * @param learningRate the initial rate (checked by the subclass)
     */
    protected BaseOptimizer(double learningRate) {
        this.learningRate = learningRate;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public double learningRate() {
        return learningRate;
    }

    @Override
    public void setLearningRate(double learningRate) {
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
        }
        this.learningRate = learningRate;
    }

    /**
     * The metadata every optimizer writes (name, step count, learning rate); subclasses add theirs.
     *
     * @return a new, modifiable map
     */
    protected Map<String, String> commonMetadata() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("optimizer", name());
        out.put("optimizer.step", Long.toString(steps));
        out.put("optimizer.lr", Double.toString(learningRate));
        return out;
    }

    /**
     * Checks that saved state belongs to this optimizer and returns its step count.
     *
     * @param metadata the saved state's metadata
     * @return the saved step count
     * @throws IllegalArgumentException if the state is another optimizer's or its step count is invalid
     */
    protected long restoredSteps(Map<String, String> metadata) {
        if (!name().equals(metadata.get("optimizer"))) {
            throw new IllegalArgumentException("optimizer state is for '" + metadata.get("optimizer") + "', not "
                    + name());
        }
        return OptimizerState.parseSteps(metadata);
    }
}
