package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import jlstm.internal.Backends;
import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.DType;
import jlstm.io.Safetensors;
import jlstm.io.SafetensorsEntry;

/**
 * The command line: {@code --help} and {@code info} work, {@code run} succeeds on good files, and
 * every bad input makes {@code run} exit non-zero with {@code error: <clear message>} on stderr
 * (naming the file, and the tensor where one is at fault) and leaves nothing in the output folder.
 */
class CliTest {
    /** The model of every run here: I=3, H=4, L=2, D=2; so x [T, B, 3], h0 [4, B, 4], y and dy [T, B, 8]. */
    private static final LstmConfig CONFIG = LstmConfig.of(3, 4).withLayers(2).withBidirectional(true);

    @TempDir
    Path dir;
    Path model;
    Path input;
    Path outDir;
    Path output;

    /** What one command line printed and returned. */
    record Result(int status, String out, String err) {
    }

    static Result execute(String... args) {
        PrintStream originalOut = System.out, originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = Main.execute(args);
            return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    @BeforeEach
    void writeGoodFiles() throws IOException {
        model = dir.resolve("model.safetensors");
        input = dir.resolve("input.safetensors");
        outDir = Files.createDirectory(dir.resolve("out"));
        output = outDir.resolve("result.safetensors");
        LstmParameters.initialize(CONFIG, 3).save(model);
        writeInput(goodInput());
    }

    /** x [5, 2, 3], h0 [4, 2, 4], dy [5, 2, 8], with small non-zero values. */
    private static Map<String, Tensor> goodInput() {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("x", filled(0.1f, 5, 2, 3));
        in.put("h0", filled(-0.2f, 4, 2, 4));
        in.put("dy", filled(0.3f, 5, 2, 8));
        return in;
    }

    private static Tensor filled(float value, int... shape) {
        Tensor t = Tensor.zeros(shape);
        Arrays.fill(t.data(), value);
        return t;
    }

    private void writeInput(Map<String, Tensor> tensors) throws IOException {
        Safetensors.write(input, tensors, null);
    }

    /** {@code run} on the good files; {@code extra} options replace the defaults or add flags. */
    private Result run(String... extra) {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("--model", model.toString());
        options.put("--input", input.toString());
        options.put("--output", output.toString());
        options.put("--device", "cpu");
        for (int i = 0; i < extra.length; i++) {
            boolean hasValue = i + 1 < extra.length && !extra[i + 1].startsWith("--");
            options.put(extra[i], hasValue ? extra[++i] : null);
        }
        List<String> args = new ArrayList<>(List.of("run"));
        options.forEach((option, value) -> {
            args.add(option);
            if (value != null) {
                args.add(value);
            }
        });
        return execute(args.toArray(String[]::new));
    }

    private List<Path> outputFolder() throws IOException {
        try (Stream<Path> s = Files.list(outDir)) {
            return s.toList();
        }
    }

    // --- what works ---

    @Test
    void helpListsTheCommands() {
        Result r = execute("--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("run") && r.out().contains("info"), r.out());
        Result runHelp = execute("run", "--help");
        assertEquals(0, runHelp.status());
        for (String option : List.of("--model", "--input", "--output", "--device", "--batch-first")) {
            assertTrue(runHelp.out().contains(option), option + " missing from: " + runHelp.out());
        }
    }

    @Test
    void infoNamesEveryBackendAndWhyOneIsUnavailable() {
        Result r = execute("info");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("java"), r.out());
        assertTrue(r.out().contains("cpu") && r.out().contains("available"), r.out());
        String cuda = Backends.cuda().availability().detail();
        assertTrue(r.out().contains("cuda") && r.out().contains(cuda), r.out());
    }

    @Test
    void runWritesExactlyTheOutputFile() throws IOException {
        Result r = run();
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of(output), outputFolder());
        Set<String> names = Safetensors.read(output).entries().keySet();
        assertTrue(names.containsAll(List.of("y", "hn", "cn", "dx", "dh0", "grad.weight_ih_l0",
                "grad.bias_hh_l1_reverse")), names.toString());
        assertFalse(names.contains("dc0"), "dc0 is written only when c0 was given: " + names);
    }

