package jlstm.cli;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.Locale;

import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;

import jlstm.examples.Evaluation;

/**
 * The PNG charts of the seed's examples: a confusion matrix, and a day-by-day forecast as a window
 * of its last days plus its error over the whole span.
 */
final class ExampleCharts {
    private ExampleCharts() {
    }

    static {
        // Charts are rendered off-screen; never try to open a display.
        System.setProperty("java.awt.headless", "true");
    }

    /**
     * A confusion matrix: count of each (actual, predicted) pair, the diagonal being the right answers.
     *
     * @param counts [actual][predicted], square
     */
    static void confusionMatrix(Path file, String title, int[][] counts) throws IOException {
        int classes = counts.length;
        HeatMapChart chart = new HeatMapChartBuilder().width(700).height(640).title(title)
                .xAxisTitle("predicted").yAxisTitle("actual").build();
        chart.getStyler().setShowValue(true).setPiecewise(false).setLegendVisible(false);
        chart.getStyler().setRangeColors(new Color[] {new Color(250, 250, 250), new Color(49, 130, 189)});
        int[] labels = new int[classes];
        int[][] cells = new int[classes][classes]; // XChart's heat data is [x][y]: [predicted][actual]
        for (int a = 0; a < classes; a++) {
            labels[a] = a;
            for (int p = 0; p < classes; p++) {
                cells[p][a] = counts[a][p];
            }
        }
        chart.addSeries("counts", labels, labels, cells);
        TrainingCharts.savePng(chart, file);
    }

    /** The last {@code n} points of a forecast (all of them when it has fewer). */
    static Evaluation.Forecast last(Evaluation.Forecast f, int n) {
        int from = Math.max(0, f.labels().length - n), to = f.labels().length;
        return new Evaluation.Forecast(Arrays.copyOfRange(f.labels(), from, to), Arrays.copyOfRange(f.actual(), from, to),
                Arrays.copyOfRange(f.predicted(), from, to), Arrays.copyOfRange(f.baseline(), from, to));
    }

    /**
     * Forecast vs actual by calendar day (labels yyyy-MM-dd): actual, the model's forecast, the
     * baseline's; each day marked. For a short span (a window of the last weeks): a long one is
     * better read as {@link #forecastError}.
     */
    static void dailyForecast(Path file, String title, String yAxis, Evaluation.Forecast f, String baselineName)
            throws IOException {
        double[] x = days(f);
        new LineChart(title, 1000, 520).xAxis("day", LineChart.XKind.DAY)
                .yAxis(0, yAxis, LineChart.Scale.LINEAR, null, null)
                .add(new LineChart.Series("actual", x, f.actual(), 0, false, true, LineChart.BLUE, 2f))
                .add(new LineChart.Series("LSTM forecast", x, f.predicted(), 0, false, true, LineChart.ORANGE, 2f))
                .add(new LineChart.Series("baseline: " + baselineName, x, f.baseline(), 0, true, false,
                        LineChart.PURPLE, 1.5f))
                .save(file);
    }

    /** The chart of {@link #forecastError}, not yet rendered. */
    static LineChart forecastErrorChart(String title, String yAxis, Evaluation.Forecast f, String baselineName) {
        double[] x = days(f);
        double[] model = new double[x.length], base = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            model[i] = f.predicted()[i] - f.actual()[i];
            base[i] = f.baseline()[i] - f.actual()[i];
        }
        double[] ends = {x.length == 0 ? 0 : x[0], x.length == 0 ? 1 : x[x.length - 1]};
        return new LineChart(title, 1000, 520).xAxis("day", LineChart.XKind.DAY)
                .yAxis(0, yAxis, LineChart.Scale.LINEAR, null, null)
                .add(new LineChart.Series(String.format(Locale.ROOT, "LSTM forecast - actual (rmse %s)",
                        TrainCommand.number(rms(model))), x, model, 0, false, false, LineChart.ORANGE, 1.5f))
                .add(new LineChart.Series(String.format(Locale.ROOT, "baseline (%s) - actual (rmse %s)", baselineName,
                        TrainCommand.number(rms(base))), x, base, 0, true, false, LineChart.PURPLE, 1f))
                .add(new LineChart.Series("", ends, new double[] {0, 0}, 0, false, false, LineChart.GREY, 1f));
    }

    /**
     * The error of a day-by-day forecast over its whole span: the model's forecast minus the actual
     * value, and the baseline's (dashed), around a zero line; the legend gives each one's RMSE.
     */
    static void forecastError(Path file, String title, String yAxis, Evaluation.Forecast f, String baselineName)
            throws IOException {
        forecastErrorChart(title, yAxis, f, baselineName).save(file);
    }

    private static double rms(double[] v) {
        double sum = 0;
        for (double d : v) {
            sum += d * d;
        }
        return v.length == 0 ? 0 : Math.sqrt(sum / v.length);
    }

    private static double[] days(Evaluation.Forecast f) {
        double[] x = new double[f.labels().length];
        for (int i = 0; i < x.length; i++) {
            x[i] = LocalDate.parse(f.labels()[i]).toEpochDay();
        }
        return x;
    }

}
