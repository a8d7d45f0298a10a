package jlstm.internal.cpu;

import jlstm.ConcurrencyHarness;
import jlstm.LstmConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The layer stress test ({@link ConcurrencyHarness}) on every CPU path this machine can run: pure
 * Java, and the native kernels (AVX-512, AVX2), with their time loops split across the workers
 * and not. Engines share the process's one worker pool, so this also checks that engines running
 * on several threads at once never mix their work there.
 */
class CpuConcurrencyTest {
    private static final LstmConfig CONFIG = new LstmConfig(6, 100, 2, true, true, false);
    private static final int[] BATCHES = {1, 2, 3, 7, 40};
    private static final int[] STEPS = {1, 3, 6};

    @ParameterizedTest
    @EnumSource(CpuPathsTest.Path.class)
    void everyPath(CpuPathsTest.Path path) throws InterruptedException {
        ConcurrencyHarness.stress(path.backend(), CONFIG, BATCHES, STEPS, 8, 15, true, 4);
    }

    @ParameterizedTest
    @EnumSource(value = CpuPathsTest.Path.class, names = {"AVX512", "AVX2"})
    void nativeKernelsWithSplitTimeLoops(CpuPathsTest.Path path) throws InterruptedException {
        for (CpuTuning.TimeLoop loop : new CpuTuning.TimeLoop[] {CpuTuning.TimeLoop.SPLIT_UNITS,
                CpuTuning.TimeLoop.SPLIT_ROWS}) {
            ConcurrencyHarness.stress(path.backend(CpuTuning.DEFAULT.withTimeLoop(loop)), CONFIG, BATCHES, STEPS, 4,
                    12, true, 3);
        }
    }
}
