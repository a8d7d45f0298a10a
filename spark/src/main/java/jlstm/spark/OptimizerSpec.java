package jlstm.spark;

import java.io.Serializable;
import java.util.Locale;

import jlstm.train.Adam;
import jlstm.train.Optimizer;
import jlstm.train.Sgd;

/**
 * Which optimizer every replica runs (each replica builds its own from this, so all apply the
 * same update to the same averaged gradients).
 *
 * @param name        {@code adam} or {@code sgd}
 * @param learningRate the step size (&gt; 0)
 * @param momentum    SGD's momentum (ignored by Adam)
 */
public record OptimizerSpec(String name, double learningRate, double momentum) implements Serializable {
    public OptimizerSpec {
        name = name.toLowerCase(Locale.ROOT);
        if (!name.equals("adam") && !name.equals("sgd")) {
            throw new IllegalArgumentException("optimizer must be adam or sgd, got '" + name + "'");
        }
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
        }
    }

    /** Adam with PyTorch's default betas and eps. */
    public static OptimizerSpec adam(double learningRate) {
        return new OptimizerSpec("adam", learningRate, 0);
    }

    /** SGD with momentum (0 for plain SGD). */
    public static OptimizerSpec sgd(double learningRate, double momentum) {
        return new OptimizerSpec("sgd", learningRate, momentum);
    }

    /** A new optimizer with no state. */
    public Optimizer create() {
        return name.equals("adam") ? new Adam(learningRate) : new Sgd(learningRate, momentum, 0);
    }
}
