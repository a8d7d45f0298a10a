package jlstm.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import jlstm.Tensor;

import org.jspecify.annotations.Nullable;

/**
 * The epoch loop: seeded shuffling, mini-batches, one optimizer step per batch. {@link #fit} runs
 * many epochs with a learning-rate schedule, validation, early stopping and callbacks;
 * {@link #runEpoch} runs one (for a loop of your own).
 */
public final class Trainer {
    private Trainer() {
    }

    /** Called after each batch, e.g. to advance a progress bar. */
    @FunctionalInterface
    public interface BatchListener {
        /**
         * A batch is done.
         *
         * @param sequences sequences in the batch just done
         * @param loss      its loss, before the update
         */
        void batchDone(int sequences, double loss);
    }

    /**
     * What one epoch did.
     *
     * @param meanLoss  the training loss averaged over sequences (each batch's loss before its update)
     * @param sequences sequences seen
     * @param seconds   wall time of the epoch
     */
    public record EpochResult(double meanLoss, int sequences, double seconds) {
        /**
         * Training throughput.
         *
         * @return sequences per second
         */
        public double sequencesPerSecond() {
            return sequences / Math.max(seconds, 1e-9);
        }
    }

    /**
     * The shuffle seed of an epoch: a function of the run's seed and the epoch number only, so that
     * a run resumed at epoch e sees the same batches as an uninterrupted one.
     *
     * @param seed  the run's seed
     * @param epoch the epoch number, from 1
     * @return the seed of that epoch's shuffle
     */
    public static long shuffleSeed(long seed, int epoch) {
        return new SplittableRandom(seed ^ 0x5DEECE66DL).split().nextLong() + 0x9E3779B97F4A7C15L * epoch;
    }

    /**
     * One pass over the data in a seeded random order, in batches of {@code batchSize} (the last
     * one may be smaller).
     *
     * @param model       the model, trained in place
     * @param data        the training sequences
     * @param loss        the loss
     * @param optimizer   updates the model's parameters
     * @param batchSize   sequences per step, ≥ 1
     * @param maxGradNorm clip threshold for the global gradient norm, 0 for none
     * @param shuffleSeed seed of the order, e.g. {@link #shuffleSeed(long, int)}
     * @param listener    called after each batch, or null
     * @return the epoch's mean loss, sequences and time
     * @throws IllegalArgumentException if {@code batchSize} is below 1 or the data does not fit the model
     * @throws ArithmeticException      when a batch's loss is not finite (training diverged)
     */
    public static EpochResult runEpoch(SequenceModel model, SequenceDataset data, Loss loss, Optimizer optimizer,
                                       int batchSize, double maxGradNorm, long shuffleSeed,
                                       @Nullable BatchListener listener) {
        java.util.Objects.requireNonNull(model, "model");
        java.util.Objects.requireNonNull(data, "data");
        java.util.Objects.requireNonNull(loss, "loss");
        java.util.Objects.requireNonNull(optimizer, "optimizer");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        long start = System.nanoTime();
        int[] order = SequenceDataset.shuffledOrder(data.size(), shuffleSeed);
        double weightedLoss = 0;
        for (int from = 0; from < data.size(); from += batchSize) {
            int to = Math.min(from + batchSize, data.size());
            SequenceDataset.Batch batch = data.batch(order, from, to);
            double batchLoss = model.trainStep(model.input(batch), batch.target(), loss, optimizer, maxGradNorm).loss();
            if (!Double.isFinite(batchLoss)) {
                throw new ArithmeticException("training diverged: the loss became " + batchLoss
                        + " (try a smaller --lr)");
            }
            weightedLoss += batchLoss * (to - from);
            if (listener != null) {
                listener.batchDone(to - from, batchLoss);
            }
        }
        model.synchronizeHost();   // device-resident steps: parameters and optimizer state back on the host
        return new EpochResult(weightedLoss / data.size(), data.size(), (System.nanoTime() - start) / 1e9);
    }

