package jlstm.train;

import java.util.SplittableRandom;

/** The epoch loop: seeded shuffling, mini-batches, one optimizer step per batch. */
public final class Trainer {
    private Trainer() {
    }

    /** Called after each batch, e.g. to advance a progress bar. */
    @FunctionalInterface
    public interface BatchListener {
        /** @param sequences sequences in the batch just done; @param loss its loss */
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
        /** Training throughput: sequences per second. */
        public double sequencesPerSecond() {
            return sequences / Math.max(seconds, 1e-9);
        }
    }

    /**
     * The shuffle seed of an epoch: a function of the run's seed and the epoch number only, so that
     * a run resumed at epoch e sees the same batches as an uninterrupted one.
     */
    public static long shuffleSeed(long seed, int epoch) {
        return new SplittableRandom(seed ^ 0x5DEECE66DL).split().nextLong() + 0x9E3779B97F4A7C15L * epoch;
    }

    /**
     * One pass over the data in a seeded random order, in batches of {@code batchSize} (the last
     * one may be smaller).
     *
     * @param maxGradNorm clip threshold for the global gradient norm, 0 for none
     * @param listener    may be null
     */
    public static EpochResult runEpoch(SequenceModel model, SequenceDataset data, Loss loss, Optimizer optimizer,
                                       int batchSize, double maxGradNorm, long shuffleSeed, BatchListener listener) {
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
}
