package jlstm.train;

/**
 * What {@link Trainer#fit} drives: a model with its loss and optimizer that takes one step on a
 * batch. {@link SequenceModel#fit} adapts a {@link SequenceModel}; a hand-written model (an
 * {@code LstmCell} loop, say) implements this to get the same epoch loop, schedules, validation,
 * early stopping and callbacks.
 */
public interface Trainable {

    /**
     * One optimizer step on a batch.
     *
     * @param batch       time-major: x [T, B, I], target [B, O] or [B] (see {@link SequenceDataset.Batch})
     * @param maxGradNorm clip the global gradient norm to this; 0 for no clipping
     * @return the batch's loss before the update
     */
    double trainStep(SequenceDataset.Batch batch, double maxGradNorm);

    /**
     * The mean loss over a dataset, without updating anything (validation).
     *
     * @param data the sequences and targets
     * @return the loss averaged over the sequences
     */
    double meanLoss(SequenceDataset data);

    /**
     * The optimizer whose learning rate the schedule sets.
     *
     * @return the optimizer the steps use
     */
    Optimizer optimizer();

    /** Brings host copies of parameters and optimizer state up to date (after each epoch). */
    default void synchronizeHost() {
    }
}
