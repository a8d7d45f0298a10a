package jlstm.train;

import java.util.List;

/**
 * The per-epoch record of a {@link Trainer#fit} (as Keras's {@code History}).
 *
 * @param epochs       one record per epoch run, in order
 * @param stoppedEarly whether early stopping ended the fit before its last epoch
 * @param bestEpoch    the epoch with the lowest validation loss, or the last epoch run without a
 *                     validation set (0 when no epoch ran)
 */
public record History(List<EpochRecord> epochs, boolean stoppedEarly, int bestEpoch) {

    /**
     * A history (the list is copied).
     *
     * @param epochs       one record per epoch run, in order
     * @param stoppedEarly whether early stopping ended the fit
     * @param bestEpoch    the epoch with the lowest validation loss (or the last), 0 when none ran
     */
    public History {
        epochs = List.copyOf(epochs);
    }

    /**
     * The last epoch's record.
     *
     * @return the record of the last epoch run
     * @throws IllegalStateException if no epoch ran
     */
    public EpochRecord last() {
        if (epochs.isEmpty()) {
            throw new IllegalStateException("no epoch ran");
        }
        return epochs.get(epochs.size() - 1);
    }

    /**
     * The training loss per epoch.
     *
     * @return an unmodifiable list, one value per epoch
     */
    public List<Double> trainLoss() {
        return epochs.stream().map(EpochRecord::trainLoss).toList();
    }

    /**
     * The validation loss per epoch.
     *
     * @return an unmodifiable list (NaN where there was no validation set)
     */
    public List<Double> validationLoss() {
        return epochs.stream().map(EpochRecord::validationLoss).toList();
    }

    /**
     * The learning rate per epoch.
     *
     * @return an unmodifiable list
     */
    public List<Double> learningRates() {
        return epochs.stream().map(EpochRecord::learningRate).toList();
    }
}
