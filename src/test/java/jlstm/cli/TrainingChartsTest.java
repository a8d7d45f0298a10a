package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.examples.Evaluation;

/**
 * The charts of {@code train} read at a glance: the baseline beside the curves, one unit per axis,
 * accuracy on a linear axis, tick labels that never touch, a long forecast as a window plus its error.
 */
class TrainingChartsTest {

    /** The adding problem's default run (java -jar target/jlstm.jar train --device cpu, this machine). */
    private static final List<Double> ADDING_LOSS = List.of(0.2019, 0.1694, 0.1672, 0.1682, 0.0129, 0.00222, 0.00142,
            0.00095, 0.00072, 0.00075, 0.00054, 0.00042, 0.00036, 0.000301, 0.000311);
    private static final List<Double> ADDING_HELD_OUT = List.of(0.1607, 0.1611, 0.1606, 0.1065, 0.0026, 0.00158,
            0.00102, 0.00078, 0.00139, 0.00057, 0.00043, 0.00069, 0.00031, 0.000385, 0.000403);

    private static Map<String, LineChart.Series> byName(LineChart chart) {
        return chart.series().stream().collect(Collectors.toMap(LineChart.Series::name, Function.identity()));
    }

    /** Neighbouring labels of each axis are apart by their own size plus room, in pixels. */
    private static void assertNoLabelsTouch(LineChart chart) {
        LineChart.Layout l = chart.layout();
        int height = LineChart.labelHeight();
        for (List<LineChart.Placed> axis : l.yTicks()) {
            for (int i = 1; i < axis.size(); i++) {
                double gap = Math.abs(axis.get(i).pixel() - axis.get(i - 1).pixel());
                assertTrue(gap >= height + 4, chart.title() + ": y labels " + axis.get(i - 1).tick().label() + " and "
                        + axis.get(i).tick().label() + " " + gap + " px apart, labels " + height + " px high");
            }
        }
        List<LineChart.Placed> x = l.xTicks();
        assertTrue(x.size() >= 2, chart.title() + ": x ticks " + x);
        for (int i = 1; i < x.size(); i++) {
            double room = x.get(i).pixel() - x.get(i - 1).pixel() - (LineChart.labelWidth(x.get(i).tick().label())
                    + LineChart.labelWidth(x.get(i - 1).tick().label())) / 2.0;
            assertTrue(room >= 4, chart.title() + ": x labels " + x.get(i - 1).tick().label() + " and "
                    + x.get(i).tick().label() + " " + room + " px apart");
        }
    }

    @Test
    void differentUnitsGetAnAxisEachAndTheBaselineSitsWithTheMetric(@TempDir Path dir) throws Exception {
        LineChart chart = TrainingCharts.learningCurveChart("airline", "mse", List.of(0.9, 0.5, 0.3),
                "rmse (thousands of passengers)", List.of(40.0, 25.0, 18.0), false, "seasonal-naive", 50.0);
        Map<String, LineChart.Series> series = byName(chart);
        assertEquals(0, series.get("training loss (mse)").axis());
        assertEquals(1, series.get("held-out rmse (thousands of passengers)").axis());
        LineChart.Series baseline = series.get("baseline: seasonal-naive");
        assertEquals(1, baseline.axis(), "the baseline is in the metric's units");
        assertTrue(baseline.dashed());
        assertArrayEquals(new double[] {50, 50, 50}, baseline.y());
        assertTrue(chart.yAxis(0).title().contains("mse") && chart.yAxis(1).title().contains("rmse"));
        Path png = dir.resolve("curve.png");
        chart.save(png);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(800, image.getWidth());
        assertEquals(500, image.getHeight());
        assertEquals(List.of(png), Files.list(dir).toList(), "no temporary file left");
    }

    @Test
    void theSameUnitsShareOneLogAxisWithOneTwoFiveTicksThatDoNotTouch() {
        LineChart chart = TrainingCharts.learningCurveChart("adding", "mse", ADDING_LOSS, "mse", ADDING_HELD_OUT, true,
                "constant-1.0", 0.16076);
        for (LineChart.Series s : chart.series()) {
            assertEquals(0, s.axis(), s.name());
        }
        assertNull(chart.yAxis(1));
        assertEquals(LineChart.Scale.LOG, chart.yAxis(0).scale(), "0.2 down to 0.0003 is read on a log axis");
        List<LineChart.Placed> ticks = chart.layout().yTicks().get(0);
        for (LineChart.Placed t : ticks) {
            double mantissa = t.tick().value() / Math.pow(10, Math.floor(Math.log10(t.tick().value()) + 1e-9));
            assertTrue(List.of(1L, 2L, 5L).contains(Math.round(mantissa)) && Math.abs(mantissa - Math.round(mantissa))
                    < 1e-9, "a log tick at 1, 2 or 5 times a decade: " + t.tick().label());
        }
        assertTrue(ticks.stream().anyMatch(t -> t.tick().label().equals("0.001")), "the decades are labelled");
        assertNoLabelsTouch(chart);
    }

