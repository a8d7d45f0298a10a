package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Test helpers that run host tools (gcc, g++, a forked JVM) and capture their output. */
final class NativeTools {
    /** Where tests put the programs and libraries they build. */
    static final Path BUILD_DIR = Path.of("target", "test-native");

    private NativeTools() {
    }

    /** Whether an executable is on PATH. */
    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Output of a finished process. */
    record Result(int exitCode, String stdout, String stderr) {
        String all() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    /** Runs a command with optional stdin, waiting at most {@code timeoutSeconds}. */
    static Result run(List<String> command, String stdin, long timeoutSeconds) throws IOException, InterruptedException {
        Files.createDirectories(BUILD_DIR);
        Path out = Files.createTempFile(BUILD_DIR, "out", ".txt");
        Path err = Files.createTempFile(BUILD_DIR, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out after " + timeoutSeconds + " s: " + command);
        }
        Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        return r;
    }

    /** Runs a command and fails the test with its output when it does not exit 0. */
    static Result runOk(List<String> command, String stdin, long timeoutSeconds) throws IOException, InterruptedException {
        Result r = run(command, stdin, timeoutSeconds);
        assertEquals(0, r.exitCode(), () -> "command failed: " + command + "\n" + r.all());
        return r;
    }

    /**
     * A java command for a fresh JVM that sees the test classes, jlstm and JCuda: their code
     * locations (java.class.path alone is the launcher's jar under the JUnit console) and then
     * this JVM's class path.
     */
    static List<String> javaCommand(String mainClass, String... args) {
        Set<String> path = new LinkedHashSet<>();
        for (Class<?> c : List.of(NativeTools.class, CudaBackend.class, jcuda.jcublas.JCublas2.class,
                jcuda.Pointer.class)) {
            try {
                path.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            } catch (URISyntaxException | RuntimeException e) {
                // No code source (e.g. a custom class loader): java.class.path below must do.
            }
        }
        path.add(System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(String.join(java.io.File.pathSeparator, path));
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return cmd;
    }
}
