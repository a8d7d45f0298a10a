package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

/** The learning curve shows the baseline, and never puts two units on one axis. */
class TrainingChartsTest {

    @Test
    void differentUnitsGetAnAxisEachAndTheBaselineSitsWithTheMetric(@TempDir Path dir) throws Exception {
        XYChart chart = TrainingCharts.learningCurveChart("airline", "mse", List.of(0.9, 0.5, 0.3),
                "rmse (thousands of passengers)", List.of(40.0, 25.0, 18.0), false, "seasonal-naive", 50.0);
        Map<String, XYSeries> series = chart.getSeriesMap();
        assertEquals(0, series.get("training loss (mse)").getYAxisGroup());
        assertEquals(1, series.get("held-out rmse (thousands of passengers)").getYAxisGroup());
        XYSeries baseline = series.get("baseline: seasonal-naive");
        assertEquals(1, baseline.getYAxisGroup(), "the baseline is in the metric's units");
        for (double v : baseline.getYData()) {
            assertEquals(50.0, v);
        }
        assertTrue(chart.getYAxisGroupTitle(0).contains("mse") && chart.getYAxisGroupTitle(1).contains("rmse"));
        Path png = dir.resolve("curve.png");
        TrainingCharts.savePng(chart, png);
        assertTrue(Files.size(png) > 1000);
        assertEquals(List.of(png), Files.list(dir).toList(), "no temporary file left");
    }

    @Test
    void theSameUnitsShareOneAxis() {
        XYChart chart = TrainingCharts.learningCurveChart("adding", "mse", List.of(0.2, 0.1), "mse", List.of(0.15, 0.05),
                true, "always 1.0", 0.167);
        for (XYSeries s : chart.getSeriesMap().values()) {
            assertEquals(0, s.getYAxisGroup(), s.getName());
        }
        assertTrue(chart.getSeriesMap().containsKey("baseline: always 1.0"));
    }
}
