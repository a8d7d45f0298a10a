package jlstm;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;

/**
 * The heap check before a call: a shape the heap cannot hold is refused at once with how much it
 * needs and the -Xmx to use; the pure-Java CPU path's estimate agrees with what it really holds (so
 * that the check neither refuses calls that fit nor lets through ones that do not); inference holds
 * no backward buffers. (The native kernels' workspace is native memory: NativeMemoryTest.)
 */
class MemoryEstimateTest {

    @Test
    void aShapeTooLargeForTheHeapIsRefusedBeforeAnyWork() {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(1, 512), 1);
        Tensor x = Tensor.zeros(20_000, 64, 1); // workspace ≈ 16 GB: G alone is T·B·4H floats
        try (LstmLayer layer = LstmLayer.create(p, new jlstm.internal.cpu.PureJava())) { // its workspace is heap
            long start = System.nanoTime();
            InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class, () -> layer.forward(x));
            assertTrue((System.nanoTime() - start) / 1e9 < 5, "the refusal must come before the work");
            assertTrue(e.getMessage().contains("T=20000, B=64") && e.getMessage().contains("-Xmx")
                    && e.getMessage().contains("GiB"), e.getMessage());
            assertTrue(e.neededBytes() > e.availableBytes());
            layer.forward(Tensor.zeros(3, 2, 1)); // the layer still works
        }
    }

    /**
     * The README's example on the default CPU backend (the native kernels where this CPU has them):
     * their workspace is native memory, but it counts against -Xmx as the heap does, so the call is
     * refused at once with the -Xmx that would do, instead of taking the machine's memory.
     */
    @Test
    void theReadmeExampleIsRefusedOnEveryCpuPathBeforeAnyWork() {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(1, 512), 1);
        Tensor x = Tensor.zeros(20_000, 64, 1);
        assumeTrue(Runtime.getRuntime().maxMemory() < (14L << 30), "the heap limit is above this shape's needs");
        for (LstmBackend backend : new LstmBackend[] {Backends.cpu(), new jlstm.internal.cpu.PureJava()}) {
            try (LstmLayer layer = LstmLayer.create(p, backend)) {
                long start = System.nanoTime();
                InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class, () -> layer.forward(x));
                assertTrue((System.nanoTime() - start) / 1e9 < 5, "the refusal must come before the work");
                assertTrue(e.getMessage().contains("T=20000, B=64") && e.getMessage().contains("-Xmx"), e.getMessage());
                assertTrue(e.neededBytes() > 14L << 30, e.getMessage());
            }
        }
    }

    /**
     * Heap held by a layer after one call (its workspace and the outputs) against the estimate,
     * pure Java path, T = 50 000, H = 32, B = 1: inference without backward buffers, and training
     * with them. The window is wide (measuring the heap is coarse), the point is the order of size.
     */
    @Test
    void theCpuEstimateMatchesWhatTheEngineHolds() {
        LstmConfig c = LstmConfig.of(1, 32);
        int steps = 50_000;
        for (boolean training : new boolean[] {false, true}) {
            long measured = heldAfterOneCall(c, steps, training);
            long estimate = new jlstm.internal.cpu.PureJava().workspaceBytes(c, steps, 1, training, EngineOptions.defaults()) + 4L * steps * 32;
            double ratio = (double) estimate / measured;
            assertTrue(ratio > 0.7 && ratio < 1.4, (training ? "training" : "inference") + ": estimate "
                    + estimate + " bytes, held " + measured + " bytes");
        }
        jlstm.internal.cpu.PureJava java = new jlstm.internal.cpu.PureJava();
        assertTrue(java.workspaceBytes(c, steps, 1, false, EngineOptions.defaults()) < 0.7 * java.workspaceBytes(c, steps, 1, true, EngineOptions.defaults()),
                "inference estimate includes backward buffers");
    }

    private static long heldAfterOneCall(LstmConfig c, int steps, boolean training) {
        LstmParameters p = LstmParameters.initialize(c, 2);
        Tensor x = Tensor.zeros(steps, 1, 1);
        try (LstmLayer layer = LstmLayer.create(p, new jlstm.internal.cpu.PureJava())) {
            layer.forward(Tensor.zeros(1, 1, 1));
            long before = used();
            LstmOutput out = training ? layer.forwardTraining(x, null, null) : layer.forward(x);
            if (training) {
                layer.backward(Tensor.zeros(steps, 1, 32), null, null);
            }
            long after = used();
            if (out.y().numel() == 0) {
                throw new AssertionError(); // keeps the outputs reachable until here
            }
            return after - before;
        }
    }

    private static long used() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
