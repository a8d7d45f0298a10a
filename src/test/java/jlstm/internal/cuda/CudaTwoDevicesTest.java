package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;

import jlstm.internal.Backends;
import jlstm.Device;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two GPUs side by side: {@code Device.cuda(1)} reaches the second device (its own backend, probe
 * and primary context: its engine's memory is counted there and not on GPU 0), engines on both run
 * at once from two threads and agree with each other and with the CPU, and an ordinal past the
 * last GPU fails with the probe's reason. The {@code cuda-tests} execution gives the stand-in two
 * devices (JLSTM_STANDIN_DEVICES=2); on a one-GPU machine the test is skipped.
 */
@Tag("cuda")
class CudaTwoDevicesTest {
    private static final LstmConfig CONFIG = new LstmConfig(6, 10, 2, true, true, false);
    private static final int STEPS = 5;
    private static final int BATCH = 3;

    @BeforeEach
    void requireTwoGpus() {
        LstmBackend.Availability a = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
        int count = CudaBackend.deviceCount();
        if (CudaStandIn.active()) {
            assertTrue(count >= 2, "the cuda-tests execution sets JLSTM_STANDIN_DEVICES=2, yet the stand-in offers "
                    + count + " device(s)");
        } else {
            assumeTrue(count >= 2, "one GPU here");
        }
    }

    @Test
    void secondGpuHasItsOwnBackendAndContext() {
        LstmBackend second = Backends.select(Device.cuda(1));
        assertEquals("cuda:1", second.name());
        assertTrue(second.availability().available(), second.availability().detail());
        assertTrue(Backends.all().contains(second), "info lists every GPU");
        LstmParameters params = LstmParameters.initialize(CONFIG, 3);
        try (CudaDevice gpu0 = new CudaDevice(0); CudaDevice gpu1 = new CudaDevice(1)) {
            long free0 = gpu0.inContext(gpu0::freeMemory);
            long free1 = gpu1.inContext(gpu1::freeMemory);
            try (LstmEngine engine = second.open(params)) {
                forward(engine, input(1));
                assertTrue(gpu1.inContext(gpu1::freeMemory) < free1, "the engine's memory is on GPU 1");
                assertEquals(free0, (long) gpu0.inContext(gpu0::freeMemory), "and none of it on GPU 0");
            }
            assertEquals(free1, (long) gpu1.inContext(gpu1::freeMemory), "closing the engine freed it on GPU 1");
        }
    }

    @Test
    void aCellOnTheSecondGpuStepsThereAndMatchesTheCpu() {
        jlstm.LstmCell cpu = jlstm.LstmCell.initialize(4, 6, true, 9);
        jlstm.Tensor x = jlstm.Tensor.of(java.util.Arrays.copyOf(input(5), 12), 3, 4);   // [B = 3, I = 4]
        jlstm.LstmCell.State want = cpu.step(x, null, null);
        try (CudaDevice gpu0 = new CudaDevice(0); CudaDevice gpu1 = new CudaDevice(1)) {
            long free0 = gpu0.inContext(gpu0::freeMemory);
            long free1 = gpu1.inContext(gpu1::freeMemory);
            try (jlstm.LstmCell cell = cpu.on(Device.cuda(1))) {
                jlstm.LstmCell.State got = cell.step(x, null, null);
                assertTrue(gpu1.inContext(gpu1::freeMemory) < free1, "the cell's memory is on GPU 1");
                assertEquals(free0, (long) gpu0.inContext(gpu0::freeMemory), "and none of it on GPU 0");
                for (int i = 0; i < want.h().numel(); i++) {
                    assertEquals(want.h().data()[i], got.h().data()[i], 1e-5, "h[" + i + "]");
                    assertEquals(want.c().data()[i], got.c().data()[i], 1e-5, "c[" + i + "]");
                }
            }
        }
    }

    @Test
    void enginesOnBothGpusRunAtOnce() throws InterruptedException {
        LstmParameters params = LstmParameters.initialize(CONFIG, 4);
        float[] x = input(2);
        float[] expected;
        try (LstmEngine cpu = Backends.cpu().open(params)) {
            expected = forward(cpu, x);
        }
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<float[]> last = new ArrayList<>(List.of(new float[0], new float[0]));
        List<Thread> threads = new ArrayList<>();
        for (int gpu = 0; gpu < 2; gpu++) {
            int ordinal = gpu;
            threads.add(new Thread(() -> {
                try (LstmEngine engine = Backends.select(Device.cuda(ordinal)).open(params)) {
                    for (int call = 0; call < 6; call++) {
                        float[] y = forward(engine, x);
                        for (int i = 0; i < y.length; i++) {
                            if (Math.abs(y[i] - expected[i]) > 1e-4f) {
                                failures.add("GPU " + ordinal + ": y[" + i + "] = " + y[i] + ", CPU " + expected[i]);
                                return;
                            }
                        }
                        synchronized (last) {
                            last.set(ordinal, y);
                        }
                    }
                } catch (RuntimeException | Error e) {
                    failures.add("GPU " + ordinal + ": " + e);
                }
            }, "gpu-" + gpu));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(failures.isEmpty(), () -> String.join("\n", failures));
        assertArrayEquals(last.get(0), last.get(1), "the same kernels on both GPUs give the same bits");
    }

    @Test
    void trainTakesDeviceCudaN(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        jlstm.cli.CommandRun.Outcome o = jlstm.cli.CommandRun.execute("train", "--device", "cuda:1", "--epochs", "1",
                "--samples", "32", "--hidden", "4", "--seq-len", "5", "--batch", "16", "--out", dir.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.lastLine().startsWith("result: task=adding device=cuda:1 metric=mse"), o.lastLine());
        jlstm.cli.CommandRun.Outcome missing = jlstm.cli.CommandRun.execute("train", "--device",
                "cuda:" + CudaBackend.deviceCount(), "--epochs", "1", "--out", dir.toString());
        assertTrue(missing.status() != 0 && missing.err().contains("no CUDA device " + CudaBackend.deviceCount()),
                missing.err());
    }

    @Test
    void anOrdinalPastTheLastGpuFailsWithTheReason() {
        int missing = CudaBackend.deviceCount();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Backends.select(Device.cuda(missing)));
        assertTrue(e.getMessage().contains("no CUDA device " + missing), e.getMessage());
        assertFalse(Backends.cuda(missing).availability().available());
    }

    private static float[] forward(LstmEngine engine, float[] x) {
        int state = CONFIG.numLayers() * CONFIG.directions() * BATCH * CONFIG.hiddenSize();
        float[] y = new float[STEPS * BATCH * CONFIG.directions() * CONFIG.hiddenSize()];
        engine.forward(STEPS, BATCH, x, null, null, y, new float[state], new float[state], false);
        return y;
    }

    /** x [T, B, I], uniform in [-1, 1). */
    private static float[] input(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[STEPS * BATCH * CONFIG.inputSize()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }
}
