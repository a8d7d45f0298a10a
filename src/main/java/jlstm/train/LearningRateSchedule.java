package jlstm.train;

/**
 * The learning rate of each epoch of {@link Trainer#fit}, as a function of the optimizer's rate at
 * the start of the fit (the base rate), the epoch (from 1) and the epochs in all. The trainer sets
 * the optimizer's rate at the start of every epoch; steps within an epoch share it.
 *
 * <pre>{@code
 * LearningRateSchedule.cosine()                          // base·½(1 + cos(π·(e−1)/E))
 * LearningRateSchedule.step(10, 0.5)                     // halve every 10 epochs
 * LearningRateSchedule.warmUp(3, LearningRateSchedule.cosine())  // linear ramp over 3 epochs, then cosine
 * }</pre>
 */
@FunctionalInterface
public interface LearningRateSchedule {

    /**
     * The rate of one epoch.
     *
     * @param baseRate the optimizer's learning rate when the fit started
     * @param epoch    the epoch about to run, from 1 (counting a resumed run's earlier epochs)
     * @param epochs   the last epoch of the fit
     * @return the rate for this epoch's steps (positive)
     */
    double rate(double baseRate, int epoch, int epochs);

    /**
     * The base rate throughout (the default).
     *
     * @return a constant schedule
     */
    static LearningRateSchedule constant() {
        return (base, epoch, epochs) -> base;
    }

    /**
     * Step decay: base·gamma^⌊(e−1)/every⌋, as PyTorch's {@code StepLR(step_size=every, gamma)}.
     *
     * @param every epochs between decays (≥ 1)
     * @param gamma factor per decay, in (0, 1]
     * @return the schedule
     * @throws IllegalArgumentException if {@code every} is below 1 or {@code gamma} outside (0, 1]
     */
    static LearningRateSchedule step(int every, double gamma) {
        if (every < 1) {
            throw new IllegalArgumentException("step schedule: every must be at least 1 epoch, got " + every);
        }
        if (!(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("step schedule: gamma must be in (0, 1], got " + gamma);
        }
        return (base, epoch, epochs) -> base * Math.pow(gamma, (epoch - 1) / every);
    }

    /**
     * Cosine decay over the fit: base·½(1 + cos(π·(e−1)/E)) for epoch e of E, from the base rate
     * at the first epoch towards 0 (as PyTorch's {@code CosineAnnealingLR(T_max=E)} stepped per
     * epoch).
     *
     * @return the schedule
     */
    static LearningRateSchedule cosine() {
        return (base, epoch, epochs) -> base * 0.5 * (1 + Math.cos(Math.PI * (epoch - 1) / epochs));
    }

    /**
     * A linear warm-up: base·e/(warmUpEpochs + 1) for the first {@code warmUpEpochs} epochs, then
     * {@code after} (which sees the epochs as they are, so a cosine continues from where it stands).
     *
     * @param warmUpEpochs epochs of the ramp (≥ 0)
     * @param after        the schedule from epoch warmUpEpochs + 1 on
     * @return the schedule
     * @throws IllegalArgumentException if {@code warmUpEpochs} is negative
     * @throws NullPointerException     if {@code after} is null
     */
    static LearningRateSchedule warmUp(int warmUpEpochs, LearningRateSchedule after) {
        java.util.Objects.requireNonNull(after, "after");
        if (warmUpEpochs < 0) {
            throw new IllegalArgumentException("warm-up: epochs must be 0 or more, got " + warmUpEpochs);
        }
        return (base, epoch, epochs) -> epoch <= warmUpEpochs
                ? base * epoch / (warmUpEpochs + 1.0)
                : after.rate(base, epoch, epochs);
    }
}
