package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.Device;
import jlstm.LstmLayer;
import jlstm.LstmParameters;

/**
 * The library's log records (engine choice, F16/BF16/F64 conversion) stay off a library user's
 * stderr in the JDK's default configuration; the command line shows them, one line each. Both run
 * in a fresh JVM: logging is configured once per JVM.
 */
class LoggingTest {
    static final Path BF16 = Path.of("src", "test", "resources", "exports", "lstm_prefix_bf16");

    /** Child: what a library user does, a BF16 export loaded and a layer on Device.AUTO (the CPU here). */
    public static void main(String[] args) throws IOException {
        LstmParameters p = LstmParameters.load(BF16.resolve("model.safetensors"), false, null);
        try (LstmLayer layer = LstmLayer.create(p, Device.AUTO)) {
            System.out.println("layer on " + layer.deviceName());
        }
    }

    private static String[] runJava(Path dir, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path")));
        command.addAll(List.of(args));
        Path out = dir.resolve("out.txt"), err = dir.resolve("err.txt");
        Process child = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(child.waitFor(2, TimeUnit.MINUTES), "the child did not finish");
        assertEquals(0, child.exitValue(), Files.readString(err));
        return new String[] {Files.readString(out), Files.readString(err)};
    }

    @Test
    void aLibraryUserSeesNoInfoRecordsOnStderr(@TempDir Path dir) throws Exception {
        String[] r = runJava(dir, LoggingTest.class.getName());
        assertTrue(r[0].startsWith("layer on "), r[0]);
        // JUL's default format: "Dec 07, 2026 1:02:03 PM jlstm.LstmParameters load" then "INFO: jlstm: …".
        assertFalse(r[1].contains("INFO:"), "INFO records on a library user's stderr:\n" + r[1]);
        assertFalse(r[1].contains("converted to float32"), r[1]);
        assertFalse(r[1].contains("using the CPU engine"), r[1]);
    }

    @Test
    void theCommandLineShowsThemOneLineEach(@TempDir Path dir) throws Exception {
        String[] r = runJava(dir, Main.class.getName(), "run", "--model", BF16.resolve("model.safetensors").toString(),
                "--input", BF16.resolve("input.safetensors").toString(), "--output", dir.resolve("y.safetensors")
                        .toString());
        List<String> lines = r[1].lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.matches("jlstm: .*model\\.safetensors: converted to float32: "
                + "4 BF16 parameter tensor\\(s\\)")), "the library's DEBUG record, one line:\n" + r[1]);
        for (String line : lines) {
            // JUL's two-line records: a line naming the time, class and method, then "INFO: message".
            assertFalse(line.matches("[A-Z][a-z]{2} \\d{1,2}, \\d{4} .*") || line.matches("(INFO|FINE|CONFIG): .*"),
                    "a two-line record on the command line's stderr: " + line + "\n" + r[1]);
        }
        if (jlstm.internal.Backends.cuda().availability(jlstm.EngineOptions.defaults()).available()) {
            return; // --device auto runs on the GPU: nothing to explain
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("jlstm: using the CPU engine; the GPU is not used because: ")),
                r[1]);
    }
}
