package jlstm.train;

import java.util.SplittableRandom;

import jlstm.Tensor;

/**
 * N fixed-length sequences with one target each, stored sample-major so that a shuffled
 * mini-batch is a gather of contiguous rows. A target is a vector (regression, or anything
 * {@link MeanSquaredError} compares) or a class index (for {@link SoftmaxCrossEntropy}).
 *
 * @param inputs  [N, T, I]
 * @param targets [N, O] vectors, or [N] class indices (whole numbers ≥ 0 stored as float)
 */
public record SequenceDataset(Tensor inputs, Tensor targets) {

    public SequenceDataset {
        if (inputs.rank() != 3 || (targets.rank() != 2 && targets.rank() != 1) || inputs.dim(0) != targets.dim(0)
                || inputs.dim(0) == 0) {
            throw new IllegalArgumentException("dataset: expected inputs [N, T, I] and targets [N, O] (vectors) or [N]"
                    + " (class indices) with N ≥ 1, got " + inputs.shapeString() + " and " + targets.shapeString());
        }
        if (targets.rank() == 1) {
            float[] labels = targets.data();
            for (int n = 0; n < labels.length; n++) {
                float v = labels[n];
                if (!(v >= 0) || v != Math.rint(v) || v > (1 << 24)) {
                    throw new IllegalArgumentException("dataset: target[" + n + "] = " + v
                            + " is not a class index (a whole number ≥ 0)");
                }
            }
        }
    }

    /** Whether the targets are class indices [N] rather than vectors [N, O]. */
    public boolean classIndexTargets() {
        return targets.rank() == 1;
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

    /**
     * The outputs a model's head needs: O for vector targets; for class indices, the number of
     * classes the targets show (the largest index + 1; a task whose data may lack its last classes
     * sizes its head from its own class count).
     */
    public int outputSize() {
        if (classIndexTargets()) {
            float max = 0;
            for (float v : targets.data()) {
                max = Math.max(max, v);
            }
            return (int) max + 1;
        }
        return targets.dim(1);
    }

    /**
     * The samples {@code order[from..to)} as a time-major batch.
     *
     * @return x [T, B, I] and target [B, O] (or [B] class indices), B = to − from
     */
    public Batch batch(int[] order, int from, int to) {
        int b = to - from, t = steps(), i = inputSize(), o = classIndexTargets() ? 1 : targets.dim(1);
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
        return new Batch(Tensor.of(x, t, b, i), classIndexTargets() ? Tensor.of(y, b) : Tensor.of(y, b, o));
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
     * @param x      [T, B, I], time-major (see {@link SequenceModel#input} for a batch-first model)
     * @param target [B, O], or [B] class indices
     */
    public record Batch(Tensor x, Tensor target) {
        public int size() {
            return target.dim(0);
        }
    }
}
