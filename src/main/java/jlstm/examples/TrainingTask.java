package jlstm.examples;

import jlstm.train.LinearHead;
import jlstm.train.Loss;
import jlstm.train.SequenceDataset;
import jlstm.train.SequenceModel;

import java.util.Map;

/** A learning problem with its data, loss, head and held-out evaluation. */
public interface TrainingTask {

    /**
     * The task's name, as {@code train --task} takes it.
     *
     * @return {@code adding}, {@code airline} or {@code stocks}
     */
    String name();

    /**
     * One line on the data, the split and the loss (printed by {@code train}).
     *
     * @return the description
     */
    String description();

    /**
     * The unit of the metric's values.
     *
     * @return e.g. {@code index points}; empty for none
     */
    default String metricUnit() {
        return "";
    }

    /**
     * Whether the held-out forecast is daily (drawn as its last 60 days plus the error over all of
     * them) rather than monthly.
     *
     * @return true for a daily series
     */
    default boolean dailyForecast() {
        return false;
    }

    /**
     * The y-axis label of the forecast chart.
     *
     * @return the label
     */
    default String forecastAxis() {
        return "value";
    }

    /**
     * The training sequences.
     *
     * @return inputs [N, T, I] and targets [N, O]
     */
    SequenceDataset trainingSet();

    /**
     * The training loss: mean squared error (every task here is a regression on the last step).
     *
     * @return the loss
     */
    default Loss loss() {
        return new jlstm.train.MeanSquaredError();
    }

    /**
     * Which LSTM steps the head reads: the last one.
     *
     * @return the head mode
     */
    default LinearHead.Mode headMode() {
        return LinearHead.Mode.LAST_STEP;
    }

    /**
     * Scores a model on the held-out data, beside the task's simple baseline.
     *
     * @param model a model trained on {@link #trainingSet()}
     * @return the metric, the baseline's and (for a forecast) the series to plot
     */
    Evaluation evaluate(SequenceModel model);

    /**
     * The score followed during training (printed each epoch, drawn in the learning curve): the
     * held-out score by default; a task with a validation split returns that instead, so that
     * following training never means looking at the held-out data.
     *
     * @param model the model being trained
     * @return the score followed
     */
    default Evaluation monitor(SequenceModel model) {
        return evaluate(model);
    }

    /**
     * What {@link #monitor} scores.
     *
     * @return {@code held-out} or {@code validation}
     */
    default String monitorName() {
        return "held-out";
    }

    /**
     * What identifies the data (sequence length, seeds, scaling) for the checkpoint's metadata.
     *
     * @return string pairs
     */
    Map<String, String> metadata();
}
