package jlstm.train;

import java.util.Collection;

import jlstm.Tensor;

/** Gradient clipping by global norm, as {@code torch.nn.utils.clip_grad_norm_} (2-norm). */
public final class GradientClipping {
    /** PyTorch adds this to the norm before dividing, so a zero norm never divides by zero. */
    private static final double NORM_EPSILON = 1e-6;

    private GradientClipping() {
    }

    /**
     * Scales all gradients together, in place, so that their joint 2-norm is at most
     * {@code maxNorm}: when the norm n exceeds it, each is multiplied by maxNorm / (n + 1e-6).
     *
     * @param gradients the gradients, each {@linkplain Tensor#isDense() dense} (scaled in place)
     * @param maxNorm   the largest joint norm, &gt; 0
     * @return the joint norm before clipping
     * @throws IllegalArgumentException if {@code maxNorm} is not positive
     * @throws IllegalStateException    if a gradient is a view over a slice or a buffer
     */
    public static double clipByGlobalNorm(Collection<Tensor> gradients, double maxNorm) {
        java.util.Objects.requireNonNull(gradients, "gradients");
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("max norm must be > 0, got " + maxNorm);
        }
        double sumOfSquares = 0;
        for (Tensor g : gradients) {
            for (float v : g.data()) {
                sumOfSquares += (double) v * v;
            }
        }
        double norm = Math.sqrt(sumOfSquares);
        double scale = maxNorm / (norm + NORM_EPSILON);
        if (scale < 1) {
            float s = (float) scale;
            for (Tensor g : gradients) {
                float[] d = g.data();
                for (int i = 0; i < d.length; i++) {
                    d[i] *= s;
                }
            }
        }
        return norm;
    }
}
