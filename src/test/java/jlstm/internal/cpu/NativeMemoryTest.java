package jlstm.internal.cpu;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import jlstm.InsufficientMemoryException;
import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.internal.MemoryBudget;
import org.junit.jupiter.api.Test;

/**
 * The native kernels keep their workspace outside the Java heap, so the heap check cannot see it:
 * they check it against the machine's available memory themselves, before allocating, and a
 * refused call leaves the engine as it was.
 */
class NativeMemoryTest {

    @Test
    void theCheckComparesWithWhatIsAvailable() {
        long gib = 1L << 30;
        assertDoesNotThrow(() -> MemoryBudget.requireNative(2 * gib, "x", 3 * gib));
        InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class,
                () -> MemoryBudget.requireNative(5 * gib, "the test's workspace", 3 * gib));
        assertTrue(e.getMessage().contains("the test's workspace") && e.getMessage().contains("5.0 GiB")
                && e.getMessage().contains("3.0 GiB") && e.getMessage().contains("native memory"), e.getMessage());
    }

    @Test
    void aShapeTooLargeForTheMachineIsRefusedBeforeAnyWork() {
        int block = NativeKernels.status().unitBlock();
        assumeTrue(block > 0, () -> "no native kernels here: " + NativeKernels.status().description());
        long available = MemoryBudget.machineAvailable();
        assumeTrue(available < Long.MAX_VALUE / 4, "the machine's available memory is unknown here");
        LstmConfig config = LstmConfig.of(1, 256);
        // G alone is T·B·4Hp floats: make it twice what the machine has. The arrays are never read:
        // the check comes first (and they are tiny, which would fail any read past them).
        int batch = 1024;
        long rowBytes = 4L * 4 * 256;
        int steps = (int) Math.min(Integer.MAX_VALUE / batch, 2 * available / (rowBytes * batch) + 1);
        assumeTrue((long) steps * batch * rowBytes > available, "cannot build a shape past this machine's memory");
        try (CpuLstmEngine engine = new CpuLstmEngine(LstmParameters.initialize(config, 1), block,
                CpuTuning.DEFAULT)) {
            long start = System.nanoTime();
            InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class,
                    () -> engine.forward(steps, batch, new float[1], null, null, new float[1], new float[1],
                            new float[1], false));
            assertTrue((System.nanoTime() - start) / 1e9 < 5, "the refusal must come before the work");
            assertTrue(e.getMessage().contains("T=" + steps + ", B=" + batch), e.getMessage());
            float[] y = new float[3 * 2 * 256], hn = new float[2 * 256], cn = new float[2 * 256];
            engine.forward(3, 2, new float[3 * 2], null, null, y, hn, cn, false); // still works
        }
    }
}
