package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import jlstm.internal.Backends;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmParameters;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * One thread captures CUDA graphs (the first call of each new (T, B) captures its pass) while other
 * threads, each with its own engine in the same (primary) context, upload inputs, launch and
 * download without graphs. CUDA forbids legacy-default-stream work while a blocking stream
 * captures ({@code CUDA_ERROR_STREAM_CAPTURE_IMPLICIT}, and the capture is invalidated); the
 * stand-in enforces that rule, so this fails on engines that use blocking streams or synchronous
 * copies. Every result must equal the single-threaded one bit for bit (same kernels, same order).
 */
@Tag("cuda")
class CudaCaptureConcurrencyTest {
    private static final LstmConfig CONFIG = new LstmConfig(5, 12, 2, true, true, false);
    /** (T, B) shapes the capturing thread runs, each new: one capture per shape and mode. */
    private static final int[][] CAPTURED = {{3, 2}, {4, 2}, {5, 3}, {6, 1}, {7, 2}, {8, 3}, {9, 1}, {10, 2}};
    private static final int UPLOADERS = 3;
    private static final int UPLOAD_STEPS = 4;
    private static final int UPLOAD_BATCH = 3;

    @BeforeEach
    void requireCuda() {
        LstmBackend.Availability a = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
    }

    @Test
    void captureOnOneThreadWhileOthersUploadAndLaunch() throws InterruptedException {
        LstmParameters params = LstmParameters.initialize(CONFIG, 11);
        List<float[]> capturedInputs = new ArrayList<>();
        List<float[]> capturedExpected = new ArrayList<>();
        float[] uploadInput = input(UPLOAD_STEPS, UPLOAD_BATCH, 99);
        float[] uploadExpected;
        try (CudaLstmEngine alone = CudaLstmEngine.open(params)) {
            alone.setGraphs(false);
            for (int[] shape : CAPTURED) {
                float[] x = input(shape[0], shape[1], shape[0] * 31 + shape[1]);
                capturedInputs.add(x);
                capturedExpected.add(forward(alone, shape[0], shape[1], x));
            }
            uploadExpected = forward(alone, UPLOAD_STEPS, UPLOAD_BATCH, uploadInput);
        }

        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean capturing = new AtomicBoolean(true);
        AtomicInteger uploads = new AtomicInteger();
        CountDownLatch uploadersRunning = new CountDownLatch(UPLOADERS);
        List<Thread> threads = new ArrayList<>();
        for (int u = 0; u < UPLOADERS; u++) {
            threads.add(new Thread(() -> {
                boolean started = false;
                try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
                    engine.setGraphs(false);
                    started = true;
                    uploadersRunning.countDown();
                    while (capturing.get() && failures.isEmpty()) {
                        float[] y = forward(engine, UPLOAD_STEPS, UPLOAD_BATCH, uploadInput);
                        uploads.incrementAndGet();
                        if (!java.util.Arrays.equals(y, uploadExpected)) {
                            failures.add("an uploading thread got a different y");
                        }
                    }
                } catch (RuntimeException | Error e) {
                    failures.add("uploading thread: " + e);
                } finally {
                    if (!started) {
                        uploadersRunning.countDown();   // never leave the capturing thread waiting
                    }
                }
            }, "uploader-" + u));
        }
        threads.forEach(Thread::start);
        uploadersRunning.await();
        int captures = 0;
        try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
            engine.setGraphs(true);
            for (int n = 0; n < CAPTURED.length && failures.isEmpty(); n++) {
                int steps = CAPTURED[n][0], batch = CAPTURED[n][1];
                try {
                    float[] y = forward(engine, steps, batch, capturedInputs.get(n));
                    assertArrayEquals(capturedExpected.get(n), y, "captured pass T=" + steps + " B=" + batch);
                    captures += engine.graphCount();   // each new shape drops the old graphs and captures one
                } catch (RuntimeException e) {
                    failures.add("capturing thread, T=" + steps + " B=" + batch + ": " + e);
                }
            }
        } finally {
            capturing.set(false);
            for (Thread t : threads) {
                t.join();
            }
        }
        assertTrue(failures.isEmpty(), () -> String.join("\n", failures));
        assertEquals(CAPTURED.length, captures, "every shape was captured into a graph");
        assertTrue(uploads.get() >= UPLOADERS, "the uploading threads ran beside the captures: " + uploads.get());
    }

    private static float[] forward(CudaLstmEngine engine, int steps, int batch, float[] x) {
        int state = CONFIG.numLayers() * CONFIG.directions() * batch * CONFIG.hiddenSize();
        float[] y = new float[steps * batch * CONFIG.directions() * CONFIG.hiddenSize()];
        engine.forward(steps, batch, x, null, null, y, new float[state], new float[state], false);
        return y;
    }

    /** x [T, B, I], uniform in [-1, 1). */
    private static float[] input(int steps, int batch, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[steps * batch * CONFIG.inputSize()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }
}
