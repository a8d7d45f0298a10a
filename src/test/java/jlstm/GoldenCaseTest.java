package jlstm;

import static jlstm.TensorAssert.PYTORCH_RELATIVE_TOLERANCE;
import static jlstm.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import jlstm.cli.Main;
import jlstm.internal.Backends;
import jlstm.io.Safetensors;

/**
 * Every golden case from PyTorch (tools/make_golden.py), on one backend, through the API and
 * through the {@code run} command: every output and gradient within
 * {@link TensorAssert#PYTORCH_RELATIVE_TOLERANCE} · max(1, max|expected|). This class runs them
 * on the CPU; {@link CudaGoldenCaseTest} on the CUDA backend (the CPU stand-in without a GPU).
 */
class GoldenCaseTest {

    /** The backend the cases run on. */
    LstmBackend backend() {
        return Backends.cpu();
    }

    @Test
    void theCommittedCasesCoverTheRequiredFamilies() {
        List<String> names = GoldenCase.all().stream().map(GoldenCase::name).toList();
        for (String family : List.of("t1_b1", "input_ne_hidden", "three_layers", "bidirectional_2_layers", "no_bias",
                "h0_without_c0", "long_sequence", "batch_first", "forward_only", "lengths",
                "lengths_bidirectional_2_layers", "lengths_batch_first", "lengths_forward_only", "projection",
                "projection_3_layers_no_bias", "dropout", "dropout_bidirectional", "lengths_projection_dropout")) {
            assertTrue(names.contains(family), "missing golden case " + family + " in " + names);
        }
        GoldenCase longCase = GoldenCase.named("long_sequence");
        assertTrue(longCase.meta().get("T").getAsInt() >= 100, "the long case must have 100+ steps");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jlstm.GoldenCase#all")
    void apiMatchesPyTorch(GoldenCase golden) throws Exception {
        LstmBackend backend = usableBackend();
        Map<String, Tensor> expected = golden.expected();
        Map<String, Tensor> actual;
        try (LstmLayer layer = LstmLayer.create(golden.parameters(), backend)) {
            assertEquals(backend.name(), layer.deviceName());
            actual = golden.runThrough(layer);
        }
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor got = actual.get(e.getKey());
            assertTrue(got != null, golden + ": the API gave no '" + e.getKey() + "'");
            assertClose(golden + " " + e.getKey(), e.getValue(), got, PYTORCH_RELATIVE_TOLERANCE);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jlstm.GoldenCase#all")
    void runCommandMatchesPyTorch(GoldenCase golden, @TempDir Path dir) throws Exception {
        LstmBackend backend = usableBackend();
        Path output = dir.resolve("out.safetensors");
        List<String> args = new ArrayList<>(List.of("run", "--model", golden.modelFile().toString(),
                "--input", golden.inputFile().toString(), "--output", output.toString(), "--device", backend.name()));
        if (golden.batchFirst()) {
            args.add("--batch-first");
        }
        PrintStream originalErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            status = Main.execute(args.toArray(String[]::new));
        } finally {
            System.setErr(originalErr);
        }
        assertEquals(0, status, "run failed: " + err.toString(StandardCharsets.UTF_8));

        Map<String, Tensor> expected = golden.expected();
        Map<String, Tensor> actual = Safetensors.readFloatTensors(output);
        // Exactly the expected names: dh0/dc0 only when h0/c0 were inputs, gradients only with dy.
        assertEquals(new TreeSet<>(expected.keySet()), new TreeSet<>(actual.keySet()), golden + ": output tensors");
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            assertClose(golden + " " + e.getKey() + " (run)", e.getValue(), actual.get(e.getKey()),
                    PYTORCH_RELATIVE_TOLERANCE);
        }
    }

    /** The accuracy contract also asks for determinism: the same call twice gives identical bits. */
    @Test
    void repeatedRunsGiveIdenticalBits() throws Exception {
        LstmBackend backend = usableBackend();
        GoldenCase golden = GoldenCase.named("bidirectional_2_layers");
        Map<String, Tensor> in = golden.inputs();
        List<Map<String, Tensor>> runs = new ArrayList<>();
        try (LstmLayer reused = LstmLayer.create(golden.parameters(), backend);
             LstmLayer fresh = LstmLayer.create(golden.parameters(), backend)) {
            for (LstmLayer layer : List.of(reused, reused, fresh)) {
                Map<String, Tensor> all = new LinkedHashMap<>();
                LstmOutput out = layer.forwardTraining(in.get("x"), in.get("h0"), in.get("c0"));
                LstmGradients g = layer.backward(in.get("dy"), in.get("dhn"), in.get("dcn"));
                all.put("y", out.y());
                all.put("hn", out.hn());
                all.put("cn", out.cn());
                all.put("dx", g.dx());
                all.put("dh0", g.dh0());
                all.put("dc0", g.dc0());
                g.parameters().forEach((name, t) -> all.put("grad." + name, t.copy()));
                runs.add(all);
            }
        }
        for (Map<String, Tensor> other : runs.subList(1, runs.size())) {
            for (String name : runs.get(0).keySet()) {
                assertArrayEquals(runs.get(0).get(name).data(), other.get(name).data(), name + " differs between runs");
            }
        }
    }

    LstmBackend usableBackend() {
        LstmBackend backend = backend();
        assumeUsable(backend);
        return backend;
    }

    static void assumeUsable(LstmBackend backend) {
        LstmBackend.Availability a = backend.availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
    }
}
