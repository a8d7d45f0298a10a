package jlstm.examples;

import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.train.History;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.cli.CommandRun;

/**
 * The user docs cannot drift from the code: every Java block of README.md and docs/ is identical to
 * the marked region of a source file that a build compiles (the core's tests, or for docs/SPARK.md
 * the spark/ module's), and the blocks that run on the CPU in well under a second run here — the
 * README and API programs, API.md's layer and cell, OPTIONS.md's options, the digits cell loop
 * learns, the stocks program scores exactly what {@code train --task stocks} scores, and both tasks
 * print their result line and write their charts. GPU.md's block (GPUs 0 and 3) is compiled only.
 */
class ExamplesDocTest {
    private static final Path DOC = Path.of("docs", "EXAMPLES.md");
    private static final Pattern MARKER = Pattern.compile("<!-- example ([\\w-]+): (\\S+) -->");

    @Test
    void everyBlockOfTheDocIsTheRegionItNames() throws IOException {
        assertEquals(List.of("digits-model", "digits-loop", "stocks-program"), checkBlocks(DOC), "the blocks of " + DOC);
        assertEquals(List.of("readme-api"), checkBlocks(Path.of("README.md")), "the blocks of README.md");
        assertEquals(List.of("api-fit", "api-layer-cell", "api-views"), checkBlocks(Path.of("docs", "API.md")),
                "the blocks of docs/API.md");
        assertEquals(List.of("options-create"), checkBlocks(Path.of("docs", "OPTIONS.md")), "the blocks of docs/OPTIONS.md");
        assertEquals(List.of("gpu-create"), checkBlocks(Path.of("docs", "GPU.md")), "the blocks of docs/GPU.md");
        // Regions of the spark/ module's tests: compared here as text (the core knows nothing of Spark),
        // compiled by that module's own build (cd spark && mvn verify).
        assertEquals(List.of("spark-score", "spark-pipeline", "spark-train"), checkBlocks(Path.of("docs", "SPARK.md")),
                "the blocks of docs/SPARK.md");
    }

