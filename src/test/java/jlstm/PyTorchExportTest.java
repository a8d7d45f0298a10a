package jlstm;

import static jlstm.TensorAssert.PYTORCH_RELATIVE_TOLERANCE;
import static jlstm.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import jlstm.cli.Main;
import jlstm.internal.Backends;
import jlstm.io.Safetensors;

/**
 * Files as PyTorch users export them ({@code tools/make_export_cases.py}: a module's whole
 * {@code state_dict} with the LSTM under a module prefix, in F32, BF16, F16 or F64, beside a
 * linear head and an int64 buffer; inputs in the same dtype), through the API and through
 * {@code run}: every output and gradient must match PyTorch's, the conversion must be logged, and
 * the other tensors ignored.
 */
class PyTorchExportTest {
    @TempDir
    Path dir;

    static List<GoldenCase> cases() throws URISyntaxException {
        return GoldenCase.in(Path.of(PyTorchExportTest.class.getClassLoader().getResource("exports").toURI()));
    }

    static String prefix(GoldenCase c) {
        return c.meta().get("prefix").isJsonNull() ? null : c.meta().get("prefix").getAsString();
    }

    @Test
    void theCasesCoverPrefixesAndEveryConvertedDtype() throws URISyntaxException {
        TreeSet<String> dtypes = new TreeSet<>();
        TreeSet<String> prefixes = new TreeSet<>();
        for (GoldenCase c : cases()) {
            dtypes.add(c.meta().get("dtype").getAsString());
            prefixes.add(c.meta().get("lstm_prefix").getAsString());
        }
        assertTrue(dtypes.containsAll(List.of("F16", "BF16", "F64", "F32")), dtypes.toString());
        assertTrue(prefixes.containsAll(List.of("", "lstm.", "encoder.lstm.", "module.lstm.")), prefixes.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void apiMatchesPyTorch(GoldenCase c) throws IOException {
        List<String> logged = new ArrayList<>();
        LstmParameters params = withLog(logged, () -> LstmParameters.load(c.modelFile(), c.batchFirst(), prefix(c)));
        if (!c.meta().get("dtype").getAsString().equals("F32")) {
            assertTrue(logged.stream().anyMatch(m -> m.contains("converted to float32")
                    && m.contains(c.meta().get("dtype").getAsString())), "no conversion logged: " + logged);
        }
        Map<String, Tensor> in = new LinkedHashMap<>();
        Safetensors.read(c.inputFile()).entries().forEach((n, e) -> in.put(n, e.toTensor()));
        Map<String, Tensor> expected = c.expected();
        Map<String, Tensor> actual = new LinkedHashMap<>();
        try (LstmLayer layer = LstmLayer.create(params, Backends.cpu())) {
            boolean backward = c.meta().get("backward").getAsBoolean();
            LstmOutput out = backward ? layer.forwardTraining(in.get("x"), in.get("h0"), in.get("c0"))
                    : layer.forward(in.get("x"), in.get("h0"), in.get("c0"));
            actual.put("y", out.y());
            actual.put("hn", out.hn());
            actual.put("cn", out.cn());
            if (backward) {
                LstmGradients g = layer.backward(in.get("dy"), null, null);
                actual.put("dx", g.dx());
                if (in.containsKey("h0")) {
                    actual.put("dh0", g.dh0());
                    actual.put("dc0", g.dc0());
                }
                g.parameters().forEach((n, t) -> actual.put("grad." + n, t));
            }
        }
        assertEquals(new TreeSet<>(expected.keySet()), new TreeSet<>(actual.keySet()));
        expected.forEach((n, t) -> assertClose(c.name() + " " + n, t, actual.get(n), PYTORCH_RELATIVE_TOLERANCE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void runMatchesPyTorch(GoldenCase c) throws IOException {
        Path out = dir.resolve("out.safetensors");
        List<String> args = new ArrayList<>(List.of("run", "--model", c.modelFile().toString(), "--input",
                c.inputFile().toString(), "--output", out.toString(), "--device", "cpu"));
        if (c.batchFirst()) {
            args.add("--batch-first");
        }
        if (prefix(c) != null) {
            args.addAll(List.of("--prefix", prefix(c)));
        }
        String[] err = new String[1];
        int status = withStderr(err, () -> Main.execute(args.toArray(String[]::new)));
        assertEquals(0, status, err[0]);
        Map<String, Tensor> actual = Safetensors.readFloatTensors(out);
        Map<String, Tensor> expected = c.expected();
        assertEquals(new TreeSet<>(expected.keySet()), new TreeSet<>(actual.keySet()));
        expected.forEach((n, t) -> assertClose(c.name() + " " + n + " (run)", t, actual.get(n),
                PYTORCH_RELATIVE_TOLERANCE));
    }

    @Test
    void severalLstmsWithoutAPrefixIsAnErrorListingThem() throws Exception {
        GoldenCase c = cases().stream().filter(g -> g.name().equals("two_lstms")).findFirst().orElseThrow();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LstmParameters.load(c.modelFile(), false, null));
        assertTrue(e.getMessage().contains("'encoder.lstm.'") && e.getMessage().contains("'decoder.lstm.'")
                && e.getMessage().contains("--prefix"), e.getMessage());
        IllegalArgumentException absent = assertThrows(IllegalArgumentException.class,
                () -> LstmParameters.load(c.modelFile(), false, "decoder.rnn"));
        assertTrue(absent.getMessage().contains("'decoder.rnn.'") && absent.getMessage().contains("'encoder.lstm.'"),
                absent.getMessage());

        String[] err = new String[1];
        int status = withStderr(err, () -> Main.execute("run", "--model", c.modelFile().toString(), "--input",
                c.inputFile().toString(), "--output", dir.resolve("o.safetensors").toString(), "--device", "cpu"));
        assertNotEquals(0, status);
        assertTrue(err[0].startsWith("error: ") && err[0].contains("'decoder.lstm.'"), err[0]);
        // The same prefix with or without its dot; "" selects bare names, absent here.
        assertEquals(LstmParameters.load(c.modelFile(), false, "decoder.lstm.").count(),
                LstmParameters.load(c.modelFile(), false, "decoder.lstm").count());
        assertThrows(IllegalArgumentException.class, () -> LstmParameters.load(c.modelFile(), false, ""));
    }

    interface IoCall<T> {
        T call() throws IOException;
    }

    private static <T> T withLog(List<String> messages, IoCall<T> body) throws IOException {
        Logger logger = Logger.getLogger("jlstm");
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                messages.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Level level = logger.getLevel();
        logger.setLevel(java.util.logging.Level.FINE); // the conversion is logged at System.Logger's DEBUG
        logger.addHandler(h);
        try {
            return body.call();
        } finally {
            logger.removeHandler(h);
            logger.setLevel(level);
        }
    }

    private static int withStderr(String[] err, java.util.function.IntSupplier body) {
        PrintStream original = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            return body.getAsInt();
        } finally {
            System.setErr(original);
            err[0] = bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
