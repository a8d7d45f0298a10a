package jlstm.internal.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import jlstm.LstmConfig;
import jlstm.LstmParameters;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * NativeLstm's claim that a call whose schedule is the last call's allocates nothing on the Java
 * heap: measured by the JVM's per-thread allocation counters of the calling thread and of the
 * pool's worker threads, over repeated forward and backward calls after a warm-up, for a small
 * shape (every copy on the caller) and a large one (copies of 64 Ki floats and more, which are
 * split over the workers), with and without lengths (and dropout masks), on 1 and 2 workers.
 */
class NativeLstmAllocationTest {
    private static final int WARMUP = 30;
    private static final int CALLS = 20;

    @ParameterizedTest(name = "T={0} B={1} I={2} H={3} layers={4} lengths={5} workers={6}")
    @CsvSource({
            // small: x and y are 25 600 floats, every copy on the caller
            "100, 1, 256, 256, 1, false, 1",
            "100, 1, 256, 256, 1, false, 2",
            // large: x, y, dy, dx and the masks are 64 Ki floats or more (T·B·H, or Σ lengths·H)
            "64, 8, 128, 128, 2, false, 1",
            "64, 8, 128, 128, 2, false, 2",
            "80, 8, 128, 128, 2, true, 1",
            "80, 8, 128, 128, 2, true, 2",
    })
    void repeatedCallsAllocateNothingOnTheJavaHeap(int steps, int batch, int input, int hidden, int layers,
                                                   boolean withLengths, int workers) {
        int block = NativeKernels.status().unitBlock();
        assumeTrue(block > 0, () -> "no native kernels here: " + NativeKernels.status().description());
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported(), "no per-thread allocation counters here");
        threads.setThreadAllocatedMemoryEnabled(true);

        LstmConfig config = new LstmConfig(input, hidden, layers, layers > 1, true, false);
        int dirs = config.directions();
        LstmParameters params = LstmParameters.initialize(config, 3);
        LstmParameters gradients = LstmParameters.zeros(config);
        int[] lengths = withLengths ? lengths(steps, batch) : null;
        int state = layers * dirs * batch * hidden;
        float[] x = random(steps * batch * input, 1), h0 = random(state, 2), c0 = random(state, 3);
        float[] y = new float[steps * batch * dirs * hidden], hn = new float[state], cn = new float[state];
        float[] dy = random(y.length, 4), dhn = random(state, 5), dcn = random(state, 6);
        float[] dx = new float[x.length], dh0 = new float[state], dc0 = new float[state];
        float[][] masks = null;
        if (withLengths && layers > 1) { // the lengths case also carries dropout masks (copied in per call)
            masks = new float[layers - 1][];
            for (int k = 0; k < layers - 1; k++) {
                masks[k] = random(y.length, 7 + k);
            }
        }
        WorkerPool pool = WorkerPool.forThreads(workers);
        try (NativeLstm lstm = new NativeLstm(params, block, pool, CpuTuning.DEFAULT)) {
            for (int i = 0; i < WARMUP; i++) {
                lstm.forward(steps, batch, x, h0, c0, y, hn, cn, true, lengths, masks);
                lstm.backward(dy, dhn, dcn, dx, dh0, dc0, gradients);
            }
            long[] ids = counted();
            long[] before = new long[ids.length], after = new long[ids.length];
            read(threads, ids, before);
            for (int i = 0; i < CALLS; i++) {
                lstm.forward(steps, batch, x, h0, c0, y, hn, cn, true, lengths, masks);
            }
            read(threads, ids, after);
            long forward = total(before, after);
            read(threads, ids, before);
            for (int i = 0; i < CALLS; i++) {
                lstm.backward(dy, dhn, dcn, dx, dh0, dc0, gradients);
            }
            read(threads, ids, after);
            long backward = total(before, after);
            System.out.printf("NativeLstm allocation %s: forward %d B, backward %d B per call%n",
                    java.util.Arrays.toString(new Object[] {steps, batch, input, hidden, layers, withLengths, workers}),
                    forward / CALLS, backward / CALLS);
            assertEquals(0, forward, "Java heap bytes allocated by " + CALLS + " forward calls");
            assertEquals(0, backward, "Java heap bytes allocated by " + CALLS + " backward calls");
        }
    }

    /** The calling thread and the pools' workers (threads named jlstm-cpu-N). */
    private static long[] counted() {
        List<Long> ids = new ArrayList<>();
        ids.add(Thread.currentThread().getId());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("jlstm-cpu-")) {
                ids.add(t.getId());
            }
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    private static void read(com.sun.management.ThreadMXBean threads, long[] ids, long[] into) {
        for (int i = 0; i < ids.length; i++) {
            into[i] = threads.getThreadAllocatedBytes(ids[i]);
        }
    }

    private static long total(long[] before, long[] after) {
        long sum = 0;
        for (int i = 0; i < before.length; i++) {
            sum += after[i] - before[i];
        }
        return sum;
    }

    /** Unequal lengths from T down to T − 15, first one T (so T is the longest). */
    private static int[] lengths(int steps, int batch) {
        int[] lengths = new int[batch];
        for (int i = 0; i < batch; i++) {
            lengths[i] = steps - (i * 7) % 16;
        }
        return lengths;
    }

    private static float[] random(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian() * 0.5f;
        }
        return values;
    }
}
