package jlstm.train;

/**
 * What one epoch of {@link Trainer#fit} did.
 *
 * @param epoch          from 1 (counting a resumed run's earlier epochs)
 * @param trainLoss      the training loss averaged over sequences (each batch's loss before its update)
 * @param validationLoss the loss on the validation set after the epoch, NaN without one
 * @param learningRate   the rate of the epoch's steps
 * @param sequences      training sequences seen
 * @param seconds        wall time of the epoch's steps (validation not included)
 */
public record EpochRecord(int epoch, double trainLoss, double validationLoss, double learningRate, int sequences,
                          double seconds) {

    /**
     * Training throughput.
     *
     * @return sequences per second
     */
    public double sequencesPerSecond() {
        return sequences / Math.max(seconds, 1e-9);
    }

    /**
     * Whether a validation loss was computed.
     *
     * @return false when {@link #validationLoss()} is NaN
     */
    public boolean hasValidation() {
        return !Double.isNaN(validationLoss);
    }
}
