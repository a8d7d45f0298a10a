package jlstm.train;

import jlstm.Tensor;

/**
 * Softmax cross-entropy over classes, as {@code torch.nn.CrossEntropyLoss()} with class-index
 * targets: loss = mean over rows of (logsumexp(z) − z[target]); gradient (softmax(z) − onehot)/N.
 */
public final class SoftmaxCrossEntropy implements Loss {

    @Override
    public String name() {
        return "cross_entropy";
    }

    /**
     * @param prediction logits [N, C]
     * @param target     class indices [N], each a whole number in [0, C) stored as float
     */
    @Override
    public LossValue compute(Tensor prediction, Tensor target) {
        java.util.Objects.requireNonNull(prediction, "prediction");
        java.util.Objects.requireNonNull(target, "target");
        if (prediction.rank() != 2 || target.rank() != 1 || target.dim(0) != prediction.dim(0)) {
            throw new IllegalArgumentException("cross_entropy: expected logits [N, C] and class indices [N], got "
                    + prediction.shapeString() + " and " + target.shapeString());
        }
        int rows = prediction.dim(0), classes = prediction.dim(1);
        float[] z = prediction.dense().data();
        float[] labels = target.dense().data();
        float[] grad = new float[z.length];
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int label = (int) labels[r];
            if (label != labels[r] || label < 0 || label >= classes) {
                throw new IllegalArgumentException("cross_entropy: target[" + r + "] = " + labels[r]
                        + " is not a class index in [0, " + classes + ")");
            }
            int row = r * classes;
            // Subtracting the row maximum keeps exp() finite; it cancels in the softmax.
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, z[row + c]);
            }
            double sumExp = 0;
            for (int c = 0; c < classes; c++) {
                sumExp += Math.exp(z[row + c] - max);
            }
            double logSumExp = max + Math.log(sumExp);
            total += logSumExp - z[row + label];
            for (int c = 0; c < classes; c++) {
                double softmax = Math.exp(z[row + c] - logSumExp);
                grad[row + c] = (float) ((softmax - (c == label ? 1.0 : 0.0)) / rows);
            }
        }
        return new LossValue(total / rows, Tensor.of(grad, prediction.shape()));
    }
}
