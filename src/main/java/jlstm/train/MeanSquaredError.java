package jlstm.train;

import jlstm.Tensor;

/**
 * Mean squared error over every element, as {@code torch.nn.MSELoss()}:
 * loss = Σ (p − t)² / n, gradient 2(p − t)/n, with n the element count.
 */
public final class MeanSquaredError implements Loss {

    @Override
    public String name() {
        return "mse";
    }

    /** @param target the shape of {@code prediction} */
    @Override
    public LossValue compute(Tensor prediction, Tensor target) {
        java.util.Objects.requireNonNull(prediction, "prediction");
        java.util.Objects.requireNonNull(target, "target");
        if (!prediction.hasShape(target.shape())) {
            throw new IllegalArgumentException("mse: prediction " + prediction.shapeString() + " and target "
                    + target.shapeString() + " differ in shape");
        }
        float[] p = prediction.dense().data();
        float[] t = target.dense().data();
        int n = p.length;
        float[] grad = new float[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double diff = (double) p[i] - t[i];
            sum += diff * diff;
            grad[i] = (float) (2.0 * diff / n);
        }
        return new LossValue(sum / n, Tensor.of(grad, prediction.shape()));
    }
}
