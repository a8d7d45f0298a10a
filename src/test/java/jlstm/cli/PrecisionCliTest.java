package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --precision} on the command line without a GPU: {@code info} reports the precision, the
 * CPU engine refuses tf32 and bf16 with an error that says why (nothing written), and a bad value
 * names the allowed ones. The CUDA side is in {@code CudaCliTest}.
 */
class PrecisionCliTest {
    @TempDir
    Path dir;

    @Test
    void infoReportsThePrecision() {
        CommandRun.Outcome o = CommandRun.execute("info");
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().lines().anyMatch(l -> l.startsWith("precision fp32")), o.out());
    }

    @Test
    void theCpuRefusesTensorCoreModesAndWritesNothing() throws Exception {
        Path folder = Path.of(PrecisionCliTest.class.getClassLoader().getResource("golden-precision/b1_odd_hidden")
                .toURI());
        for (String mode : new String[] {"tf32", "bf16"}) {
            Path out = dir.resolve(mode + ".safetensors");
            CommandRun.Outcome o = CommandRun.execute("run", "--device", "cpu", "--precision", mode, "--model",
                    folder.resolve("model.safetensors").toString(), "--input",
                    folder.resolve("input.safetensors").toString(), "--output", out.toString());
            assertNotEquals(0, o.status());
            assertTrue(o.err().contains("fp32 only"), o.err());
            assertTrue(Files.notExists(out), "nothing written on failure");

            CommandRun.Outcome bench = CommandRun.execute("bench", "--device", "cpu", "--precision", mode,
                    "--shape", "2,1,3,4,1", "--reps", "1", "--warmup", "0");
            assertNotEquals(0, bench.status());
            assertTrue(bench.err().contains("fp32 only"), bench.err());
        }
    }

    @Test
    void aBadPrecisionNamesTheAllowedValues() throws URISyntaxException {
        CommandRun.Outcome o = CommandRun.execute("bench", "--device", "cpu", "--precision", "fp16", "--shape",
                "2,1,3,4,1", "--reps", "1", "--warmup", "0");
        assertNotEquals(0, o.status());
        assertTrue(o.err().contains("--precision") && o.err().contains("fp16"), o.err());
    }
}
