package jlstm.cli;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.TimeZone;

import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import jlstm.examples.Evaluation;

/** The PNG charts of the seed's examples: a confusion matrix and a day-by-day forecast. */
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
     * baseline's; with {@code markers}, each day's value is marked (for short spans).
     */
    static void dailyForecast(Path file, String title, String yAxis, Evaluation.Forecast f, String baselineName,
                              boolean markers) throws IOException {
        XYChart chart = new XYChartBuilder().width(1100).height(550).title(title).xAxisTitle("day")
                .yAxisTitle(yAxis).build();
        chart.getStyler().setDatePattern(markers ? "MM-dd" : "yyyy-MM");
        chart.getStyler().setTimezone(TimeZone.getTimeZone("UTC"));
        chart.getStyler().setMarkerSize(markers ? 5 : 0);
        List<Date> x = new ArrayList<>();
        for (String day : f.labels()) {
            x.add(Date.from(LocalDate.parse(day).atStartOfDay(ZoneOffset.UTC).toInstant()));
        }
        XYSeries actual = chart.addSeries("actual", x, boxed(f.actual()));
        XYSeries forecast = chart.addSeries("LSTM forecast", x, boxed(f.predicted()));
        XYSeries base = chart.addSeries("baseline: " + baselineName, x, boxed(f.baseline()));
        base.setLineStyle(SeriesLines.DASH_DASH);
        for (XYSeries s : List.of(actual, forecast, base)) {
            if (!markers) {
                s.setMarker(SeriesMarkers.NONE);
            }
        }
        TrainingCharts.savePng(chart, file);
    }

    private static List<Double> boxed(double[] values) {
        return Arrays.stream(values).boxed().toList();
    }
}
