package jlstm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;
import jlstm.train.LinearHead;
import jlstm.train.SequenceModel;

/**
 * {@link LstmLayer} shared between threads: the stress test on the CPU (and on CUDA where a GPU
 * is usable), and the training rules, which must fail at once with a clear exception, never
 * silently. The rule tests hold a call inside the engine (a gate in a wrapping backend), so the
 * overlap they need is certain rather than likely.
 */
class LayerConcurrencyTest {
    /** H = 100 with 2+ workers: B = 1 runs the step loop on one worker, B = 2, 3 split the units, B = 40 the batch. */
    static final LstmConfig CPU_CONFIG = new LstmConfig(6, 100, 2, true, true, false);

    @Test
    void cpuStressMixedBatchesManyThreads() throws InterruptedException {
        ConcurrencyHarness.Report r = ConcurrencyHarness.stress(Backends.cpu(), CPU_CONFIG, new int[] {1, 2, 3, 7, 40},
                new int[] {1, 3, 6}, 8, 15, true, 4);
        assertTrue(r.enginesOpened() > 1, "8 threads never overlapped: " + r);
    }

    @Test
    void cpuStressBatchFirst() throws InterruptedException {
        ConcurrencyHarness.stress(Backends.cpu(), new LstmConfig(3, 17, 1, true, true, true), new int[] {1, 4, 9},
                new int[] {2, 5}, 6, 25, true, 3);
    }

    @Test
    void oneThreadUsesOneEngine() {
        try (LstmLayer layer = LstmLayer.create(LstmParameters.initialize(CPU_CONFIG, 1), Backends.cpu(), 4)) {
            Tensor x = Tensor.zeros(3, 2, 6);
            layer.forward(x);
            layer.forwardTraining(x, null, null);
            layer.backward(Tensor.zeros(3, 2, 200), null, null);
            layer.forward(x);
            layer.forwardTraining(x, null, null);
            layer.backward(Tensor.zeros(3, 2, 200), null, null);
            assertEquals(1, layer.engineCount());
        }
    }

