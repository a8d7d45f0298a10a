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

import jlstm.train.Evaluation;

/** The PNG charts of {@code train}: the learning curve and, for forecasts, forecast vs actual. */
final class TrainingCharts {
    private TrainingCharts() {
    }

    static {
        // Charts are rendered off-screen; never try to open a display.
        System.setProperty("java.awt.headless", "true");
    }

    /**
     * Training loss and held-out metric per epoch, on a logarithmic axis.
     *
     * @param trainLoss one value per epoch (epoch 1 first)
     * @param heldOut   one value per epoch, same length
     */
    static void learningCurve(Path file, String title, List<Double> trainLoss, String metricName,
                              List<Double> heldOut) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle("epoch")
                .yAxisTitle("loss / metric (log scale)").build();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setMarkerSize(5);
        double[] epochs = new double[trainLoss.size()];
        for (int i = 0; i < epochs.length; i++) {
            epochs[i] = i + 1;
        }
        chart.addSeries("training loss", epochs, positive(trainLoss));
        chart.addSeries("held-out " + metricName, epochs, positive(heldOut));
        BitmapEncoder.saveBitmap(chart, stripPng(file), BitmapEncoder.BitmapFormat.PNG);
    }

    /** Held-out months: actual, the model's forecast and the baseline's. */
    static void forecast(Path file, String title, Evaluation.Forecast f, String baselineName) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("month")
                .yAxisTitle("passengers (thousands)").build();
        chart.getStyler().setDatePattern("yyyy-MM");
        chart.getStyler().setTimezone(TimeZone.getTimeZone("UTC"));
        List<Date> x = new ArrayList<>();
        for (String month : f.labels()) {
            x.add(Date.from(YearMonth.parse(month).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant()));
        }
        chart.addSeries("actual", x, boxed(f.actual()));
        chart.addSeries("LSTM forecast", x, boxed(f.predicted()));
        chart.addSeries(baselineName, x, boxed(f.baseline()));
        BitmapEncoder.saveBitmap(chart, stripPng(file), BitmapEncoder.BitmapFormat.PNG);
    }

    private static List<Double> boxed(double[] values) {
        return java.util.Arrays.stream(values).boxed().toList();
    }

    /** Log axes cannot show zeros: clamp to a tiny positive value. */
    private static double[] positive(List<Double> values) {
        return values.stream().mapToDouble(v -> Math.max(v, 1e-12)).toArray();
    }

    /** XChart appends the extension itself. */
    private static String stripPng(Path file) {
        String s = file.toString();
        return s.endsWith(".png") ? s.substring(0, s.length() - 4) : s;
    }
}