    /**
     * Trains for {@code options.epochs()} epochs (fewer when early stopping ends it): per epoch, the
     * schedule's learning rate, a seeded shuffle, one {@link Trainable#trainStep} per batch, the
     * validation loss, the callbacks. The loss and optimizer of {@code options} are not used here:
     * the trainable brings its own (see {@link SequenceModel#fit}).
     *
     * @param model   what is trained: its steps, loss and optimizer
     * @param train   the training sequences
     * @param options epochs, batch size, schedule, validation, early stopping, callbacks …
     * @return one record per epoch run
     * @throws ArithmeticException      when a batch's loss is not finite (training diverged)
     * @throws IllegalArgumentException if early stopping is asked for without a validation set
     */
    public static History fit(Trainable model, SequenceDataset train, FitOptions options) {
        java.util.Objects.requireNonNull(model, "model");
        java.util.Objects.requireNonNull(train, "train");
        java.util.Objects.requireNonNull(options, "options");
        if (options.patience() > 0 && options.validation() == null) {
            throw new IllegalArgumentException("fit: early stopping watches the validation loss; give a validation set");
        }
        Optimizer optimizer = model.optimizer();
        double baseRate = optimizer.learningRate();
        int first = options.initialEpoch() + 1, last = options.initialEpoch() + options.epochs();
        List<EpochRecord> records = new ArrayList<>();
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestEpoch = 0, sinceBest = 0;
        boolean stoppedEarly = false;
        for (int epoch = first; epoch <= last; epoch++) {
            double rate = options.schedule().rate(baseRate, epoch, last);
            if (!(rate > 0) || !Double.isFinite(rate)) {
                throw new IllegalArgumentException("fit: the schedule gave learning rate " + rate + " for epoch "
                        + epoch + " (it must be a positive number)");
            }
            optimizer.setLearningRate(rate);
            for (FitCallback c : options.callbacks()) {
                c.epochStarted(epoch, rate);
            }
            long start = System.nanoTime();
            double trainLoss = runBatches(model, train, options, epoch);
            double seconds = (System.nanoTime() - start) / 1e9;
            double validationLoss = options.validation() == null ? Double.NaN
                    : model.meanLoss(options.validation());
            EpochRecord record = new EpochRecord(epoch, trainLoss, validationLoss, rate, train.size(), seconds);
            records.add(record);
            for (FitCallback c : options.callbacks()) {
                c.epochDone(record);
            }
            if (options.validation() == null) {
                bestEpoch = epoch;
            } else if (validationLoss < bestLoss - options.minDelta() || bestEpoch == 0) {
                bestLoss = Math.min(bestLoss, validationLoss);
                bestEpoch = epoch;
                sinceBest = 0;
            } else if (options.patience() > 0 && ++sinceBest >= options.patience() && epoch < last) {
                stoppedEarly = true;
                break;
            }
        }
        return new History(records, stoppedEarly, bestEpoch);
    }

    /** One epoch's batches; returns the mean training loss over sequences. */
    private static double runBatches(Trainable model, SequenceDataset train, FitOptions options, int epoch) {
        int[] order = SequenceDataset.shuffledOrder(train.size(), shuffleSeed(options.seed(), epoch));
        // Noise has its own stream, so that switching it on does not change the batches.
        SplittableRandom noise = new SplittableRandom(shuffleSeed(options.seed() + 1, epoch));
        double weightedLoss = 0;
        int done = 0;
        for (int from = 0; from < train.size(); from += options.batchSize()) {
            int to = Math.min(from + options.batchSize(), train.size());
            SequenceDataset.Batch batch = train.batch(order, from, to);
            addNoise(batch.x(), options.inputNoise(), noise);
            double loss = model.trainStep(batch, options.maxGradNorm());
            if (!Double.isFinite(loss)) {
                throw new ArithmeticException("training diverged: the loss became " + loss + " in epoch " + epoch
                        + " (try a smaller learning rate, --lr)");
            }
            weightedLoss += loss * (to - from);
            done = to;
            for (FitCallback c : options.callbacks()) {
                c.batchDone(to - from, loss, weightedLoss / done, done);
            }
        }
        model.synchronizeHost();
        return weightedLoss / train.size();
    }

    /** x += N(0, σ²) per element, drawn in order from {@code random}; nothing when σ = 0. */
    static void addNoise(Tensor x, double sigma, SplittableRandom random) {
        if (sigma > 0) {
            float[] v = x.data();
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) (sigma * gaussian(random));
            }
        }
    }

    /** A standard normal draw (Box–Muller; SplittableRandom has no nextGaussian on Java 17). */
    private static double gaussian(SplittableRandom random) {
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
