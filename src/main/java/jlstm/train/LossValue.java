package jlstm.train;

import jlstm.Tensor;

/**
 * A loss and its gradient.
 *
 * @param value    the scalar loss (mean over the batch, as PyTorch's default reduction)
 * @param gradient d value / d prediction: the shape of the prediction
 */
public record LossValue(double value, Tensor gradient) {
}
