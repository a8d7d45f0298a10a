package jlstm.train;

import jlstm.Tensor;

/** A training objective: prediction and target in, scalar loss and its gradient out. */
public interface Loss {

    /**
     * The loss's name for logs and checkpoints.
     *
     * @return e.g. {@code mse} or {@code cross_entropy}
     */
    String name();

    /**
     * Computes the loss (mean reduction) and its gradient with respect to the prediction.
     *
     * @param prediction the model's output, e.g. [B, O]
     * @param target     what it should have been; see each loss for the expected shape
     * @return the mean loss and its gradient (the prediction's shape)
     * @throws IllegalArgumentException if the shapes do not fit the loss
     */
    LossValue compute(Tensor prediction, Tensor target);
}
