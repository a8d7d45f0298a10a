package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * {@code bench --json}: every row keeps the shared keys (benchmarks/ratio_table.py and the peers read
 * them) and adds the spread of its timed repetitions: {@code forward_ms_min <= forward_ms <=
 * forward_ms_max}, the same for train, and {@code reps}; {@code --spread} prints the spread.
 */
class BenchJsonTest {
    private static final List<String> SHARED = List.of("device", "T", "B", "I", "H", "L", "forward_ms", "train_ms",
            "forward_gflops", "train_gflops");
    private static final List<String> SPREAD = List.of("forward_ms_min", "forward_ms_max", "train_ms_min",
            "train_ms_max", "reps");

    @TempDir
    Path dir;

    @Test
    void jsonRowsCarryTheSpreadOfTheirRepetitions() throws IOException {
        Path json = dir.resolve("bench.json");
        CommandRun.Outcome o = CommandRun.execute("bench", "--device", "cpu", "--shape", "3,2,4,8,1", "--shape",
                "2,1,3,5,2", "--reps", "6", "--warmup", "0", "--spread", "--json", json.toString());
        assertEquals(0, o.status(), o.err());
        JsonArray rows = JsonParser.parseString(Files.readString(json, StandardCharsets.UTF_8)).getAsJsonArray();
        assertEquals(2, rows.size(), rows.toString());
        for (var e : rows) {
            JsonObject row = e.getAsJsonObject();
            for (String key : SHARED) {
                assertTrue(row.has(key), "missing " + key + ": " + row);
            }
            for (String key : SPREAD) {
                assertTrue(row.has(key), "missing " + key + ": " + row);
            }
            assertEquals(6, row.get("reps").getAsInt(), row.toString());
            for (String pass : new String[] {"forward", "train"}) {
                double min = row.get(pass + "_ms_min").getAsDouble(), median = row.get(pass + "_ms").getAsDouble();
                double max = row.get(pass + "_ms_max").getAsDouble();
                assertTrue(0 < min && min <= median && median <= max, pass + ": " + row);
            }
        }
        // --spread: a min-max column beside each pass's median, the row's own numbers
        String header = o.out().lines().filter(l -> l.startsWith("device")).findFirst().orElseThrow();
        assertEquals(2, header.split("min-max", -1).length - 1, header);
        JsonObject first = rows.get(0).getAsJsonObject();
        String row = o.out().lines().filter(l -> l.startsWith("cpu ")).findFirst().orElseThrow();
        assertTrue(row.contains(String.format(java.util.Locale.ROOT, "%.2f-%.2f",
                first.get("forward_ms_min").getAsDouble(), first.get("forward_ms_max").getAsDouble())), row);
        // and the file reads back with its spread (bench --include)
        List<BenchResult> back = BenchResult.readJson(json);
        assertNotNull(back.get(0).spread());
        assertEquals(first.get("train_ms_max").getAsDouble(), back.get(0).spread().trainMaxMs());
    }

    @Test
    void theDefaultTableHasNoSpreadColumns() {
        CommandRun.Outcome o = CommandRun.execute("bench", "--device", "cpu", "--shape", "3,2,4,8,1", "--reps", "1",
                "--warmup", "0");
        assertEquals(0, o.status(), o.err());
        assertTrue(!o.out().contains("min-max"), o.out());
    }

    @Test
    void aFileWithoutTheSpreadKeysStillReads() throws IOException {
        Path json = dir.resolve("old.json");
        Files.writeString(json, "[{\"device\": \"torch-cpu\", \"T\": 3, \"B\": 2, \"I\": 4, \"H\": 8, \"L\": 1, "
                + "\"forward_ms\": 1.5, \"train_ms\": 4.0, \"forward_gflops\": 0.1, \"train_gflops\": 0.2}]");
        List<BenchResult> rows = BenchResult.readJson(json);
        assertEquals(1.5, rows.get(0).forwardMs());
        assertNull(rows.get(0).spread());
        assertTrue(BenchResult.table(rows, true).lines().anyMatch(l -> l.startsWith("torch-cpu")));
    }

    @Test
    void timingIsTheMedianFastestAndSlowest() {
        assertEquals(new BenchCommand.Timing(3, 1, 9), BenchCommand.Timing.of(new double[] {9, 1, 3, 4, 2}));
        assertEquals(new BenchCommand.Timing(3.5, 1, 9), BenchCommand.Timing.of(new double[] {9, 1, 3, 4, 2, 6}));
        assertEquals(new BenchCommand.Timing(7, 7, 7), BenchCommand.Timing.of(new double[] {7}));
    }
}
