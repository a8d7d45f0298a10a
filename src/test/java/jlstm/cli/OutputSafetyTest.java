package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.internal.io.AtomicFiles;
import jlstm.io.Safetensors;

/**
 * Outputs go only where a regular file may be replaced: {@code run --output} (and the checkpoint
 * of {@code train --out}) onto a FIFO, a device or a dangling link is refused before any work with
 * one {@code error:} line and the special file is left as it was; names up to the file system's
 * 255-byte limit work (the temporary name fits); the stale temporary file of a killed write is
 * removed by the next write to the same path, and nobody else's files are.
 */
class OutputSafetyTest {
    @TempDir
    Path dir;
    Path model;
    Path input;

    @BeforeEach
    void files() throws IOException {
        model = dir.resolve("model.safetensors");
        input = dir.resolve("input.safetensors");
        LstmParameters.initialize(LstmConfig.of(3, 4), 1).save(model);
        Safetensors.write(input, Map.of("x", Tensor.zeros(2, 1, 3)), null);
    }

    private CommandRun.Outcome runTo(Path output) {
        return CommandRun.execute("run", "--model", model.toString(), "--input", input.toString(), "--output",
                output.toString(), "--device", "cpu");
    }

    private static void assertOneErrorLine(CommandRun.Outcome r, String... parts) {
        assertNotEquals(0, r.status(), "should fail: " + r.out());
        List<String> lines = r.err().lines().filter(l -> !l.startsWith("INFO: ")).toList();
        assertEquals(1, lines.size(), "one error line expected, got:\n" + r.err());
        assertTrue(lines.get(0).startsWith("error: "), r.err());
        for (String part : parts) {
            assertTrue(lines.get(0).contains(part), "expected '" + part + "' in: " + r.err());
        }
        assertTrue(r.out().isEmpty(), "no work should have been done: " + r.out());
    }

    private static Path mkfifo(Path path) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assertEquals(0, p.waitFor(), "mkfifo " + path);
        return path;
    }

    private static boolean isFifo(Path path) throws IOException {
        return ((Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000) == 0010000;
    }

    @Test
    void aFifoAsOutputIsRefusedBeforeAnyWorkAndLeftAlone() throws Exception {
        Path fifo = mkfifo(dir.resolve("pipe"));
        assertOneErrorLine(runTo(fifo), "--output " + fifo, "FIFO", "not a regular file");
        assertTrue(isFifo(fifo), "the FIFO was replaced");
        // Through a link too.
        Path link = Files.createSymbolicLink(dir.resolve("to-pipe"), fifo);
        assertOneErrorLine(runTo(link), "FIFO");
        assertTrue(isFifo(fifo));
        assertEquals(List.of(), temporaryFiles(), "nothing left behind");
    }

    @Test
    void aDanglingLinkAsOutputIsRefusedBeforeAnyWork() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("dangling.safetensors"), dir.resolve("nowhere/y.safetensors"));
        assertOneErrorLine(runTo(link), "--output " + link, "dangling");
        assertTrue(Files.isSymbolicLink(link) && !Files.exists(link));
    }

    /** A device is refused by the check itself (never tried by writing: as root that would replace /dev/null). */
    @Test
    void devicesAndFoldersAreNotReplaceable() throws IOException {
        Path devNull = Path.of("/dev/null");
        if (Files.exists(devNull)) {
            FileSystemException e = assertThrows(FileSystemException.class, () -> AtomicFiles.requireReplaceable(devNull));
            assertTrue(e.getReason().contains("character device"), e.getReason());
            assertThrows(FileSystemException.class, () -> AtomicFiles.write(devNull, new byte[] {1}));
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> OutputGuard.requireWritableFile(devNull, "--output"));
            assertTrue(refused.getMessage().contains("--output /dev/null is a character device"), refused.getMessage());
        }
        assertThrows(FileSystemException.class, () -> AtomicFiles.requireReplaceable(dir));
        AtomicFiles.requireReplaceable(dir.resolve("new-file")); // nothing there: fine
        AtomicFiles.requireReplaceable(model); // a regular file: fine
    }

    @Test
    void trainRefusesACheckpointPathThatIsAFifo() throws Exception {
        Path out = Files.createDirectory(dir.resolve("run"));
        Path fifo = mkfifo(out.resolve("checkpoint.safetensors"));
        CommandRun.Outcome r = CommandRun.execute("train", "--out", out.toString(), "--device", "cpu");
        assertOneErrorLine(r, "FIFO");
        assertTrue(isFifo(fifo));
    }

    @Test
    void outputNamesUpToTheFileSystemLimitWork() throws IOException {
        for (int length : new int[] {200, 238, 250, 255}) {
            String name = "y".repeat(length - ".safetensors".length()) + ".safetensors";
            Path output = dir.resolve(name);
            CommandRun.Outcome r = runTo(output);
            assertEquals(0, r.status(), length + " bytes: " + r.err());
            assertTrue(Files.isRegularFile(output));
            assertEquals(2, Safetensors.read(output).require(output, "y").shape()[0]);
            assertEquals(0, runTo(output).status(), "replacing it, " + length + " bytes"); // and once more
        }
        // Multi-byte characters: 127 × 'é' (2 bytes each) + "y" = 255 bytes.
        Path accented = dir.resolve("é".repeat(127) + "y");
        assertEquals(255, accented.getFileName().toString().getBytes(StandardCharsets.UTF_8).length);
        AtomicFiles.write(accented, new byte[] {1, 2, 3});
        assertEquals(3, Files.size(accented));
        assertEquals(List.of(), temporaryFiles(), "nothing left behind");
    }

    @Test
    void theStaleTemporaryFileOfAKilledWriteIsRemovedByTheNextWrite() throws IOException {
        Path output = dir.resolve("y.safetensors");
        Path stale = Files.write(dir.resolve(".y.safetensors.k3x9q0z1.tmp"), new byte[7000]); // as a killed write leaves it
        Path otherTargets = Files.write(dir.resolve(".z.safetensors.k3x9q0z1.tmp"), new byte[1]);
        Path notOurs = Files.write(dir.resolve(".y.safetensors.notes.tmp.bak"), new byte[1]);
        assertEquals(0, runTo(output).status());
        assertFalse(Files.exists(stale), "stale temporary file left");
        assertTrue(Files.exists(otherTargets), "another target's temporary file removed");
        assertTrue(Files.exists(notOurs), "a file that is no temporary file removed");

        assertEquals(List.of(otherTargets), temporaryFiles());
    }

    private List<Path> temporaryFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }
}
