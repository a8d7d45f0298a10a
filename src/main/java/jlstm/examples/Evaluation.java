package jlstm.examples;

import org.jspecify.annotations.Nullable;

/**
 * A held-out score.
 *
 * @param metric       the metric's name, e.g. {@code mse} or {@code rmse}
 * @param value        the model's score (lower is better)
 * @param baseline     the baseline's score on the same data
 * @param baselineName what the baseline is, e.g. {@code seasonal-naive}
 * @param forecast     actual vs predicted series for a plot, or null when the task has none
 */
public record Evaluation(String metric, double value, double baseline, String baselineName,
                         @Nullable Forecast forecast) {

    /**
     * Series to plot: every array has one value per held-out point.
     *
     * @param labels    x-axis labels, e.g. months {@code 1959-01}
     * @param actual    what happened
     * @param predicted the model's forecast
     * @param baseline  the baseline's forecast
     */
    public record Forecast(String[] labels, double[] actual, double[] predicted, double[] baseline) {
    }
}
