package jlstm.examples;

import jlstm.train.MeanSquaredError;
import jlstm.train.SequenceDataset;
import jlstm.train.SequenceModel;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import jlstm.Tensor;

/**
 * The adding problem (Hochreiter &amp; Schmidhuber 1997, experiment 4): each step carries two
 * channels, a value drawn from U(0, 1) and a marker that is 1 at exactly two steps — one in the
 * first half of the sequence, one in the second — and 0 elsewhere. The target is the sum of the
 * two marked values, read from the last step. Solving it needs memory across up to T−1 steps;
 * predicting the constant 1.0 (the target's mean) gives MSE ≈ 1/6 ≈ 0.167.
 *
 * <p>Data is generated from the seed: the training set from {@code seed}, the held-out set from an
 * independent stream, so the same seed gives the same sets.
 */
public final class AddingProblem implements TrainingTask {
    private final int steps;
    private final long seed;
    private final SequenceDataset training;
    private final SequenceDataset test;

    /**
     * Generates both sets from the seed.
     *
     * @param steps           T ≥ 2
     * @param trainingSamples N of the training set (≥ 1)
     * @param testSamples     N of the held-out set (≥ 1)
     * @param seed            seed of the data: the same seed gives the same sets
     * @throws IllegalArgumentException if a size is out of range or the data would not fit one array
     */
    public AddingProblem(int steps, int trainingSamples, int testSamples, long seed) {
        if (steps < 2) {
            throw new IllegalArgumentException("adding: sequence length must be at least 2, got " + steps);
        }
        if (trainingSamples < 1 || testSamples < 1) {
            throw new IllegalArgumentException("adding: sample counts must be at least 1");
        }
        // The sequences are one array of (training + test)·T·2 floats.
        long floats = ((long) trainingSamples + testSamples) * steps * 2;
        if (floats > Integer.MAX_VALUE - 8) {
            long most = (Integer.MAX_VALUE - 8) / (2L * steps) - testSamples;
            throw new IllegalArgumentException("adding: " + trainingSamples + " training and " + testSamples
                    + " test sequences of " + steps + " steps need " + floats + " values, more than one Java array"
                    + " holds; at most " + Math.max(most, 0) + " training sequences (--samples) at this --seq-len");
        }
        this.steps = steps;
        this.seed = seed;
        SplittableRandom root = new SplittableRandom(seed);
        this.training = generate(steps, trainingSamples, root.split());
        this.test = generate(steps, testSamples, root.split());
    }

    /** N sequences: inputs [N, T, 2] (value, marker), targets [N, 1]. */
    static SequenceDataset generate(int steps, int samples, SplittableRandom random) {
        float[] x = new float[samples * steps * 2];
        float[] y = new float[samples];
        int firstHalf = steps / 2;
        for (int n = 0; n < samples; n++) {
            int base = n * steps * 2;
            for (int t = 0; t < steps; t++) {
                x[base + t * 2] = (float) random.nextDouble();
            }
            int first = random.nextInt(firstHalf);                 // in [0, T/2)
            int second = firstHalf + random.nextInt(steps - firstHalf); // in [T/2, T)
            x[base + first * 2 + 1] = 1f;
            x[base + second * 2 + 1] = 1f;
            y[n] = x[base + first * 2] + x[base + second * 2];
        }
        return new SequenceDataset(Tensor.of(x, samples, steps, 2), Tensor.of(y, samples, 1));
    }

    @Override
    public String name() {
        return "adding";
    }

    @Override
    public SequenceDataset trainingSet() {
        return training;
    }

    /**
     * The held-out sequences.
     *
     * @return inputs [N, T, 2] and targets [N, 1]
     */
    public SequenceDataset testSet() {
        return test;
    }

    /** MSE on the held-out set; baseline: always predicting 1.0. */
    @Override
    public Evaluation evaluate(SequenceModel model) {
        SequenceDataset.Batch all = test.all();
        double mse = new MeanSquaredError().compute(model.predict(model.input(all)), all.target()).value();
        Tensor ones = Tensor.zeros(all.target().shape());
        java.util.Arrays.fill(ones.data(), 1f);
        double baseline = new MeanSquaredError().compute(ones, all.target()).value();
        return new Evaluation("mse", mse, baseline, "constant-1.0", null);
    }

    @Override
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("task.seq_len", Integer.toString(steps));
        m.put("task.train_samples", Integer.toString(training.size()));
        m.put("task.test_samples", Integer.toString(test.size()));
        m.put("task.data_seed", Long.toString(seed));
        return m;
    }

    @Override
    public String description() {
        return "adding problem, T=" + trainingSet().steps() + ", " + trainingSet().size() + " training and "
                + testSet().size() + " held-out sequences, loss mse";
    }
}
