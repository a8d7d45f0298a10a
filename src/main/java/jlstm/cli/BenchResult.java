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
 * forward_gflops, train_gflops}) are shared with {@code benchmarks/torch_anchor.py}.
 */
record BenchResult(String device, BenchShape shape, double forwardMs, double trainMs,
                   double forwardGflops, double trainGflops) {

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
        return o;
    }

    static BenchResult fromJson(JsonObject o, Path source) {
        try {
            BenchShape shape = new BenchShape(o.get("T").getAsInt(), o.get("B").getAsInt(), o.get("I").getAsInt(),
                    o.get("H").getAsInt(), o.get("L").getAsInt());
            return new BenchResult(o.get("device").getAsString(), shape, o.get("forward_ms").getAsDouble(),
                    o.get("train_ms").getAsDouble(), o.get("forward_gflops").getAsDouble(),
                    o.get("train_gflops").getAsDouble());
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
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-13s %-34s %12s %10s %12s %10s%n",
                "device", "shape", "forward ms", "GFLOP/s", "train ms", "GFLOP/s"));
        for (BenchResult r : results) {
            out.append(String.format(Locale.ROOT, "%-13s %-34s %12.2f %10.2f %12.2f %10.2f%n", r.device(), r.shape(),
                    r.forwardMs(), r.forwardGflops(), r.trainMs(), r.trainGflops()));
        }
        return out.toString();
    }
}