    @Test
    void missingRequiredOptionIsAUsageError() {
        Result r = execute("run", "--model", model.toString());
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("Missing required option"), r.err());
    }

    // --- what fails, clearly, leaving nothing behind ---

    /** Breaks the good files in one way and returns extra command-line arguments. */
    interface Breakage {
        List<String> apply(CliTest t) throws IOException;
    }

    static Arguments bad(String name, Breakage breakage, String... expected) {
        return Arguments.of(Named.of(name, breakage), List.of(expected));
    }

    static Stream<Arguments> badInputs() {
        String okHeader = "{\"x\":{\"dtype\":\"F32\",\"shape\":[5,2,3],\"data_offsets\":[0,120]}}";
        return Stream.of(
                bad("missing model file", t -> {
                    Files.delete(t.model);
                    return List.of();
                }, "file not found", "model.safetensors"),
                bad("truncated model file", t -> {
                    byte[] all = Files.readAllBytes(t.model);
                    Files.write(t.model, Arrays.copyOf(all, all.length - 10));
                    return List.of();
                }, "model.safetensors", "past the end"),
                bad("model shorter than the header length field", t -> {
                    Files.write(t.model, new byte[5]);
                    return List.of();
                }, "model.safetensors", "truncated"),
                bad("header length past the end", t -> {
                    Files.write(t.input, raw(okHeader, 120, 4096));
                    return List.of();
                }, "input.safetensors", "header length 4096", "runs past the end"),
                bad("invalid JSON", t -> {
                    Files.write(t.input, raw("{\"x\":{\"dtype\":", 0));
                    return List.of();
                }, "input.safetensors", "invalid JSON"),
                bad("offsets out of range", t -> {
                    Files.write(t.input, raw(okHeader, 100));
                    return List.of();
                }, "input.safetensors", "'x'", "past the end"),
                bad("overlapping offsets", t -> {
                    Files.write(t.input, raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[5,2,3],\"data_offsets\":[0,120]},"
                            + "\"h0\":{\"dtype\":\"F32\",\"shape\":[4,2,4],\"data_offsets\":[100,228]}}", 228));
                    return List.of();
                }, "input.safetensors", "'h0'", "overlap"),
                bad("unknown dtype", t -> {
                    Files.write(t.input, raw(okHeader.replace("F32", "Q7"), 120));
                    return List.of();
                }, "input.safetensors", "'x'", "unknown or unsupported dtype 'Q7'"),
                bad("byte count not shape times dtype size", t -> {
                    Files.write(t.input, raw(okHeader.replace("[5,2,3]", "[5,2,4]"), 120));
                    return List.of();
                }, "input.safetensors", "'x'", "needs 160 bytes"),
                bad("duplicate names", t -> {
                    Files.write(t.input, raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                            + "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8));
                    return List.of();
                }, "input.safetensors", "duplicate tensor name 'x'"),
                bad("integer x", t -> {
                    Safetensors.writeEntries(t.input, List.of(new SafetensorsEntry("x", DType.I32, new int[] {5, 2, 3},
                            new byte[120])), null);
                    return List.of();
                }, "input.safetensors", "'x'", "F32"),
                bad("model missing bias_hh_l0", t -> {
                    t.saveModelWithout("bias_hh_l0");
                    return List.of();
                }, "model.safetensors", "missing tensor 'bias_hh_l0'"),
                bad("model with a wrong shape", t -> {
                    Map<String, Tensor> m = t.modelTensors();
                    m.put("weight_hh_l1", Tensor.zeros(16, 3));
                    Safetensors.write(t.model, m, null);
                    return List.of();
                }, "model.safetensors", "'weight_hh_l1' has shape [16, 3], expected [16, 4]"),
                bad("model missing a layer", t -> {
                    Map<String, Tensor> m = new LinkedHashMap<>(
                            LstmParameters.initialize(LstmConfig.of(3, 4).withLayers(3), 1).asMap());
                    m.keySet().removeIf(n -> n.endsWith("_l1"));
                    Safetensors.write(t.model, m, null);
                    return List.of();
                }, "model.safetensors", "missing tensor 'weight_ih_l1'"),
                bad("model with _reverse for some layers only", t -> {
                    Map<String, Tensor> m = t.modelTensors();
                    m.keySet().removeIf(n -> n.endsWith("_l1_reverse"));
                    Safetensors.write(t.model, m, null);
                    return List.of();
                }, "model.safetensors", "missing tensor 'weight_ih_l1_reverse'"),
                bad("x with the wrong input size", t -> {
                    t.writeInputWith("x", Tensor.zeros(5, 2, 4));
                    return List.of();
                }, "input.safetensors", "x has shape [5, 2, 4]"),
                bad("h0 with the wrong shape", t -> {
                    t.writeInputWith("h0", Tensor.zeros(2, 2, 4));
                    return List.of();
                }, "input.safetensors", "h0 has shape [2, 2, 4]", "expected [4, 2, 4]"),
                bad("c0 with the wrong batch", t -> {
                    t.writeInputWith("c0", Tensor.zeros(4, 3, 4));
                    return List.of();
                }, "input.safetensors", "c0 has shape [4, 3, 4]"),
                bad("dy with the wrong shape", t -> {
                    t.writeInputWith("dy", Tensor.zeros(5, 2, 4));
                    return List.of();
                }, "input.safetensors", "dy has shape [5, 2, 4]", "expected [5, 2, 8]"),
                bad("dhn with the wrong shape", t -> {
                    t.writeInputWith("dhn", Tensor.zeros(4, 2, 5));
                    return List.of();
                }, "input.safetensors", "dhn has shape [4, 2, 5]"),
                bad("batch-first flag with time-major files", t -> List.of("--batch-first"),
                        "input.safetensors", "h0 has shape [4, 2, 4]", "expected [4, 5, 4]"),
                bad("input without x", t -> {
                    Map<String, Tensor> in = goodInput();
                    in.remove("x");
                    t.writeInput(in);
                    return List.of();
                }, "input.safetensors", "missing tensor 'x'"),
                bad("input with an unknown tensor", t -> {
                    t.writeInputWith("h_0", Tensor.zeros(4, 2, 4));
                    return List.of();
                }, "input.safetensors", "unexpected tensor(s) [h_0]"),
                bad("dhn without dy", t -> {
                    Map<String, Tensor> in = goodInput();
                    in.remove("dy");
                    in.put("dhn", Tensor.zeros(4, 2, 4));
                    t.writeInput(in);
                    return List.of();
                }, "input.safetensors", "without dy"),
                bad("unknown device", t -> List.of("--device", "tpu"), "unknown device 'tpu'"),
                bad("output folder missing", t -> List.of("--output", t.outDir.resolve("sub/result.safetensors")
                        .toString()), "does not exist"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void badInputFailsClearlyAndLeavesNoOutput(Breakage breakage, List<String> expected) throws IOException {
        List<String> extra = breakage.apply(this);
        Result r = run(extra.toArray(String[]::new));
        assertNotEquals(0, r.status(), "run must fail; stderr: " + r.err());
        assertTrue(r.err().startsWith("error: "), "stderr must start with 'error: ', got: " + r.err());
        for (String part : expected) {
            assertTrue(r.err().contains(part), "expected '" + part + "' in stderr: " + r.err());
        }
        assertFalse(r.err().contains("\tat "), "no stack trace without -Djlstm.debug: " + r.err());
        assertEquals(List.of(), outputFolder(), "a failed run must leave nothing in the output folder");
    }

    @Test
    void aFailedRunKeepsAnExistingOutputFileUntouched() throws IOException {
        Files.writeString(output, "previous result");
        writeInputWith("dy", Tensor.zeros(5, 2, 4));
        Result r = run();
        assertNotEquals(0, r.status());
        assertEquals(List.of(output), outputFolder());
        assertEquals("previous result", Files.readString(output));
    }

    @Test
    void cudaWhenUnavailableFailsWithTheReason() throws IOException {
        assumeFalse(Backends.cuda().availability().available(), "a usable GPU is present");
        Result r = run("--device", "cuda");
        assertNotEquals(0, r.status());
        assertTrue(r.err().startsWith("error: ") && r.err().contains(Backends.cuda().availability().detail()),
                r.err());
        assertEquals(List.of(), outputFolder());
    }

    // --- helpers for the breakages ---

    Map<String, Tensor> modelTensors() throws IOException {
        return new LinkedHashMap<>(Safetensors.readFloatTensors(model));
    }

    void saveModelWithout(String name) throws IOException {
        Map<String, Tensor> m = modelTensors();
        m.remove(name);
        Safetensors.write(model, m, null);
    }

    void writeInputWith(String name, Tensor t) throws IOException {
        Map<String, Tensor> in = goodInput();
        in.put(name, t);
        writeInput(in);
    }

    /** A hand-made file: u64 LE header length, the header text, then {@code dataBytes} zero bytes. */
    static byte[] raw(String header, int dataBytes) {
        return raw(header, dataBytes, header.getBytes(StandardCharsets.UTF_8).length);
    }

    static byte[] raw(String header, int dataBytes, long declaredHeaderLength) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(declaredHeaderLength).put(h).array();
    }
}
