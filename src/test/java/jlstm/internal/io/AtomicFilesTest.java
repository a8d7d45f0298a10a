package jlstm.internal.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Temporary names that fit any target name, and the cleanup of a killed write's temporary file. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void temporaryNamesFitTheNameLimitForEveryTargetLength() {
        for (String unit : new String[] {"a", "é", "语", "😀"}) {
            for (int n = 1; n <= 255; n++) {
                String name = unit.repeat(n);
                if (name.getBytes(StandardCharsets.UTF_8).length > 255) {
                    break;
                }
                String longest = AtomicFiles.temporaryStem(name) + "." + Long.toUnsignedString(-1L, 36) + ".tmp";
                assertTrue(longest.getBytes(StandardCharsets.UTF_8).length <= AtomicFiles.MAX_NAME_BYTES,
                        n + " × " + unit + ": " + longest.length());
                assertTrue(AtomicFiles.isTemporaryOf(longest, AtomicFiles.temporaryStem(name) + "."));
            }
        }
        // Two long names that differ only past the cut get different stems.
        assertNotEquals(AtomicFiles.temporaryStem("x".repeat(240) + "1"), AtomicFiles.temporaryStem("x".repeat(240) + "2"));
    }

    @Test
    void onlyTheSameTargetsTemporaryNamesMatch() {
        String start = AtomicFiles.temporaryStem("y.safetensors") + ".";
        assertTrue(AtomicFiles.isTemporaryOf(".y.safetensors.0az9.tmp", start));
        assertFalse(AtomicFiles.isTemporaryOf(".y.safetensors.x.0az9.tmp", start)); // target y.safetensors.x
        assertFalse(AtomicFiles.isTemporaryOf(".y.safetensors..tmp", start));
        assertFalse(AtomicFiles.isTemporaryOf(".y.safetensors.ABC.tmp", start));
        assertFalse(AtomicFiles.isTemporaryOf("y.safetensors.0az9.tmp", start));
    }

    @Test
    void aStaleTemporaryFileOfALongNameIsRemovedByTheNextWrite() throws IOException {
        String name = "q".repeat(250);
        Path target = dir.resolve(name);
        AtomicFiles.write(target, new byte[] {1});
        Path stale = Files.write(dir.resolve(AtomicFiles.temporaryStem(name) + ".abc.tmp"), new byte[10]);
        AtomicFiles.write(target, new byte[] {2});
        assertFalse(Files.exists(stale));
        assertArrayEquals(new byte[] {2}, Files.readAllBytes(target));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the target is left");
        }
    }
}
