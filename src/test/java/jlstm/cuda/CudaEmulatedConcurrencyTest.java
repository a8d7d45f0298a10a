package jlstm.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import jlstm.ConcurrencyHarness;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;
import org.junit.jupiter.api.Test;

/**
 * The layer stress test ({@link ConcurrencyHarness}) with {@link CudaLstmEngine}s on emulated
 * devices: each engine of the pool has its own device state (workspace, stream, cuBLAS handle on a
 * real GPU), so concurrent callers must each get the single-threaded answer, with both forward
 * schedules (fused for B ≤ 8, GEMM above). The real GPU runs the same harness in
 * jlstm.LayerConcurrencyTest when one is usable.
 */
class CudaEmulatedConcurrencyTest {

    @Test
    void emulatedEnginesUnderConcurrency() throws InterruptedException {
        LstmBackend emulated = new LstmBackend() {
            @Override
            public String name() {
                return "cuda";
            }

            @Override
            public Availability availability() {
                return Availability.yes("emulated device");
            }

            @Override
            public LstmEngine open(LstmParameters parameters) {
                return new CudaLstmEngine(parameters, new EmulatedDevice());
            }
        };
        ConcurrencyHarness.Report r = ConcurrencyHarness.stress(emulated, new LstmConfig(4, 9, 2, true, true, false),
                new int[] {1, 2, 5, 9}, new int[] {1, 3}, 4, 8, true, 3);
        assertTrue(r.enginesOpened() > 1, "the threads never overlapped: " + r);
    }
}
