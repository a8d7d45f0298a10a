package jlstm.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.TimeZone;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

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
        savePng(learningCurveChart(title, lossName, trainLoss, monitorName, metricLabel, monitored, sameUnits,
                baselineName, baseline), file);
    }

    /** The chart of {@link #learningCurve}, not yet rendered. */
    static XYChart learningCurveChart(String title, String lossName, List<Double> trainLoss, String metricLabel,
                                      List<Double> heldOut, boolean sameUnits, String baselineName, double baseline) {
        return learningCurveChart(title, lossName, trainLoss, "held-out", metricLabel, heldOut, sameUnits, baselineName,
                baseline);
    }

    private static XYChart learningCurveChart(String title, String lossName, List<Double> trainLoss,
                                              String monitorName, String metricLabel, List<Double> heldOut,
                                              boolean sameUnits, String baselineName, double baseline) {
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle("epoch").build();
        // Logarithmic when a curve spans a decade or more (a loss falling from 0.2 to 0.0004), so that
        // its late epochs stay readable; linear otherwise, where a log axis would show one label.
        boolean log = span(trainLoss) >= 10 || span(heldOut) >= 10;
        chart.getStyler().setYAxisLogarithmic(log);
        chart.getStyler().setYAxisLogarithmicDecadeOnly(false);
        chart.getStyler().setMarkerSize(5);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS); // clear of the curves and the baseline
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        double[] epochs = new double[trainLoss.size()];
        for (int i = 0; i < epochs.length; i++) {
            epochs[i] = i + 1;
        }
        int metricAxis = sameUnits ? 0 : 1;
        String scale = log ? " (log scale)" : "";
        chart.setYAxisGroupTitle(0, sameUnits ? metricLabel + scale : "training loss: " + lossName + scale);
        chart.addSeries("training loss (" + lossName + ")", epochs, positive(trainLoss)).setYAxisGroup(0);
        chart.addSeries(monitorName + " " + metricLabel, epochs, positive(heldOut)).setYAxisGroup(metricAxis);
        double[] line = new double[epochs.length];
        java.util.Arrays.fill(line, Math.max(baseline, 1e-12));
        XYSeries base = chart.addSeries("baseline: " + baselineName, epochs, line);
        base.setYAxisGroup(metricAxis);
        base.setLineStyle(SeriesLines.DASH_DASH);
        base.setMarker(SeriesMarkers.NONE);
        if (!sameUnits) {
            chart.setYAxisGroupTitle(1, monitorName + " " + metricLabel + scale);
            chart.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
        }
        return chart;
    }

    /** Held-out months: actual, the model's forecast and the baseline's, all in passengers. */
    static void forecast(Path file, String title, Evaluation.Forecast f, String baselineName, String unit)
            throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("month")
                .yAxisTitle(unit).build();
        chart.getStyler().setDatePattern("yyyy-MM");
        chart.getStyler().setTimezone(TimeZone.getTimeZone("UTC"));
        List<Date> x = new ArrayList<>();
        for (String month : f.labels()) {
            x.add(Date.from(YearMonth.parse(month).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant()));
        }
        chart.addSeries("actual", x, boxed(f.actual()));
        chart.addSeries("LSTM forecast", x, boxed(f.predicted()));
        XYSeries base = chart.addSeries("baseline: " + baselineName, x, boxed(f.baseline()));
        base.setLineStyle(SeriesLines.DASH_DASH);
        savePng(chart, file);
    }

    /** Renders a chart to PNG and writes it atomically (no partial file on failure). */
    /**
     * Why charts cannot be drawn in this Java runtime, or null when they can: XChart draws with
     * java.awt (module java.desktop), which a jlinked runtime may leave out.
     */
    static String unavailableReason() {
        return ModuleLayer.boot().findModule("java.desktop").isPresent() ? null
                : "this Java runtime has no java.desktop module (charts are drawn with java.awt)";
    }

    static void savePng(Chart<?, ?> chart, Path file) throws IOException {
        AtomicFiles.write(file, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    }

    private static List<Double> boxed(double[] values) {
        return java.util.Arrays.stream(values).boxed().toList();
    }

    /** max / min of positive values (1 when there are none). */
    private static double span(List<Double> values) {
        double[] v = positive(values);
        double min = java.util.Arrays.stream(v).min().orElse(1), max = java.util.Arrays.stream(v).max().orElse(1);
        return max / min;
    }

    /** Log axes cannot show zeros: clamp to a tiny positive value. */
    private static double[] positive(List<Double> values) {
        return values.stream().mapToDouble(v -> Math.max(v, 1e-12)).toArray();
    }
}
