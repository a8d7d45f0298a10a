package jlstm.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * One benchmark row; the JSON keys ({@code device, T, B, I, H, L, forward_ms, train_ms,
 * forward_gflops, train_gflops}) are shared with {@code benchmarks/torch_anchor.py} and the oneDNN
 * peer. {@code forward_ms} and {@code train_ms} are the medians of the timed repetitions; the
 * optional {@link Spread} adds their fastest and slowest ({@code forward_ms_min, forward_ms_max,
 * train_ms_min, train_ms_max}) and their count ({@code reps}), so that a reader can tell how far
 * the repetitions of one run moved. Rows read from files without those keys have a null spread.
 */
record BenchResult(String device, BenchShape shape, double forwardMs, double trainMs,
                   double forwardGflops, double trainGflops, Spread spread) {

    /** The fastest and slowest timed repetition of each pass (ms), and how many there were. */
    record Spread(double forwardMinMs, double forwardMaxMs, double trainMinMs, double trainMaxMs, int reps) {
    }

    /** A row without a spread (read from a file that lacks the keys). */
    BenchResult(String device, BenchShape shape, double forwardMs, double trainMs, double forwardGflops,
                double trainGflops) {
        this(device, shape, forwardMs, trainMs, forwardGflops, trainGflops, null);
    }

    JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("device", device);
        o.addProperty("T", shape.steps());
        o.addProperty("B", shape.batch());
        o.addProperty("I", shape.inputSize());
        o.addProperty("H", shape.hiddenSize());
        o.addProperty("L", shape.layers());
        o.addProperty("forward_ms", forwardMs);
        o.addProperty("train_ms", trainMs);
        o.addProperty("forward_gflops", forwardGflops);
        o.addProperty("train_gflops", trainGflops);
        if (spread != null) {
            o.addProperty("forward_ms_min", spread.forwardMinMs());
            o.addProperty("forward_ms_max", spread.forwardMaxMs());
            o.addProperty("train_ms_min", spread.trainMinMs());
            o.addProperty("train_ms_max", spread.trainMaxMs());
            o.addProperty("reps", spread.reps());
        }
        return o;
    }

    static BenchResult fromJson(JsonObject o, Path source) {
        try {
            BenchShape shape = new BenchShape(o.get("T").getAsInt(), o.get("B").getAsInt(), o.get("I").getAsInt(),
                    o.get("H").getAsInt(), o.get("L").getAsInt());
            Spread spread = null;
            if (o.has("forward_ms_min") && o.has("forward_ms_max") && o.has("train_ms_min") && o.has("train_ms_max")
                    && o.has("reps")) {
                spread = new Spread(o.get("forward_ms_min").getAsDouble(), o.get("forward_ms_max").getAsDouble(),
                        o.get("train_ms_min").getAsDouble(), o.get("train_ms_max").getAsDouble(),
                        o.get("reps").getAsInt());
            }
            return new BenchResult(o.get("device").getAsString(), shape, o.get("forward_ms").getAsDouble(),
                    o.get("train_ms").getAsDouble(), o.get("forward_gflops").getAsDouble(),
                    o.get("train_gflops").getAsDouble(), spread);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(source + ": a result lacks one of the keys device, T, B, I, H, L, "
                    + "forward_ms, train_ms, forward_gflops, train_gflops: " + o);
        }
    }

    static void writeJson(List<BenchResult> results, Path file) throws IOException {
        JsonArray array = new JsonArray();
        results.forEach(r -> array.add(r.toJson()));
        Gson gson = new GsonBuilder().setPrettyPrinting().create();
        jlstm.internal.io.AtomicFiles.write(file, (gson.toJson(array) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    static List<BenchResult> readJson(Path file) throws IOException {
        List<BenchResult> results = new ArrayList<>();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonElement root = JsonParser.parseReader(in);
            if (!root.isJsonArray()) {
                throw new IllegalArgumentException(file + ": expected a JSON array of results");
            }
            for (JsonElement e : root.getAsJsonArray()) {
                results.add(fromJson(e.getAsJsonObject(), file));
            }
        } catch (com.google.gson.JsonParseException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage());
        }
        return results;
    }

    static String table(List<BenchResult> results) {
        return table(results, false);
    }

    /**
     * The results table; with {@code spread}, each pass's median is followed by the fastest and
     * slowest repetition ("min-max"), blank for a row without a spread.
     */
    static String table(List<BenchResult> results, boolean spread) {
        if (!spread) {
            StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-13s %-34s %12s %10s %12s %10s%n",
                    "device", "shape", "forward ms", "GFLOP/s", "train ms", "GFLOP/s"));
            for (BenchResult r : results) {
                out.append(String.format(Locale.ROOT, "%-13s %-34s %12.2f %10.2f %12.2f %10.2f%n", r.device(),
                        r.shape(), r.forwardMs(), r.forwardGflops(), r.trainMs(), r.trainGflops()));
            }
            return out.toString();
        }
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-13s %-34s %12s %19s %10s %12s %19s %10s%n",
                "device", "shape", "forward ms", "min-max", "GFLOP/s", "train ms", "min-max", "GFLOP/s"));
        for (BenchResult r : results) {
            Spread s = r.spread();
            out.append(String.format(Locale.ROOT, "%-13s %-34s %12.2f %19s %10.2f %12.2f %19s %10.2f%n", r.device(),
                    r.shape(), r.forwardMs(), s == null ? "" : range(s.forwardMinMs(), s.forwardMaxMs()),
                    r.forwardGflops(), r.trainMs(), s == null ? "" : range(s.trainMinMs(), s.trainMaxMs()),
                    r.trainGflops()));
        }
        return out.toString();
    }

    private static String range(double min, double max) {
        return String.format(Locale.ROOT, "%.2f-%.2f", min, max);
    }
}
