package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.Safetensors;

/**
 * The commands never lose data and fail the same way: {@code run} and {@code train} refuse to
 * write over their inputs however the path is spelled; every failure is one {@code error:} line
 * (a bad option adds one usage line, never the whole help), a non-zero exit, and no partial file
 * or empty folder left behind; a shape too large for the heap is refused up front with the -Xmx
 * to use.
 */
class CliSafetyTest {
    @TempDir
    Path dir;
    Path model;
    Path input;
    byte[] modelBytes;
    byte[] inputBytes;

    @BeforeEach
    void files() throws IOException {
        model = dir.resolve("model.safetensors");
        input = dir.resolve("input.safetensors");
        LstmParameters.initialize(LstmConfig.of(3, 4), 1).save(model);
        Safetensors.write(input, Map.of("x", Tensor.zeros(2, 1, 3)), null);
        modelBytes = Files.readAllBytes(model);
        inputBytes = Files.readAllBytes(input);
    }

    static CliTest.Result execute(String... args) {
        return CliTest.execute(args);
    }

    private CliTest.Result runTo(String output) {
        return execute("run", "--model", model.toString(), "--input", input.toString(), "--output", output,
                "--device", "cpu");
    }

    private void assertOneErrorLine(CliTest.Result r, String... parts) {
        assertNotEquals(0, r.status(), "should fail: " + r.out());
        List<String> lines = r.err().lines().filter(l -> !l.startsWith("INFO: ")).toList();
        assertEquals(1, lines.size(), "one error line expected, got:\n" + r.err());
        assertTrue(lines.get(0).startsWith("error: "), r.err());
        for (String part : parts) {
            assertTrue(lines.get(0).contains(part), "expected '" + part + "' in: " + r.err());
        }
    }

    @Test
    void runRefusesToWriteOverItsModelOrInputHoweverSpelled() throws IOException {
        Files.createDirectory(dir.resolve("sub"));
        Path link = Files.createSymbolicLink(dir.resolve("link.safetensors"), model.getFileName());
        Path hard = Files.createLink(dir.resolve("hard.safetensors"), input);
        for (String output : List.of(model.toString(), input.toString(), dir.resolve("sub/../model.safetensors")
                .toString(), link.toString(), hard.toString(), dir.relativize(dir).resolve(model).toString())) {
            CliTest.Result r = runTo(output);
            assertOneErrorLine(r, "is the same file as", "choose another --output");
            assertArrayEquals(modelBytes, Files.readAllBytes(model), "model changed by: run --output " + output);
            assertArrayEquals(inputBytes, Files.readAllBytes(input), "input changed by: run --output " + output);
        }
        assertEquals(0, runTo(dir.resolve("out.safetensors").toString()).status());
    }

    @Test
    void foldersWhereFilesBelongAreNamedBeforeAnyWork() {
        assertOneErrorLine(runTo(dir.toString()), "--output " + dir + " is a folder");
        assertOneErrorLine(execute("run", "--model", dir.toString(), "--input", input.toString(), "--output",
                dir.resolve("o.safetensors").toString()), "is a folder, not a safetensors file");
        long start = System.nanoTime();
        assertOneErrorLine(execute("bench", "--device", "cpu", "--json", dir.resolve("no/such/r.json").toString()),
                "--json: folder", "does not exist");
        assertTrue((System.nanoTime() - start) / 1e9 < 10, "bench must check its outputs before timing");
    }

    @Test
    void trainRefusesToReplaceTheCheckpointItResumes() throws IOException {
        Path run1 = dir.resolve("run1");
        String[] tiny = {"--epochs", "1", "--hidden", "4", "--seq-len", "5", "--samples", "32", "--batch", "16",
                "--device", "cpu"};
        String[] first = Stream.concat(Stream.of("train", "--out", run1.toString()), Stream.of(tiny))
                .toArray(String[]::new);
        assertEquals(0, execute(first).status());
        Path checkpoint = run1.resolve("checkpoint.safetensors");
        byte[] before = Files.readAllBytes(checkpoint);
        CliTest.Result r = execute("train", "--resume", checkpoint.toString(), "--out", run1.toString(), "--epochs", "1",
                "--device", "cpu");
        assertOneErrorLine(r, "same file as --resume", "choose another --out");
        assertArrayEquals(before, Files.readAllBytes(checkpoint));
    }

    @Test
    void trainOutThatIsAFileIsAClearOptionError() throws IOException {
        Path file = Files.writeString(dir.resolve("notes.txt"), "keep me");
        CliTest.Result r = execute("train", "--out", file.toString(), "--epochs", "1");
        assertNotEquals(0, r.status());
        assertTrue(r.err().startsWith("error: --out " + file + " exists and is not a folder"), r.err());
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void aTrainingRunThatFailsLeavesNoFolderBehind() {
        Path out = dir.resolve("diverged");
        CliTest.Result r = execute("train", "--out", out.toString(), "--epochs", "1", "--hidden", "4", "--seq-len", "5",
                "--samples", "64", "--batch", "16", "--lr", "1e30", "--clip", "0", "--device", "cpu");
        assertOneErrorLine(r, "diverged");
        assertFalse(Files.exists(out), "a failed run left " + out);
    }

    static Stream<Arguments> badOptions() {
        return Stream.of("run --model m", "run --bogus", "train --epochs zero", "train --hidden 0", "bench --reps 0",
                "bench --shape 1,2", "frobnicate", "info --verbose").map(a -> Arguments.of(a, a.split(" ")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badOptions")
    void badOptionsPrintOneErrorAndOneUsageLine(String line, String[] args) {
        CliTest.Result r = execute(args);
        assertEquals(2, r.status(), r.err());
        List<String> lines = r.err().lines().toList();
        assertEquals(2, lines.size(), "an error line and a usage line expected:\n" + r.err());
        assertTrue(lines.get(0).startsWith("error: "), r.err());
        assertTrue(lines.get(1).startsWith("usage: jlstm") && lines.get(1).contains("--help"), r.err());
        assertEquals("", r.out(), "the help must not be printed");
    }

    /**
     * An input whose x (1.5·10⁹ floats, 6 GB, in a sparse file) cannot fit the test's 4 GiB heap:
     * refused before any allocation, with how much is needed and the -Xmx to use, no stack trace,
     * no output file.
     */
    @Test
    void anInputTooLargeForTheHeapIsRefusedWithTheXmxToUse() throws IOException {
        long n = 1_500_000_000L;
        String header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1500000,1000,1],\"data_offsets\":[0," + 4 * n + "]}}";
        Path big = dir.resolve("big.safetensors");
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            raf.setLength(8 + h.length + 4 * n);
        }
        LstmParameters.initialize(LstmConfig.of(1, 4), 1).save(model);
        Path out = dir.resolve("out.safetensors");
        CliTest.Result r = execute("run", "--model", model.toString(), "--input", big.toString(), "--output",
                out.toString(), "--device", "cpu");
        assertOneErrorLine(r, "not enough memory", "tensor 'x'", "-Xmx");
        assertFalse(Files.exists(out));
    }
}
