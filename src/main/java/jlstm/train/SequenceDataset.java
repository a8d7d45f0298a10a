package jlstm.train;

import java.util.SplittableRandom;

import jlstm.Tensor;

/**
 * N fixed-length sequences with one target vector each, stored sample-major so that a shuffled
 * mini-batch is a gather of contiguous rows.
 *
 * @param inputs  [N, T, I]
 * @param targets [N, O]
 */
public record SequenceDataset(Tensor inputs, Tensor targets) {

    public SequenceDataset {
        if (inputs.rank() != 3 || targets.rank() != 2 || inputs.dim(0) != targets.dim(0) || inputs.dim(0) == 0) {
            throw new IllegalArgumentException("dataset: expected inputs [N, T, I] and targets [N, O] with N ≥ 1, got "
                    + inputs.shapeString() + " and " + targets.shapeString());
        }
    }

    public int size() {
        return inputs.dim(0);
    }

    public int steps() {
        return inputs.dim(1);
    }

    public int inputSize() {
        return inputs.dim(2);
    }

    public int outputSize() {
        return targets.dim(1);
    }

    /**
     * The samples {@code order[from..to)} as a time-major batch.
     *
     * @return x [T, B, I] and target [B, O], B = to − from
     */
    public Batch batch(int[] order, int from, int to) {
        int b = to - from, t = steps(), i = inputSize(), o = outputSize();
        float[] x = new float[t * b * i];
        float[] y = new float[b * o];
        float[] in = inputs.data(), out = targets.data();
        for (int s = 0; s < b; s++) {
            int sample = order[from + s];
            for (int step = 0; step < t; step++) {
                System.arraycopy(in, (sample * t + step) * i, x, (step * b + s) * i, i);
            }
            System.arraycopy(out, sample * o, y, s * o, o);
        }
        return new Batch(Tensor.of(x, t, b, i), Tensor.of(y, b, o));
    }

    /** Every sample in order, as one batch. */
    public Batch all() {
        return batch(identity(size()), 0, size());
    }

    /**
     * A seeded random permutation of 0..n−1 (Fisher–Yates): the same seed gives the same order,
     * so a run (or a resumed run) sees its batches in a reproducible order.
     */
    public static int[] shuffledOrder(int n, long seed) {
        int[] order = identity(n);
        SplittableRandom random = new SplittableRandom(seed);
        for (int k = n - 1; k > 0; k--) {
            int j = random.nextInt(k + 1);
            int tmp = order[k];
            order[k] = order[j];
            order[j] = tmp;
        }
        return order;
    }

    private static int[] identity(int n) {
        int[] order = new int[n];
        for (int k = 0; k < n; k++) {
            order[k] = k;
        }
        return order;
    }

    /**
     * One mini-batch.
     *
     * @param x      [T, B, I], time-major
     * @param target [B, O]
     */
    public record Batch(Tensor x, Tensor target) {
        public int size() {
            return target.dim(0);
        }
    }
}
