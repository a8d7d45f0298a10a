package jlstm.cpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import jlstm.ConcurrencyHarness;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The layer stress test ({@link ConcurrencyHarness}) on every CPU path: pure Java whatever the
 * machine has, and the native-BLAS modes (from one thread, split across the workers, by
 * sequences or by hidden units) where a native BLAS is usable. Engines share the process's one
 * worker pool, so this also checks that engines running on several threads at once never mix
 * their work there.
 */
class CpuConcurrencyTest {
    private static final LstmConfig CONFIG = new LstmConfig(6, 100, 2, true, true, false);
    private static final int[] BATCHES = {1, 2, 3, 7, 40};
    private static final int[] STEPS = {1, 3, 6};

    @Test
    void pureJava() throws InterruptedException {
        ConcurrencyHarness.stress(backend(null, 0, 0, false, false), CONFIG, BATCHES, STEPS, 8, 15, true, 4);
    }

    @ParameterizedTest
    @EnumSource(value = NativeBlasEngineTest.Mode.class, names = {"ALL", "ALL_SPLIT_UNITS", "STEPS_SPLIT"})
    void nativeBlas(NativeBlasEngineTest.Mode mode) throws InterruptedException {
        NativeBlas blas = NativeBlas.loadIgnoringProperty();
        assumeTrue(blas != null, () -> "no usable native BLAS here: " + NativeBlas.status().description());
        ConcurrencyHarness.stress(mode.backend(blas), CONFIG, BATCHES, STEPS, 4, 12, true, 3);
    }

    private static LstmBackend backend(NativeBlas blas, double minFlops, double stepFlops, boolean split,
                                       boolean units) {
        return new LstmBackend() {
            @Override
            public String name() {
                return "cpu";
            }

            @Override
            public Availability availability() {
                return Availability.yes("pure Java");
            }

            @Override
            public LstmEngine open(LstmParameters parameters) {
                return new CpuLstmEngine(parameters, blas, minFlops, stepFlops, split, units);
            }
        };
    }
}
