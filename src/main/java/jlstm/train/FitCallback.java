package jlstm.train;

/**
 * Hooks into {@link Trainer#fit}: progress bars, logging, checkpoints, custom metrics. Every method
 * does nothing by default. They run on the fitting thread, between steps; a callback that throws
 * ends the fit with its exception.
 */
public interface FitCallback {

    /**
     * Before an epoch's first step.
     *
     * @param epoch        from 1 (counting a resumed run's earlier epochs)
     * @param learningRate the rate the schedule set for it
     */
    default void epochStarted(int epoch, double learningRate) {
    }

    /**
     * After each optimizer step.
     *
     * @param sequences     sequences in the batch just done
     * @param loss          that batch's loss (before its update)
     * @param meanLoss      the epoch's mean loss so far, over sequences
     * @param epochSequences sequences done in this epoch so far (this batch included)
     */
    default void batchDone(int sequences, double loss, double meanLoss, int epochSequences) {
    }

    /**
     * After an epoch; the record is in the history already.
     *
     * @param record the epoch's losses (validation included), rate and time
     */
    default void epochDone(EpochRecord record) {
    }
}
