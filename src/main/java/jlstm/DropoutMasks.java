package jlstm;

import java.util.SplittableRandom;

/**
 * Dropout masks as PyTorch's {@code F.dropout} makes them: each element independently 0 with
 * probability p and 1/(1−p) otherwise (all zeros for p = 1), so that the expected value of a
 * masked output equals the output. Drawn on the host from the layer's seeded generator, one
 * {@code nextDouble} per element in row-major order, so a seed fixes the masks on every backend.
 */
final class DropoutMasks {
    private DropoutMasks() {
    }

    /**
     * A mask of n elements.
     *
     * @param p probability of zeroing an element, in [0, 1]
     */
    static float[] draw(SplittableRandom random, double p, int n) {
        float[] mask = new float[n];
        if (p >= 1) {
            return mask; // PyTorch: p = 1 zeroes everything (1/(1−p) would be infinite)
        }
        float keep = (float) (1.0 / (1.0 - p));
        for (int i = 0; i < n; i++) {
            mask[i] = random.nextDouble() < p ? 0f : keep;
        }
        return mask;
    }
}
