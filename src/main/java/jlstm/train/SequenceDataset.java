package jlstm.train;

import java.util.SplittableRandom;

import java.util.Objects;

import jlstm.Tensor;

import org.jspecify.annotations.Nullable;

/**
 * N sequences with one target each, stored sample-major so that a shuffled mini-batch is a
 * gather of contiguous rows. A target is a vector (regression, or anything
 * {@link MeanSquaredError} compares) or a class index (for {@link SoftmaxCrossEntropy}).
 * Sequences may be shorter than T ({@link #withLengths}: the steps past a sequence's length are
 * padding, never read) and may start from their own initial state ({@link #withInitialState}).
 *
 * @param inputs  [N, T, I]
 * @param targets [N, O] vectors, or [N] class indices (whole numbers ≥ 0 stored as float)
 * @param lengths [N] each in [1, T], or null: every sequence has T steps
 * @param h0      [N, L·D, R] initial hidden state of each sequence, or null for zeros
 * @param c0      [N, L·D, H] initial cell state of each sequence, or null for zeros
 *
 * <p>Tensors are kept, not copied (a view over a slice or a buffer is copied once, when the
 * dataset is made); batches are copies.
 */
public record SequenceDataset(Tensor inputs, Tensor targets, int @Nullable [] lengths, @Nullable Tensor h0,
                              @Nullable Tensor c0) {

    /**
     * Sequences of T steps from a zero state.
     *
     * @param inputs  [N, T, I]
     * @param targets [N, O] vectors, or [N] class indices
     * @throws IllegalArgumentException if the shapes disagree or a class index is not a whole number ≥ 0
     * @throws NullPointerException     if an argument is null
     */
    public SequenceDataset(Tensor inputs, Tensor targets) {
        this(inputs, targets, null, null, null);
    }

    /**
     * Checks the shapes (see the components).
     *
     * @param inputs  [N, T, I], N ≥ 1
     * @param targets [N, O] vectors, or [N] class indices
     * @param lengths [N] each in [1, T] (copied), or null: every sequence has T steps
     * @param h0      [N, L·D, R], or null for zeros (then {@code c0} is null too)
     * @param c0      [N, L·D, H], or null for zeros
     * @throws IllegalArgumentException if the shapes disagree, a length is outside [1, T], only one
     *                                  initial state is given, or a class index is not a whole number ≥ 0
     * @throws NullPointerException     if {@code inputs} or {@code targets} is null
     */
    public SequenceDataset {
        inputs = Objects.requireNonNull(inputs, "inputs").dense();
        targets = Objects.requireNonNull(targets, "targets").dense();
        h0 = h0 == null ? null : h0.dense();
        c0 = c0 == null ? null : c0.dense();
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
        if (lengths != null) {
            if (lengths.length != inputs.dim(0)) {
                throw new IllegalArgumentException("dataset: " + lengths.length + " lengths for " + inputs.dim(0)
                        + " sequences");
            }
            lengths = lengths.clone();
            for (int n = 0; n < lengths.length; n++) {
                if (lengths[n] < 1 || lengths[n] > inputs.dim(1)) {
                    throw new IllegalArgumentException("dataset: lengths[" + n + "] = " + lengths[n]
                            + ", expected 1 to T = " + inputs.dim(1));
                }
            }
        }
        if ((h0 == null) != (c0 == null)) {
            throw new IllegalArgumentException("dataset: give both initial states h0 and c0, or neither");
        }
        if (h0 != null && (h0.rank() != 3 || c0.rank() != 3 || h0.dim(0) != inputs.dim(0) || c0.dim(0) != inputs.dim(0)
                || h0.dim(1) != c0.dim(1))) {
            throw new IllegalArgumentException("dataset: expected initial states h0 [N, L·D, R] and c0 [N, L·D, H] with N = "
                    + inputs.dim(0) + ", got " + h0.shapeString() + " and " + c0.shapeString());
        }
    }

    /**
     * The same sequences with lengths: sequence n has {@code lengths[n]} real steps, the rest of
     * its T steps are padding. A last-step head reads each sequence's own last step.
     *
     * @param lengths [N], each in [1, T] (copied)
     * @return a new dataset sharing these tensors
     * @throws IllegalArgumentException if a length is outside [1, T] or the count is not N
     * @throws NullPointerException     if {@code lengths} is null
     */
    public SequenceDataset withLengths(int[] lengths) {
        Objects.requireNonNull(lengths, "lengths");
        return new SequenceDataset(inputs, targets, lengths, h0, c0);
    }

    /**
     * The same sequences, each starting from its own state (PyTorch's h0, c0 per batch row).
     *
     * @param h0 [N, L·D, R]
     * @param c0 [N, L·D, H]
     * @return a new dataset sharing these tensors
     * @throws IllegalArgumentException if the shapes disagree with the inputs or each other
     * @throws NullPointerException     if an argument is null
     */
    public SequenceDataset withInitialState(Tensor h0, Tensor c0) {
        Objects.requireNonNull(h0, "h0");
        Objects.requireNonNull(c0, "c0");
        return new SequenceDataset(inputs, targets, lengths, h0, c0);
    }

    /**
     * The sequences' lengths.
     *
     * @return [N] lengths (a copy), or null when every sequence has T steps
     */
    @Override
    public int @Nullable [] lengths() {
        return lengths == null ? null : lengths.clone();
    }

    /**
     * Whether the targets are class indices [N] rather than vectors [N, O].
     *
     * @return true for class indices
     */
    public boolean classIndexTargets() {
        return targets.rank() == 1;
    }

    /**
     * The number of sequences.
     *
     * @return N
     */
    public int size() {
        return inputs.dim(0);
    }

    /**
     * The steps of every (padded) sequence.
     *
     * @return T
     */
    public int steps() {
        return inputs.dim(1);
    }

    /**
     * The features per step.
     *
     * @return I
     */
    public int inputSize() {
        return inputs.dim(2);
    }

    /**
     * The outputs a model's head needs: O for vector targets; for class indices, the number of
     * classes the targets show (the largest index + 1; a task whose data may lack its last classes
     * sizes its head from its own class count).
     *
     * @return O, or the number of classes seen
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
     * @param order sample indices, e.g. {@link #shuffledOrder}
     * @param from  first position in {@code order}
     * @param to    end position in {@code order} (exclusive), {@code from < to ≤ order.length}
     * @return x [T, B, I] and target [B, O] (or [B] class indices), B = to − from, with the
     *         samples' lengths and initial states [L·D, B, ·]; new tensors
     * @throws IndexOutOfBoundsException if a position or a sample index is out of range
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
        int[] batchLengths = null;
        if (lengths != null) {
            batchLengths = new int[b];
            for (int s = 0; s < b; s++) {
                batchLengths[s] = lengths[order[from + s]];
            }
        }
        return new Batch(Tensor.of(x, t, b, i), classIndexTargets() ? Tensor.of(y, b) : Tensor.of(y, b, o),
                batchLengths, gatherState(h0, order, from, to), gatherState(c0, order, from, to));
    }

    /** Rows order[from..to) of a per-sample state [N, S, W] as a batch state [S, B, W]; null stays null. */
    private static @Nullable Tensor gatherState(@Nullable Tensor state, int[] order, int from, int to) {
        if (state == null) {
            return null;
        }
        int b = to - from, layers = state.dim(1), width = state.dim(2);
        float[] in = state.data();
        float[] out = new float[layers * b * width];
        for (int s = 0; s < b; s++) {
            for (int l = 0; l < layers; l++) {
                System.arraycopy(in, (order[from + s] * layers + l) * width, out, (l * b + s) * width, width);
            }
        }
        return Tensor.of(out, layers, b, width);
    }

    /**
     * Sequences [from, to) as a dataset of their own (copied), e.g. to hold the last ones out for
     * validation: {@code data.slice(0, n - 200)} and {@code data.slice(n - 200, n)}.
     *
     * @param from first sequence, ≥ 0
     * @param to   end (exclusive), from &lt; to ≤ N
     * @return a new dataset of to − from sequences with their lengths and initial states
     * @throws IllegalArgumentException if the range is empty or outside [0, N)
     */
    public SequenceDataset slice(int from, int to) {
        if (from < 0 || to > size() || from >= to) {
            throw new IllegalArgumentException("dataset: slice [" + from + ", " + to + ") of " + size()
                    + " sequences (it must hold at least one)");
        }
        int n = to - from;
        int[] sliceLengths = lengths == null ? null : java.util.Arrays.copyOfRange(lengths, from, to);
        return new SequenceDataset(rows(inputs, from, to), rows(targets, from, to), sliceLengths,
                h0 == null ? null : rows(h0, from, to), c0 == null ? null : rows(c0, from, to));
    }

    /** Rows [from, to) of the first axis (copied). */
    private static Tensor rows(Tensor t, int from, int to) {
        int row = t.numel() / t.dim(0);
        int[] shape = t.shape();
        shape[0] = to - from;
        return Tensor.of(java.util.Arrays.copyOfRange(t.data(), from * row, to * row), shape);
    }

    /**
     * Every sample in order, as one batch.
     *
     * @return a batch of N sequences (new tensors)
     */
    public Batch all() {
        return batch(identity(size()), 0, size());
    }

    /**
     * A seeded random permutation of 0..n−1 (Fisher–Yates): the same seed gives the same order,
     * so a run (or a resumed run) sees its batches in a reproducible order.
     *
     * @param n    the number of indices, ≥ 0
     * @param seed seed of the permutation
     * @return a new array holding 0..n−1 once each
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
     * @param x       [T, B, I], time-major (see {@link SequenceModel#input} for a batch-first model)
     * @param target  [B, O], or [B] class indices
     * @param lengths [B], or null: all T steps
     * @param h0      [L·D, B, R], or null for zeros
     * @param c0      [L·D, B, H], or null for zeros
     */
    public record Batch(Tensor x, Tensor target, int @Nullable [] lengths, @Nullable Tensor h0,
                        @Nullable Tensor c0) {
        /**
         * A batch of full-length sequences from a zero state.
         *
         * @param x      [T, B, I]
         * @param target [B, O], or [B] class indices
         */
        public Batch(Tensor x, Tensor target) {
            this(x, target, null, null, null);
        }

        /**
         * The sequences in the batch.
         *
         * @return B
         */
        public int size() {
            return target.dim(0);
        }
    }
}
