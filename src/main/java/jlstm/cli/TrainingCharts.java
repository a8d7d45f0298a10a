package jlstm.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.YearMonth;
import java.util.List;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

import jlstm.internal.io.AtomicFiles;
import jlstm.examples.Evaluation;

/**
 * The PNG charts of {@code train}: the learning curve and, for forecasts, forecast vs actual.
 * Each shows the task's baseline, and an axis never carries quantities of different units: the
 * training loss and a held-out metric of another kind get an axis each.
 */
final class TrainingCharts {
    private TrainingCharts() {
    }

    static {
        // Charts are rendered off-screen; never try to open a display.
        System.setProperty("java.awt.headless", "true");
    }

    /**
     * The learning curve per epoch: the training loss, the held-out metric and
     * the baseline's score on the held-out data (a dashed line).
     *
     * @param lossName     the training loss, e.g. {@code mse}
     * @param trainLoss    one value per epoch (epoch 1 first)
     * @param metricLabel  the held-out metric with its unit, e.g. {@code rmse (thousands of passengers)}
     * @param heldOut      one value per epoch, same length
     * @param sameUnits    whether the loss and the metric are the same quantity (then one axis serves both)
     * @param baselineName what the baseline is
     * @param baseline     its held-out score
     */
    static void learningCurve(Path file, String title, String lossName, List<Double> trainLoss, String metricLabel,
                              List<Double> heldOut, boolean sameUnits, String baselineName, double baseline)
            throws IOException {
        learningCurve(file, title, lossName, trainLoss, "held-out", metricLabel, heldOut, sameUnits, baselineName,
                baseline);
    }

    /**
     * The same with the monitored data named: {@code held-out}, or {@code validation} for a task that
     * follows a validation split during training (the baseline is then its score on that split).
     */
    static void learningCurve(Path file, String title, String lossName, List<Double> trainLoss, String monitorName,
                              String metricLabel, List<Double> monitored, boolean sameUnits, String baselineName,
                              double baseline) throws IOException {
        learningCurveChart(title, lossName, trainLoss, monitorName, metricLabel, monitored, sameUnits, baselineName,
                baseline).save(file);
    }

    /** The chart of {@link #learningCurve}, not yet rendered. */
    static LineChart learningCurveChart(String title, String lossName, List<Double> trainLoss, String metricLabel,
                                        List<Double> heldOut, boolean sameUnits, String baselineName,
                                        double baseline) {
        return learningCurveChart(title, lossName, trainLoss, "held-out", metricLabel, heldOut, sameUnits,
                baselineName, baseline);
    }

    private static LineChart learningCurveChart(String title, String lossName, List<Double> trainLoss,
                                                String monitorName, String metricLabel, List<Double> heldOut,
                                                boolean sameUnits, String baselineName, double baseline) {
        LineChart chart = new LineChart(title, 800, 500).xAxis("epoch", LineChart.XKind.WHOLE_NUMBER);
        double[] epochs = new double[trainLoss.size()];
        for (int i = 0; i < epochs.length; i++) {
            epochs[i] = i + 1;
        }
        double[] loss = unboxed(trainLoss), metric = unboxed(heldOut), line = new double[epochs.length];
        java.util.Arrays.fill(line, baseline);
        int metricAxis = sameUnits ? 0 : 1;
        // Each axis is logarithmic when its curves span a decade or more (a loss falling from 0.2 to
        // 0.0004), so that the late epochs stay readable; linear otherwise, where a log axis would
        // show one label. A fraction such as accuracy is always read on a linear axis from 0 to 1.
        boolean fraction = metricLabel.startsWith("accuracy");
        if (sameUnits) {
            boolean log = !fraction && span(loss, metric, line) >= 10;
            chart.yAxis(0, metricLabel + (log ? " (log scale)" : ""), log ? LineChart.Scale.LOG : LineChart.Scale.LINEAR,
                    fraction ? 0.0 : null, fraction ? 1.0 : null);
        } else {
            boolean lossLog = span(loss) >= 10, metricLog = !fraction && span(metric, line) >= 10;
            chart.yAxis(0, "training loss: " + lossName + (lossLog ? " (log scale)" : ""),
                    lossLog ? LineChart.Scale.LOG : LineChart.Scale.LINEAR, null, null);
            chart.yAxis(1, monitorName + " " + metricLabel + (metricLog ? " (log scale)" : ""),
                    metricLog ? LineChart.Scale.LOG : LineChart.Scale.LINEAR, fraction ? 0.0 : null,
                    fraction ? 1.0 : null);
        }
        chart.add(new LineChart.Series("training loss (" + lossName + ")", epochs, loss, 0, false, true,
                LineChart.BLUE, 2f));
        chart.add(new LineChart.Series(monitorName + " " + metricLabel, epochs, metric, metricAxis, false, true,
                LineChart.ORANGE, 2f));
        chart.add(new LineChart.Series("baseline: " + baselineName, epochs, line, metricAxis, true, false,
                LineChart.PURPLE, 2f));
        return chart;
    }

    /** Held-out months: actual, the model's forecast and the baseline's, all in passengers. */
    static void forecast(Path file, String title, Evaluation.Forecast f, String baselineName, String unit)
            throws IOException {
        double[] x = new double[f.labels().length];
        for (int i = 0; i < x.length; i++) {
            x[i] = YearMonth.parse(f.labels()[i]).atDay(1).toEpochDay();
        }
        new LineChart(title, 900, 500).xAxis("month", LineChart.XKind.DAY)
                .yAxis(0, unit, LineChart.Scale.LINEAR, null, null)
                .add(new LineChart.Series("actual", x, f.actual(), 0, false, true, LineChart.BLUE, 2f))
                .add(new LineChart.Series("LSTM forecast", x, f.predicted(), 0, false, true, LineChart.ORANGE, 2f))
                .add(new LineChart.Series("baseline: " + baselineName, x, f.baseline(), 0, true, false,
                        LineChart.PURPLE, 1.5f))
                .save(file);
    }

    /**
     * Why charts cannot be drawn in this Java runtime, or null when they can: XChart draws with
     * java.awt (module java.desktop), which a jlinked runtime may leave out.
     */
    static String unavailableReason() {
        return ModuleLayer.boot().findModule("java.desktop").isPresent() ? null
                : "this Java runtime has no java.desktop module (charts are drawn with java.awt)";
    }

    /** Renders an XChart chart (the confusion matrix, the bench bars) to PNG and writes it atomically. */
    static void savePng(Chart<?, ?> chart, Path file) throws IOException {
        AtomicFiles.write(file, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    }

    private static double[] unboxed(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** max / min over the positive values of the arrays (1 when there are none). */
    static double span(double[]... arrays) {
        double min = Double.POSITIVE_INFINITY, max = 0;
        for (double[] a : arrays) {
            for (double v : a) {
                if (v > 0 && Double.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        return max > 0 ? max / min : 1;
    }
}
