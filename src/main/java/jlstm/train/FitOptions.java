package jlstm.train;

import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * How {@link SequenceModel#fit} and {@link Trainer#fit} train: immutable, each method returns a
 * changed copy (so one instance may be shared between threads; the optimizer and callbacks it
 * refers to are not copied).
 *
 * <pre>{@code
 * History h = model.fit(train, FitOptions.epochs(30)
 *         .batchSize(32)
 *         .optimizer(new Adam(0.01))
 *         .schedule(LearningRateSchedule.cosine())
 *         .validation(valid)
 *         .earlyStopping(5));
 * }</pre>
 *
 * <p>Defaults: batch 32, loss inferred from the targets ({@link SoftmaxCrossEntropy} for class
 * indices, {@link MeanSquaredError} for vectors), {@code Adam(0.001)}, no clipping, seed 1, a
 * constant learning rate, no validation, no early stopping, no input noise, epochs counted from 1.
 */
public final class FitOptions {
    private int epochs = 1;
    private int batchSize = 32;
    private @Nullable Loss loss;               // null: inferred from the training targets
    private @Nullable Optimizer optimizer;     // null: a fresh Adam(0.001) per fit
    private double maxGradNorm;
    private long seed = 1;
    private @Nullable SequenceDataset validation;
    private LearningRateSchedule schedule = LearningRateSchedule.constant();
    private int patience;            // 0: no early stopping
    private double minDelta;
    private List<FitCallback> callbacks = List.of();
    private double inputNoise;
    private int initialEpoch;

    private FitOptions() {
    }

    private FitOptions copy() {
        FitOptions o = new FitOptions();
        o.epochs = epochs;
        o.batchSize = batchSize;
        o.loss = loss;
        o.optimizer = optimizer;
        o.maxGradNorm = maxGradNorm;
        o.seed = seed;
        o.validation = validation;
        o.schedule = schedule;
        o.patience = patience;
        o.minDelta = minDelta;
        o.callbacks = callbacks;
        o.inputNoise = inputNoise;
        o.initialEpoch = initialEpoch;
        return o;
    }

    /**
     * The defaults with this many epochs.
     *
     * @param epochs epochs to run, ≥ 1
     * @return new options
     * @throws IllegalArgumentException if {@code epochs} is below 1
     */
    public static FitOptions epochs(int epochs) {
        return new FitOptions().withEpochs(epochs);
    }

    /**
     * Epochs to run, after {@link #initialEpoch}.
     *
     * @param epochs ≥ 1
     * @return a changed copy; these options are unchanged
     * @throws IllegalArgumentException if {@code epochs} is below 1
     */
    public FitOptions withEpochs(int epochs) {
        if (epochs < 1) {
            throw new IllegalArgumentException("fit: epochs must be at least 1, got " + epochs);
        }
        FitOptions o = copy();
        o.epochs = epochs;
        return o;
    }

    /**
     * Sequences per optimizer step (the last batch of an epoch may be smaller).
     *
     * @param batchSize ≥ 1
     * @return a changed copy; these options are unchanged
     * @throws IllegalArgumentException if {@code batchSize} is below 1
     */
    public FitOptions batchSize(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("fit: batch size must be at least 1, got " + batchSize);
        }
        FitOptions o = copy();
        o.batchSize = batchSize;
        return o;
    }

    /**
     * The training loss (used by {@link SequenceModel#fit}; a {@link Trainable} brings its own).
     *
     * @param loss the loss
     * @return a changed copy; these options are unchanged
     * @throws NullPointerException if {@code loss} is null
     */
    public FitOptions loss(Loss loss) {
        FitOptions o = copy();
        o.loss = java.util.Objects.requireNonNull(loss, "loss");
        return o;
    }

    /**
     * The optimizer (used by {@link SequenceModel#fit}); its learning rate is the schedule's base
     * rate. Keep a reference to it to save its state or to fit again where it left off.
     *
     * @param optimizer the optimizer, used (and changed) by the fit
     * @return a changed copy; these options are unchanged
     * @throws NullPointerException if {@code optimizer} is null
     */
    public FitOptions optimizer(Optimizer optimizer) {
        FitOptions o = copy();
        o.optimizer = java.util.Objects.requireNonNull(optimizer, "optimizer");
        return o;
    }

    /**
     * Clips the global gradient norm of every step to this (0 = off, the default).
     *
     * @param maxGradNorm the largest L2 norm over all gradients together, or 0
     * @return a changed copy; these options are unchanged
     * @throws IllegalArgumentException if negative, NaN or infinite
     */
    public FitOptions clipGradientNorm(double maxGradNorm) {
        if (!(maxGradNorm >= 0) || !Double.isFinite(maxGradNorm)) {
            throw new IllegalArgumentException("fit: the clip norm must be 0 (off) or a positive number, got "
                    + maxGradNorm);
        }
        FitOptions o = copy();
        o.maxGradNorm = maxGradNorm;
        return o;
    }

    /**
     * Seed of the shuffling (and of the input noise): the same seed gives the same batches.
     *
     * @param seed the seed (default 1)
     * @return a changed copy; these options are unchanged
     */
    public FitOptions seed(long seed) {
        FitOptions o = copy();
        o.seed = seed;
        return o;
    }

    /**
     * Data scored with the loss after every epoch (never trained on).
     *
     * @param validation the held-out sequences, or null for none
     * @return a changed copy; these options are unchanged
     */
    public FitOptions validation(@Nullable SequenceDataset validation) {
        FitOptions o = copy();
        o.validation = validation;
        return o;
    }

    /**
     * How the learning rate changes from epoch to epoch.
     *
     * @param schedule the schedule (default {@link LearningRateSchedule#constant()})
     * @return a changed copy; these options are unchanged
     * @throws NullPointerException if {@code schedule} is null
     */
    public FitOptions schedule(LearningRateSchedule schedule) {
        FitOptions o = copy();
        o.schedule = java.util.Objects.requireNonNull(schedule, "schedule");
        return o;
    }

    /**
     * Stops when the validation loss has not improved for {@code patience} epochs (needs
     * {@link #validation}). The parameters are those of the last epoch run, not of the best one.
     *
     * @param patience epochs without improvement before stopping, ≥ 1
     * @return a changed copy; these options are unchanged
     * @throws IllegalArgumentException if {@code patience} is below 1
     */
    public FitOptions earlyStopping(int patience) {
        return earlyStopping(patience, 0);
    }

    /**
     * As {@link #earlyStopping(int)}, counting only improvements by more than {@code minDelta}.
     *
     * @param patience epochs without improvement before stopping (≥ 1)
     * @param minDelta the smallest decrease of the validation loss that counts (≥ 0)
     * @return a changed copy; these options are unchanged
     * @throws IllegalArgumentException if {@code patience} is below 1 or {@code minDelta} negative or NaN
     */
    public FitOptions earlyStopping(int patience, double minDelta) {
        if (patience < 1 || !(minDelta >= 0)) {
            throw new IllegalArgumentException("fit: early stopping needs patience ≥ 1 and minDelta ≥ 0, got "
                    + patience + " and " + minDelta);
        }
        FitOptions o = copy();
        o.patience = patience;
        o.minDelta = minDelta;
        return o;
    }

    /**
     * Adds callbacks (called in the order added, on the thread that runs the fit).
     *
     * @param more the callbacks to add
     * @return a changed copy; these options are unchanged
     * @throws NullPointerException if {@code more} or one of its elements is null
     */
    public FitOptions callbacks(FitCallback... more) {
        java.util.Objects.requireNonNull(more, "more");
        for (int i = 0; i < more.length; i++) {
            java.util.Objects.requireNonNull(more[i], "callback " + i);
        }
        FitOptions o = copy();
        List<FitCallback> all = new ArrayList<>(callbacks);
        all.addAll(List.of(more));
        o.callbacks = List.copyOf(all);
        return o;
    }

    /**
     * Adds Gaussian noise of this standard deviation to every training input value of every
     * batch, fresh each epoch (a regulariser; validation data stays clean). 0 = none.
     *
     * @param standardDeviation σ of the noise, in the inputs' units, or 0
     * @return a changed copy; these options are unchanged
     * @throws IllegalArgumentException if negative, NaN or infinite
     */
    public FitOptions inputNoise(double standardDeviation) {
        if (!(standardDeviation >= 0) || !Double.isFinite(standardDeviation)) {
            throw new IllegalArgumentException("fit: input noise must be 0 or a positive number, got "
                    + standardDeviation);
        }
        FitOptions o = copy();
        o.inputNoise = standardDeviation;
        return o;
    }

    /**
     * Epochs already run (a resumed run): the fit runs epochs initialEpoch+1 … initialEpoch+epochs,
     * with the shuffling and schedule of those epoch numbers, as an uninterrupted run would.
     *
     * @param initialEpoch epochs already run, ≥ 0
     * @return a changed copy; these options are unchanged
     * @throws IllegalArgumentException if negative
     */
    public FitOptions initialEpoch(int initialEpoch) {
        if (initialEpoch < 0) {
            throw new IllegalArgumentException("fit: initial epoch must be 0 or more, got " + initialEpoch);
        }
        FitOptions o = copy();
        o.initialEpoch = initialEpoch;
        return o;
    }

    /**
     * The epochs to run.
     *
     * @return ≥ 1
     */
    public int epochs() {
        return epochs;
    }

    /**
     * The sequences per optimizer step.
     *
     * @return ≥ 1
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * The loss.
     *
     * @return the loss, or null to infer it from the targets
     */
    public @Nullable Loss loss() {
        return loss;
    }

    /**
     * The optimizer.
     *
     * @return the optimizer, or null for a fresh {@code Adam(0.001)}
     */
    public @Nullable Optimizer optimizer() {
        return optimizer;
    }

    /**
     * The gradient clipping threshold.
     *
     * @return the largest global norm, or 0 for no clipping
     */
    public double maxGradNorm() {
        return maxGradNorm;
    }

    /**
     * The seed of the shuffling and the input noise.
     *
     * @return the seed
     */
    public long seed() {
        return seed;
    }

    /**
     * The validation set.
     *
     * @return the held-out sequences, or null for none
     */
    public @Nullable SequenceDataset validation() {
        return validation;
    }

    /**
     * The learning-rate schedule.
     *
     * @return the schedule
     */
    public LearningRateSchedule schedule() {
        return schedule;
    }

    /**
     * Early stopping's patience.
     *
     * @return epochs without improvement before stopping, 0 when off
     */
    public int patience() {
        return patience;
    }

    /**
     * Early stopping's smallest improvement that counts.
     *
     * @return the decrease of the validation loss, ≥ 0
     */
    public double minDelta() {
        return minDelta;
    }

    /**
     * The callbacks, in calling order.
     *
     * @return an unmodifiable list
     */
    public List<FitCallback> callbacks() {
        return callbacks;
    }

    /**
     * The standard deviation of the input noise.
     *
     * @return σ, or 0 for none
     */
    public double inputNoise() {
        return inputNoise;
    }

    /**
     * The epochs already run (a resumed run).
     *
     * @return ≥ 0
     */
    public int initialEpoch() {
        return initialEpoch;
    }
}