    @Test
    void cellIsSafeFromManyThreads() throws Exception {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(5, 33), 3);
        LstmCell cell = LstmCell.of(p, 0, 0);
        int[] batches = {1, 2, 6, 17};
        List<LstmCell.State> alone = new ArrayList<>();
        for (int b : batches) {
            alone.add(cell.step(input(b, 5, b), input(b, 33, b + 1), input(b, 33, b + 2)));
        }
        onThreads(8, 64, task -> {
            int k = task % batches.length, b = batches[k];
            for (int rep = 0; rep < 20; rep++) {
                LstmCell.State s = cell.step(input(b, 5, b), input(b, 33, b + 1), input(b, 33, b + 2));
                assertArrayEquals(alone.get(k).h().data(), s.h().data());
                assertArrayEquals(alone.get(k).c().data(), s.c().data());
            }
        });
    }

    /**
     * Training loops over one cell from many threads (each its own steps and gradients), mixed
     * batch sizes and inference steps between: every result bit for bit as when run alone. The
     * threads start on a cell that has not stepped yet, so they race to copy its weights into the
     * products' layouts; a scratch shared between the calls, or a snapshot seen half-built, would
     * show here as different bits.
     */
    @Test
    void cellTrainingIsSafeFromManyThreads() throws Exception {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(5, 33), 4);
        int[] batches = {1, 2, 6, 17};
        List<float[][]> alone = new ArrayList<>();
        for (int b : batches) {
            alone.add(trainCell(LstmCell.of(p, 0, 0), b));
        }
        LstmCell cell = LstmCell.of(p, 0, 0);
        onThreads(8, 64, task -> {
            int k = task % batches.length, b = batches[k];
            for (int rep = 0; rep < 10; rep++) {
                float[][] got = trainCell(cell, b);
                for (int i = 0; i < got.length; i++) {
                    assertArrayEquals(alone.get(k)[i], got[i], "batch " + b + ", result " + i);
                }
            }
        });
    }

    /**
     * Runs task(0) … task(tasks − 1) on a pool of {@code threads} and waits for all of them (2
     * minutes each at most); the first failure fails the test.
     */
    private static void onThreads(int threads, int tasks, java.util.function.IntConsumer task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < tasks; t++) {
                int index = t;
                futures.add(pool.submit(() -> task.accept(index)));
            }
            for (Future<?> f : futures) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Three training steps and their backward, an inference step between: h, dx, dh, dc and every gradient. */
    private static float[][] trainCell(LstmCell cell, int b) {
        LstmCell.Step[] steps = new LstmCell.Step[3];
        Tensor h = null, c = null;
        for (int t = 0; t < steps.length; t++) {
            steps[t] = cell.stepTraining(input(b, 5, 10L * b + t), h, c);
            cell.step(input(b, 5, t), steps[t].h(), null);
            h = steps[t].h();
            c = steps[t].c();
        }
        LstmCell.Gradients grads = cell.newGradients();
        List<float[]> out = new ArrayList<>(List.of(h.data()));
        Tensor dh = input(b, 33, 7), dc = null;
        for (int t = steps.length - 1; t >= 0; t--) {
            LstmCell.StepGradients g = cell.backward(steps[t], dh, dc, grads);
            out.add(g.dx().data());
            dh = g.dh();
            dc = g.dc();
        }
        out.add(dh.data());
        out.add(dc.data());
        grads.asMap().values().forEach(t -> out.add(t.data()));
        return out.toArray(new float[0][]);
    }

    @Test
    void sequenceModelPredictIsSafeFromManyThreads() throws Exception {
        LstmConfig config = LstmConfig.of(4, 12).withLayers(2);
        LstmParameters p = LstmParameters.initialize(config, 9);
        try (SequenceModel model = new SequenceModel(LstmLayer.create(p, Backends.cpu(), 3),
                LinearHead.initialize(12, 3, LinearHead.Mode.EVERY_STEP, 2))) {
            int[] batches = {1, 3, 8};
            List<Tensor> alone = new ArrayList<>();
            for (int b : batches) {
                alone.add(model.predict(input(5 * b, 4, b).reshape(5, b, 4)));
            }
            onThreads(6, 36, task -> {
                int k = task % batches.length, b = batches[k];
                assertArrayEquals(alone.get(k).data(), model.predict(input(5 * b, 4, b).reshape(5, b, 4)).data());
            });
        }
    }

    // ---------------------------------------------------------------- the training rules

    @Test
    void backwardOnAnotherThreadFailsClearly() throws Exception {
        try (LstmLayer layer = LstmLayer.create(LstmParameters.initialize(CPU_CONFIG, 1), Backends.cpu())) {
            layer.forwardTraining(Tensor.zeros(2, 1, 6), null, null);
            IllegalStateException e = CompletableFuture.supplyAsync(() -> assertThrows(IllegalStateException.class,
                    () -> layer.backward(Tensor.zeros(2, 1, 200), null, null))).get(1, TimeUnit.MINUTES);
            assertTrue(e.getMessage().contains("must stay on one thread"), e.getMessage());
            layer.backward(Tensor.zeros(2, 1, 200), null, null); // the owner still can
        }
    }

    @Test
    void overlappingTrainingCallsFailAtOnce() throws Exception {
        GatedBackend gated = new GatedBackend();
        try (LstmLayer layer = LstmLayer.create(LstmParameters.initialize(CPU_CONFIG, 1), gated)) {
            CompletableFuture<LstmOutput> first = gated.holdNextCall(
                    () -> layer.forwardTraining(Tensor.zeros(2, 1, 6), null, null));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> layer.forwardTraining(Tensor.zeros(2, 1, 6), null, null));
            assertTrue(e.getMessage().contains("must not overlap") && e.getMessage().contains("forwardTraining on"),
                    e.getMessage());
            IllegalStateException b = assertThrows(IllegalStateException.class,
                    () -> layer.backward(Tensor.zeros(2, 1, 200), null, null));
            assertTrue(b.getMessage().contains("must not overlap"), b.getMessage());
            // Inference is not held up by a training call.
            layer.forward(Tensor.zeros(2, 3, 6));
            gated.release();
            first.get(1, TimeUnit.MINUTES);
        }
    }

    @Test
    void parametersUpdatedDuringACallFailsClearly() throws Exception {
        GatedBackend gated = new GatedBackend();
        try (LstmLayer layer = LstmLayer.create(LstmParameters.initialize(CPU_CONFIG, 1), gated)) {
            CompletableFuture<LstmOutput> running = gated.holdNextCall(() -> layer.forward(Tensor.zeros(2, 1, 6)));
            IllegalStateException e = assertThrows(IllegalStateException.class, layer::parametersUpdated);
            assertTrue(e.getMessage().contains("while 1 call(s)"), e.getMessage());
            gated.release();
            running.get(1, TimeUnit.MINUTES);
            layer.parametersUpdated(); // fine once nothing runs
        }
    }

    @Test
    void aForwardOnTheTrainingThreadDiscardsItsPassAndBackwardSaysSo() {
        try (LstmLayer layer = LstmLayer.create(LstmParameters.initialize(CPU_CONFIG, 1), Backends.cpu(), 1)) {
            layer.forwardTraining(Tensor.zeros(2, 1, 6), null, null);
            layer.forward(Tensor.zeros(2, 1, 6));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> layer.backward(Tensor.zeros(2, 1, 200), null, null));
            assertTrue(e.getMessage().contains("discarded"), e.getMessage());
        }
    }

    @Test
    void parameterUpdatesReachEveryEngine() throws Exception {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(3, 8), 4);
        Tensor x = input(6, 3, 1).reshape(2, 3, 3);
        GatedBackend gated = new GatedBackend();
        try (LstmLayer layer = LstmLayer.create(p, gated, 3);
             LstmLayer reference = LstmLayer.create(p, Backends.cpu(), 1)) {
            gated.overlap(3, () -> layer.forward(x)); // three calls inside engines at once: three engines
            assertEquals(3, layer.engineCount());
            p.weightHh(0, 0)[3] += 0.5f;
            layer.parametersUpdated();
            reference.parametersUpdated();
            float[] expected = reference.forward(x).y().data();
            gated.overlap(3, () -> assertArrayEquals(expected, layer.forward(x).y().data()));
            assertEquals(3, layer.engineCount());
        }
    }

    @Test
    void callersBeyondTheBoundWaitForAnEngine() throws Exception {
        GatedBackend gated = new GatedBackend();
        try (LstmLayer layer = LstmLayer.create(LstmParameters.initialize(CPU_CONFIG, 1), gated, 1)) {
            CompletableFuture<LstmOutput> held = gated.holdNextCall(() -> layer.forward(Tensor.zeros(2, 1, 6)));
            AtomicBoolean done = new AtomicBoolean();
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                layer.forward(Tensor.zeros(2, 2, 6));
                done.set(true);
            });
            Thread.sleep(200);
            assertTrue(!done.get(), "a second call ran while the only engine was busy");
            gated.release();
            held.get(1, TimeUnit.MINUTES);
            waiting.get(1, TimeUnit.MINUTES);
            assertEquals(1, layer.engineCount());
        }
    }

    /**
     * One engine serves every thread in turn: a finished training pass (forwardTraining, then
     * backward) does not keep the only engine from inference on another thread, during training
     * or after it; and training interleaved with inference still gets exactly its own gradients.
     */
    @Test
    void oneEngineServesTrainingAndInferenceOnDifferentThreads() throws Exception {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(3, 7), 5);
        Tensor x = input(8, 3, 2).reshape(4, 2, 3);
        Tensor dy = input(8, 7, 3).reshape(4, 2, 7);
        LstmGradients alone;
        try (LstmLayer reference = LstmLayer.create(p, Backends.cpu(), 1)) {
            reference.forwardTraining(x, null, null);
            alone = reference.backward(dy, null, null);
        }
        float[] expectedY;
        try (LstmLayer reference = LstmLayer.create(p, Backends.cpu(), 1)) {
            expectedY = reference.forward(x).y().data();
        }
        ExecutorService trainer = Executors.newSingleThreadExecutor();
        ExecutorService inferrer = Executors.newSingleThreadExecutor();
        try (LstmLayer layer = LstmLayer.create(p, Backends.cpu(), 1)) {
            // Training first, alone, then inference on another thread: the finished pass pins nothing.
            trainer.submit(() -> {
                layer.forwardTraining(x, null, null);
                layer.backward(dy, null, null);
            }).get(1, TimeUnit.MINUTES);
            assertArrayEquals(expectedY, inferrer.submit(() -> layer.forward(x).y().data()).get(1, TimeUnit.MINUTES));

            // Both at once: each gets its own result; neither waits forever.
            AtomicBoolean stop = new AtomicBoolean();
            Future<Integer> inference = inferrer.submit(() -> {
                int calls = 0;
                while (!stop.get()) {
                    assertArrayEquals(expectedY, layer.forward(x).y().data());
                    calls++;
                }
                return calls;
            });
            Future<?> training = trainer.submit(() -> {
                for (int pass = 0; pass < 50; pass++) {
                    layer.forwardTraining(x, null, null);
                    LstmGradients g = layer.backward(dy, null, null);
                    assertArrayEquals(alone.dx().data(), g.dx().data());
                    for (String name : alone.parameters().keySet()) {
                        assertArrayEquals(alone.parameters().get(name).data(), g.parameters().get(name).data(), name);
                    }
                }
            });
            training.get(1, TimeUnit.MINUTES);
            stop.set(true);
            assertTrue(inference.get(1, TimeUnit.MINUTES) > 0);
            assertEquals(1, layer.engineCount());
            // And once more after training ended.
            assertArrayEquals(expectedY, inferrer.submit(() -> layer.forward(x).y().data()).get(1, TimeUnit.MINUTES));
        } finally {
            trainer.shutdownNow();
            inferrer.shutdownNow();
        }
    }

    /** A backward repeated right after the first still works; once another call used the engine it says why not. */
    @Test
    void aFinishedPassKeepsItsActivationsOnlyUntilItsEngineIsLent() throws Exception {
        try (LstmLayer layer = LstmLayer.create(LstmParameters.initialize(LstmConfig.of(3, 7), 5), Backends.cpu(), 1)) {
            Tensor x = input(8, 3, 2).reshape(4, 2, 3);
            Tensor dy = input(8, 7, 3).reshape(4, 2, 7);
            layer.forwardTraining(x, null, null);
            float[] first = layer.backward(dy, null, null).dx().data();
            assertArrayEquals(first, layer.backward(dy, null, null).dx().data());
            CompletableFuture.runAsync(() -> layer.forward(x)).get(1, TimeUnit.MINUTES);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> layer.backward(dy, null, null));
            assertTrue(e.getMessage().contains("served another call"), e.getMessage());
        }
    }

    /** A thread that ran forwardTraining and ended without its backward does not keep the only engine. */
    @Test
    void aPassOfAnEndedThreadIsDropped() throws Exception {
        try (LstmLayer layer = LstmLayer.create(LstmParameters.initialize(LstmConfig.of(3, 7), 5), Backends.cpu(), 1)) {
            Tensor x = input(8, 3, 2).reshape(4, 2, 3);
            Thread t = new Thread(() -> layer.forwardTraining(x, null, null));
            t.start();
            t.join(60_000);
            assertEquals(4, CompletableFuture.supplyAsync(() -> layer.forward(x)).get(1, TimeUnit.MINUTES).y().dim(0));
        }
    }

    @Test
    void closeWhileACallRunsLetsItFinishAndRefusesLaterCalls() throws Exception {
        GatedBackend gated = new GatedBackend();
        LstmLayer layer = LstmLayer.create(LstmParameters.initialize(CPU_CONFIG, 1), gated);
        CompletableFuture<LstmOutput> running = gated.holdNextCall(() -> layer.forward(Tensor.zeros(2, 1, 6)));
        layer.close();
        gated.release();
        assertEquals(2, running.get(1, TimeUnit.MINUTES).y().dim(0));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> layer.forward(Tensor.zeros(2, 1, 6)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertEquals(gated.opened, gated.closed, "every engine closed");
    }

    static Tensor input(int rows, int cols, long seed) {
        Tensor t = Tensor.zeros(rows, cols);
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) r.nextDouble(-1, 1);
        }
        return t;
    }

    /**
     * The CPU backend with a gate: {@link #holdNextCall} starts a call on another thread and returns
     * once that call is inside the engine, where it stays until {@link #release}.
     */
    static final class GatedBackend implements LstmBackend {
        private final Semaphore entered = new Semaphore(0);
        /** Taken by the next call into an engine (only that one is held). */
        private final java.util.concurrent.atomic.AtomicReference<CountDownLatch> gate =
                new java.util.concurrent.atomic.AtomicReference<>();
        private CountDownLatch held;
        volatile int opened;
        volatile int closed;

        <T> CompletableFuture<T> holdNextCall(java.util.function.Supplier<T> call) throws InterruptedException {
            held = new CountDownLatch(1);
            gate.set(held);
            CompletableFuture<T> f = CompletableFuture.supplyAsync(call, Executors.newSingleThreadExecutor());
            assertTrue(entered.tryAcquire(1, TimeUnit.MINUTES), "the held call never reached the engine");
            return f;
        }

        void release() {
            held.countDown();
        }

        /** Set while {@link #overlap} runs: every forward waits there until all of its calls are inside an engine. */
        private volatile java.util.concurrent.CyclicBarrier together;

        /** Runs {@code n} copies of a body (one forward each) on n threads, all inside an engine at the same time. */
        void overlap(int n, Runnable body) throws Exception {
            together = new java.util.concurrent.CyclicBarrier(n);
            try {
                List<CompletableFuture<Void>> all = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    all.add(CompletableFuture.runAsync(body, Executors.newSingleThreadExecutor()));
                }
                for (CompletableFuture<Void> f : all) {
                    f.get(1, TimeUnit.MINUTES);
                }
            } finally {
                together = null;
            }
        }

        @Override
        public String name() {
            return "cpu";
        }

        @Override
        public Availability availability(jlstm.EngineOptions options) {
            return Availability.yes("gated CPU");
        }

        @Override
        public LstmEngine open(LstmParameters parameters, jlstm.EngineOptions options) {
            LstmEngine inner = Backends.cpu().open(parameters);
            opened++;
            return new LstmEngine() {
                @Override
                public String deviceName() {
                    return inner.deviceName();
                }

                @Override
                public void forward(int steps, int batch, float[] x, float[] h0, float[] c0, float[] y, float[] hn,
                                    float[] cn, boolean training) {
                    hold();
                    inner.forward(steps, batch, x, h0, c0, y, hn, cn, training);
                }

                @Override
                public void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                                     LstmParameters gradients) {
                    hold();
                    inner.backward(dy, dhn, dcn, dx, dh0, dc0, gradients);
                }

                @Override
                public void parametersUpdated() {
                    inner.parametersUpdated();
                }

                @Override
                public void close() {
                    closed++;
                    inner.close();
                }
            };
        }

        private void hold() {
            java.util.concurrent.CyclicBarrier b = together;
            if (b != null) {
                try {
                    b.await(1, TimeUnit.MINUTES);
                } catch (Exception e) {
                    throw new IllegalStateException("calls did not all reach an engine together", e);
                }
            }
            CountDownLatch g = gate.getAndSet(null);
            if (g != null) {
                entered.release();
                try {
                    assertTrue(g.await(1, TimeUnit.MINUTES), "the gate was never opened");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}