    @Test
    void accuracyIsReadOnALinearAxisFromZeroToOneBesideALogLoss() {
        // The digits task: cross-entropy falls over a decade (log axis), accuracy rises from 0.61 to 0.97.
        List<Double> loss = List.of(1.83, 0.93, 0.64, 0.56, 0.48, 0.41, 0.37, 0.32, 0.34, 0.29, 0.3, 0.29, 0.27, 0.25,
                0.24, 0.22, 0.21, 0.2, 0.23, 0.16, 0.17, 0.19, 0.18, 0.16, 0.13);
        List<Double> accuracy = List.of(0.61, 0.69, 0.81, 0.85, 0.87, 0.92, 0.93, 0.92, 0.925, 0.945, 0.95, 0.95, 0.945,
                0.93, 0.965, 0.95, 0.955, 0.965, 0.965, 0.965, 0.96, 0.962, 0.962, 0.965, 0.965);
        LineChart chart = TrainingCharts.learningCurveChart("digits", "cross_entropy", loss, "accuracy", accuracy, false,
                "majority-class", 0.0975);
        assertEquals(LineChart.Scale.LOG, chart.yAxis(0).scale(), "the loss spans a decade");
        assertEquals(LineChart.Scale.LINEAR, chart.yAxis(1).scale(), "accuracy is linear");
        assertArrayEquals(new double[] {0, 1}, chart.layout().yRanges().get(1), "accuracy from 0 to 1");
        assertEquals(1, byName(chart).get("held-out accuracy").axis());
        assertEquals(1, byName(chart).get("baseline: majority-class").axis());
        assertTrue(chart.layout().yTicks().get(0).size() >= 3, "the loss axis has labels: "
                + chart.layout().yTicks().get(0));
        assertNoLabelsTouch(chart);
        // Accuracy that starts near zero (a first epoch at chance) is still linear.
        LineChart chance = TrainingCharts.learningCurveChart("mnist", "cross_entropy", List.of(2.3, 0.3, 0.1),
                "accuracy", List.of(0.05, 0.9, 0.97), false, "majority-class", 0.11);
        assertEquals(LineChart.Scale.LINEAR, chance.yAxis(1).scale());
    }

    /** 372 trading days from 1997-03-14, a price around 3,000-6,000 and a forecast off by a known amount. */
    private static Evaluation.Forecast daily(int days) {
        String[] labels = new String[days];
        double[] actual = new double[days], predicted = new double[days], baseline = new double[days];
        LocalDate d = LocalDate.of(1997, 3, 14);
        for (int i = 0; i < days; i++) {
            labels[i] = d.toString();
            actual[i] = 3000 + 8 * i + 100 * Math.sin(i / 5.0);
            predicted[i] = actual[i] + (i % 2 == 0 ? 30 : -10);
            baseline[i] = i == 0 ? actual[0] : actual[i - 1];
            d = d.plusDays(d.getDayOfWeek().getValue() == 5 ? 3 : 1); // weekdays only
        }
        return new Evaluation.Forecast(labels, actual, predicted, baseline);
    }

    @Test
    void aLongDailyForecastIsAWindowPlusItsErrorOverEveryDay(@TempDir Path dir) throws Exception {
        Evaluation.Forecast f = daily(372);
        Evaluation.Forecast window = ExampleCharts.last(f, TrainCommand.FORECAST_WINDOW_DAYS);
        assertEquals(60, window.labels().length);
        assertEquals(f.labels()[371], window.labels()[59]);
        assertEquals(f.labels()[312], window.labels()[0]);

        LineChart error = ExampleCharts.forecastErrorChart("stocks", "prediction - actual", f, "random-walk");
        LineChart.Series model = error.series().get(0), base = error.series().get(1);
        assertEquals(372, model.y().length, "the error covers every held-out day");
        for (int i = 0; i < 372; i++) {
            assertEquals(f.predicted()[i] - f.actual()[i], model.y()[i], 1e-9);
            assertEquals(f.baseline()[i] - f.actual()[i], base.y()[i], 1e-9);
            assertEquals((double) LocalDate.parse(f.labels()[i]).toEpochDay(), model.x()[i]);
        }
        // RMSE of +30/-10 alternating: sqrt((900 + 100) / 2) = 22.361
        assertTrue(model.name().contains("rmse 22.361"), model.name());
        assertTrue(error.series().stream().anyMatch(s -> s.name().isEmpty() && s.y()[0] == 0 && s.y()[1] == 0),
                "a zero line, out of the legend");
        assertNoLabelsTouch(error);

        Path png = dir.resolve("forecast.png");
        ExampleCharts.dailyForecast(png, "stocks: the last 60 days", "DAX", window, "random-walk");
        assertEquals(1000, ImageIO.read(png.toFile()).getWidth());
    }

    @Test
    void monthlyAndDailyAxesLabelDatesWithoutOverlap() {
        Evaluation.Forecast f = daily(372);
        LineChart error = ExampleCharts.forecastErrorChart("stocks", "error", f, "random-walk");
        for (LineChart.Placed t : error.layout().xTicks()) {
            assertTrue(t.tick().label().matches("\\d{4}-\\d{2}"), "a year of days is labelled by months: " + t);
        }
        LineChart curve = TrainingCharts.learningCurveChart("long", "mse", java.util.Collections.nCopies(300, 1.0),
                "mse", java.util.Collections.nCopies(300, 0.5), true, "b", 2.0);
        assertNoLabelsTouch(curve);
    }
}
