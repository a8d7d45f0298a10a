package jlstm.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/** The bench chart: GFLOP/s per shape, one bar per engine and pass (forward, train). */
final class BenchChart {
    private BenchChart() {
    }

    /** Our rows say "cpu" / "cuda"; in a chart beside peers they read "jlstm cpu". */
    private static String engineName(String device) {
        return device.equals("cpu") || device.equals("cuda") ? "jlstm " + device : device;
    }

    static void write(List<BenchResult> results, Path file) throws IOException {
        Set<String> labels = new LinkedHashSet<>();
        Map<String, Map<String, Double>> series = new LinkedHashMap<>();
        for (BenchResult r : results) {
            labels.add(r.shape().label());
        }
        for (BenchResult r : results) {
            String engine = engineName(r.device());
            series.computeIfAbsent(engine + " forward", k -> new LinkedHashMap<>()).put(r.shape().label(), r.forwardGflops());
            series.computeIfAbsent(engine + " train", k -> new LinkedHashMap<>()).put(r.shape().label(), r.trainGflops());
        }
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(560)
                .title("LSTM throughput per shape (T,B,I,H,L); train = forward + backward, counted as 3x forward FLOPs").xAxisTitle("shape T,B,I,H,L").yAxisTitle("GFLOP/s").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setOverlapped(false);
        List<String> x = new ArrayList<>(labels);
        for (Map.Entry<String, Map<String, Double>> e : series.entrySet()) {
            List<Double> y = new ArrayList<>();
            for (String label : x) {
                y.add(e.getValue().getOrDefault(label, 0.0));
            }
            chart.addSeries(e.getKey(), x, y);
        }
        TrainingCharts.savePng(chart, file);
    }
}
