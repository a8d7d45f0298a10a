package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import jlstm.internal.Backends;
import jlstm.ConcurrencyHarness;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The layer stress test ({@link ConcurrencyHarness}) with {@link CudaLstmEngine}s: each engine of
 * a layer's pool has its own device state (workspace, streams, cuBLAS handles, graphs), so
 * concurrent callers must each get the single-threaded answer, with the fused (B = 1) and GEMM
 * schedules.
 */
@Tag("cuda")
class CudaConcurrencyTest {

    @BeforeEach
    void requireCuda() {
        LstmBackend.Availability a = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
    }

    @Test
    void enginesUnderConcurrency() throws InterruptedException {
        ConcurrencyHarness.Report r = ConcurrencyHarness.stress(Backends.cuda(),
                new LstmConfig(4, 9, 2, true, true, false), new int[] {1, 2, 5, 9}, new int[] {1, 3}, 4, 8, true, 3);
        assertTrue(r.enginesOpened() > 1, "the threads never overlapped: " + r);
    }

    @Test
    void mixedBatchesManyThreads() throws InterruptedException {
        // The stand-in runs one launch at a time on the CPU: fewer calls per thread there.
        int callsPerThread = CudaStandIn.active() ? 3 : 30;
        ConcurrencyHarness.Report r = ConcurrencyHarness.stress(Backends.cuda(),
                new LstmConfig(6, 100, 2, true, true, false), new int[] {1, 2, 3, 7, 8, 9, 40}, new int[] {1, 3, 6}, 8,
                callsPerThread, true, 4);
        assertTrue(r.enginesOpened() > 1, "8 threads never overlapped: " + r);
    }
}
