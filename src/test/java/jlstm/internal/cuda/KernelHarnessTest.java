package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The sanitizer harness of the CUDA stand-in ({@code cuda/standin/harness/run.sh}): every kernel
 * of {@code cuda/*.cu}, compiled for the host with AddressSanitizer and UndefinedBehaviorSanitizer,
 * launched through the stand-in's driver API at edge shapes (B = 1, H = 1, odd H, H not a multiple
 * of 32, grid y smaller than B) against a double-precision reference, with the blocks in forward,
 * reverse and random order. {@code -Djlstm.test.tsan=true} adds the ThreadSanitizer run.
 */
class KernelHarnessTest {
    private static final Path SCRIPT = Path.of("cuda", "standin", "harness", "run.sh");

    private static void assumeBuildable() {
        assumeTrue(NativeTools.onPath("g++"), "g++ not on PATH: the harness cannot be built");
        assumeTrue(Files.isRegularFile(SCRIPT), "not run from the repository root: " + SCRIPT + " not found");
        assumeTrue(CudaModule.readFatbin() != null, "no fatbin (built without nvcc): no kernel names to resolve");
    }

    private static NativeTools.Result harness(String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        command.addAll(List.of(options));
        return NativeTools.run(command, null, 600);
    }

    @Test
    void everyKernelPassesUnderAddressAndUndefinedBehaviourSanitizers() throws Exception {
        assumeBuildable();
        NativeTools.Result r = harness();
        assertEquals(0, r.exitCode(), r::all);
        long passes = r.stdout().lines().filter(l -> l.matches("kernel harness: \\d+ checks passed")).count();
        assertEquals(3, passes, () -> "expected one pass per block order:\n" + r.all());
    }

    @Test
    void barriersAndShufflesAreRaceFreeUnderThreadSanitizer() throws Exception {
        assumeBuildable();
        assumeTrue(Boolean.getBoolean("jlstm.test.tsan"), "ThreadSanitizer run not requested (-Djlstm.test.tsan=true)");
        NativeTools.Result r = harness("--tsan");
        assertEquals(0, r.exitCode(), r::all);
        assertTrue(r.stdout().contains("checks passed"), r::all);
    }
}