    /** No Java block of the user docs escapes the check above: each is a marked region. */
    @Test
    void everyJavaBlockOfTheDocsIsMarked() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(Path.of("README.md")));
        try (var docs = Files.list(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<String> unmarked = new ArrayList<>();
        for (Path page : pages) {
            List<String> lines = Files.readAllLines(page, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).strip().equals("```java") && (i == 0 || !MARKER.matcher(lines.get(i - 1)).matches())) {
                    unmarked.add(page + " line " + (i + 1));
                }
            }
        }
        assertEquals(List.of(), unmarked, "```java blocks with no <!-- example NAME: PATH --> line above them");
    }

    /** API.md's layer-and-cell block runs: layer forward, backward and lengths, then one cell step and its backward. */
    @Test
    void theApiPagesLayerAndCellBlockRuns() {
        DocSnippets.CellStep r = DocSnippets.layerAndCell();
        assertArrayEquals(new int[] {4, 16}, r.s().h().shape(), "h of the cell step [B, H]");
        assertArrayEquals(new int[] {4, 8}, r.back().dx().shape(), "dx of the cell's backward [B, I]");
        assertArrayEquals(new int[] {4, 16}, r.back().dh().shape(), "dh_prev of the cell's backward [B, H]");
        assertTrue(r.grads().asMap().containsKey("weight_hh_l0"), r.grads().asMap().keySet().toString());
    }

    /** OPTIONS.md's block runs (a layer with 4 CPU threads and 2 engines at most). */
    @Test
    void theOptionsPagesBlockRuns() {
        DocSnippets.engineOptions(LstmParameters.initialize(LstmConfig.of(8, 16), 1), Tensor.zeros(5, 2, 8));
    }

    /** The README's program trains, validates, saves and reloads (and so prints what the README says it does). */
    @Test
    void theReadmeProgramRuns() throws Exception {
        java.io.PrintStream original = System.out;
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            ReadmeProgram.main(new String[0]);
        } finally {
            System.setOut(original);
        }
        List<String> lines = printed.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), lines.toString());
        Matcher m = Pattern.compile("validation mse (\\S+) after (\\d+) epochs").matcher(lines.get(0));
        assertTrue(m.matches(), lines.get(0));
        // Always answering 1.0 scores about 0.17 on the adding problem; 10 short epochs get well below.
        assertTrue(Double.parseDouble(m.group(1)) < 0.1, lines.get(0));
        assertTrue(Integer.parseInt(m.group(2)) >= 4, "epochs run: " + lines.get(0));
        assertEquals("prediction [200, 1], the same after reloading: true", lines.get(1));
    }

    /**
     * README's block is a whole program: compiled as shown, alone, outside the library's packages
     * and against the library's classes only, it builds (its imports are all there and it uses
     * nothing package-private).
     */
    @Test
    void theReadmeBlockCompilesAsShown(@TempDir Path dir) throws Exception {
        List<String> lines = Files.readAllLines(Path.of("README.md"), StandardCharsets.UTF_8);
        int marker = lines.indexOf("<!-- example readme-api: src/test/java/jlstm/examples/ReadmeProgram.java -->");
        assertTrue(marker >= 0, "README.md has no readme-api block");
        int end = lines.subList(marker + 2, lines.size()).indexOf("```") + marker + 2;
        List<String> block = lines.subList(marker + 2, end);
        assertTrue(block.stream().anyMatch(l -> l.startsWith("import jlstm.")), "the block states its imports");
        Path source = dir.resolve("ReadmeProgram.java");
        Files.write(source, block, StandardCharsets.UTF_8);
        Path library = Path.of(jlstm.Device.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        java.io.StringWriter messages = new java.io.StringWriter();
        javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
        boolean ok = javac.getTask(messages, null, null, List.of("-classpath", library.toString(), "-d",
                dir.resolve("classes").toString(), "-proc:none"), null, javac.getStandardFileManager(null, null,
                StandardCharsets.UTF_8).getJavaFileObjects(source)).call();
        assertTrue(ok, "README's block does not compile as shown:\n" + messages);
        assertTrue(Files.exists(dir.resolve("classes").resolve("ReadmeProgram.class")));
    }

    /** The API page's fit example runs. */
    @Test
    void theApiPagesFitExampleRuns() {
        jlstm.train.History h = ApiFitProgram.run();
        assertTrue(h.validationLoss().stream().allMatch(Double::isFinite), h.toString());
    }

    /** Checks each marked block of a Markdown file against its source region; returns the names checked. */
    private static List<String> checkBlocks(Path doc) throws IOException {
        List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
        List<String> checked = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = MARKER.matcher(lines.get(i));
            if (!m.matches()) {
                continue;
            }
            String name = m.group(1);
            assertEquals("```java", lines.get(i + 1), doc + " line " + (i + 2) + ": a ```java block must follow " + name);
            int end = i + 2;
            while (end < lines.size() && !lines.get(end).equals("```")) {
                end++;
            }
            List<String> shown = lines.subList(i + 2, end);
            List<String> source = region(Path.of(m.group(2)), name);
            if (!shown.equals(source)) {
                fail(doc + ": the block '" + name + "' differs from its region in " + m.group(2)
                        + " (run python3 tools/update_examples_doc.py after checking the change); first difference: "
                        + firstDifference(shown, source));
            }
            checked.add(name);
        }
        return checked;
    }

    @Test
    void theDigitsCellLoopLearns() {
        DigitsExample.Result r = DigitsExample.run(HandwrittenDigits.load(), new DigitsExample.Options(3, 32, 32, 0.01, 1, 0.3, 0), null);
        // 3 epochs of 25 (full runs reach 0.94-0.965): well above the 0.1 of guessing, not yet at the target.
        assertTrue(r.accuracy() > 0.5, "held-out accuracy after 3 epochs: " + r.accuracy());
        assertTrue(r.baseline() < 0.15, "the majority-class baseline: " + r.baseline());
        assertEquals(400, r.scored());
    }

    @Test
    void theStocksProgramScoresWhatTheTrainCommandScores(@TempDir Path dir) {
        Evaluation e = StocksProgram.run(2, 1);
        CommandRun.Outcome o = CommandRun.execute("train", "--task", "stocks", "--epochs", "2", "--seed", "1", "--device", "cpu", "--out",
                dir.toString());
        assertEquals(0, o.status(), o.err());
        Matcher m = Pattern.compile("result: task=stocks device=cpu metric=rmse value=([0-9.]+) baseline=([0-9.]+)")
                .matcher(o.lastLine());
        assertTrue(m.matches(), o.lastLine());
        // The command prints 5 significant digits (0.001 of an RMSE near 63).
        assertEquals(Double.parseDouble(m.group(1)), e.value(), 0.0011, "the doc's program and train --task stocks");
        assertEquals(Double.parseDouble(m.group(2)), e.baseline(), 0.0011, "random walk");
        assertEquals(62.99, e.baseline(), 0.005, "the random walk on the held-out days (the issue's 63.0)");
        assertTrue(e.value() < 1.1 * e.baseline(), "more than 10 % worse than the random walk is a bug: " + e.value());
        assertTrue(o.out().contains("validation rmse"), o.out());
        for (String chart : List.of("learning-curve.png", "forecast.png", "forecast-error.png")) {
            assertTrue(Files.exists(dir.resolve(chart)), chart);
        }
    }

    @Test
    void theDigitsTaskPrintsItsResultLineAndWritesItsCharts(@TempDir Path dir) throws IOException {
        CommandRun.Outcome o = CommandRun.execute("train", "--task", "digits", "--epochs", "1", "--hidden", "16", "--out", dir.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.lastLine().matches(
                "result: task=digits device=cpu metric=accuracy value=[0-9.]+ baseline=0\\.0975"), o.lastLine());
        for (String file : List.of("learning-curve.png", "confusion-matrix.png", "checkpoint.safetensors")) {
            assertTrue(Files.size(dir.resolve(file)) > 500, file);
        }
        CommandRun.Outcome cuda = CommandRun.execute("train", "--task", "digits", "--device", "cuda", "--out", dir.toString());
        assertEquals(2, cuda.status());
        assertTrue(cuda.err().contains("--task digits runs on the CPU: its LstmCell loop steps one row"), cuda.err());
        CommandRun.Outcome layers = CommandRun.execute("train", "--task", "digits", "--layers", "2", "--out", dir.toString());
        assertTrue(layers.err().contains("--layers does not apply to --task digits"), layers.err());
    }

    /**
     * The lines between {@code // [example NAME]} and {@code // [end]}, common indentation removed; a
     * region given in several parts (each opened by the same line, e.g. an import line at the top of
     * the file and the code in a method) is its parts joined in file order.
     */
    static List<String> region(Path file, String name) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> joined = new ArrayList<>();
        int parts = 0;
        for (int start = 0; start < lines.size(); start++) {
            if (!lines.get(start).strip().equals("// [example " + name + "]")) {
                continue;
            }
            int end = start + 1;
            while (end < lines.size() && !lines.get(end).strip().equals("// [end]")) {
                end++;
            }
            assertTrue(end < lines.size(), file + ": a part of region '" + name + "' has no '// [end]'");
            List<String> body = lines.subList(start + 1, end);
            assertTrue(body.stream().noneMatch(l -> l.strip().equals("// [example " + name + "]")),
                    file + ": region '" + name + "' opens again before its '// [end]'");
            int indent = body.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
                    .min().orElse(0);
            body.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).forEach(joined::add);
            parts++;
            start = end;
        }
        assertTrue(parts > 0, file + " has no region '" + name + "'");
        return joined;
    }

    private static String firstDifference(List<String> shown, List<String> source) {
        for (int i = 0; i < Math.max(shown.size(), source.size()); i++) {
            String a = i < shown.size() ? shown.get(i) : "<end>", b = i < source.size() ? source.get(i) : "<end>";
            if (!a.equals(b)) {
                return "line " + (i + 1) + " of the block: shown '" + a + "', source '" + b + "'";
            }
        }
        return "none";
    }

}
