package jlstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The stress test of {@link LstmLayer}'s thread rule, for any backend: many threads call one
 * layer at once with mixed batch sizes, sequence lengths and initial states, while one more
 * thread runs training passes (forwardTraining + backward); every result must equal, bit for
 * bit, what the same call gives on its own (computed first, single-threaded, on another layer).
 */
public final class ConcurrencyHarness {
    private ConcurrencyHarness() {
    }

    /** One call's shape and inputs: x [T, B, I] (or [B, T, I]), h0/c0 when {@code withState}, dy for training. */
    record Call(int steps, int batch, boolean withState) {
        Map<String, Tensor> inputs(LstmConfig c) {
            SplittableRandom random = new SplittableRandom(31L * steps + 1009L * batch + (withState ? 7 : 0));
            Map<String, Tensor> in = new LinkedHashMap<>();
            int state = c.numLayers() * c.directions();
            in.put("x", fill(random, c.batchFirst() ? new int[] {batch, steps, c.inputSize()}
                    : new int[] {steps, batch, c.inputSize()}));
            if (withState) {
                in.put("h0", fill(random, state, batch, c.hiddenSize()));
                in.put("c0", fill(random, state, batch, c.hiddenSize()));
            }
            in.put("dy", fill(random, c.batchFirst() ? new int[] {batch, steps, c.outputSize()}
                    : new int[] {steps, batch, c.outputSize()}));
            return in;
        }

        @Override
        public String toString() {
            return "T=" + steps + " B=" + batch + (withState ? " with h0/c0" : "");
        }
    }

    private static Tensor fill(SplittableRandom random, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] v = t.data();
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextDouble(-1, 1);
        }
        return t;
    }

    /** What the stress run saw. */
    public record Report(int calls, int trainingPasses, int enginesOpened) {
    }

    /**
     * Runs the stress test and fails on the first wrong result or exception.
     *
     * @param threads        inference threads (one training thread more when {@code training})
     * @param callsPerThread inference calls of each thread
     * @param maxEngines     the layer's bound
     */
    public static Report stress(LstmBackend backend, LstmConfig config, int[] batches, int[] steps, int threads,
                                int callsPerThread, boolean training, int maxEngines) throws InterruptedException {
        LstmParameters params = LstmParameters.initialize(config, 5);
        List<Call> distinct = new ArrayList<>();
        for (int b : batches) {
            for (int t : steps) {
                distinct.add(new Call(t, b, false));
                distinct.add(new Call(t, b, true));
            }
        }
        // Single-threaded references, on their own layer.
        Map<Call, Map<String, Tensor>> inputs = new LinkedHashMap<>();
        Map<Call, Map<String, float[]>> inference = new LinkedHashMap<>();
        Map<Call, Map<String, float[]>> trainingResults = new LinkedHashMap<>();
        try (LstmLayer alone = LstmLayer.create(params, backend, 1)) {
            for (Call call : distinct) {
                Map<String, Tensor> in = call.inputs(config);
                inputs.put(call, in);
                inference.put(call, outputs(alone.forward(in.get("x"), in.get("h0"), in.get("c0")), null));
                if (training) {
                    LstmOutput out = alone.forwardTraining(in.get("x"), in.get("h0"), in.get("c0"));
                    trainingResults.put(call, outputs(out, alone.backward(in.get("dy"), null, null)));
                }
            }
        }

        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        int[] passes = new int[1];
        int engines;
        try (LstmLayer shared = LstmLayer.create(params, backend, maxEngines)) {
            for (int w = 0; w < threads; w++) {
                SplittableRandom random = new SplittableRandom(1000 + w);
                workers.add(new Thread(() -> {
                    await(start);
                    for (int i = 0; i < callsPerThread && failures.size() < 5; i++) {
                        Call call = distinct.get(random.nextInt(distinct.size()));
                        Map<String, Tensor> in = inputs.get(call);
                        try {
                            compare(failures, "inference " + call, inference.get(call),
                                    outputs(shared.forward(in.get("x"), in.get("h0"), in.get("c0")), null));
                        } catch (RuntimeException | Error e) {
                            failures.add("inference " + call + ": " + e);
                        }
                    }
                }, "stress-inference-" + w));
            }
            if (training) {
                workers.add(new Thread(() -> {
                    await(start);
                    SplittableRandom random = new SplittableRandom(7);
                    for (int i = 0; i < Math.max(4, callsPerThread / 4) && failures.size() < 5; i++) {
                        Call call = distinct.get(random.nextInt(distinct.size()));
                        Map<String, Tensor> in = inputs.get(call);
                        try {
                            LstmOutput out = shared.forwardTraining(in.get("x"), in.get("h0"), in.get("c0"));
                            LstmGradients g = shared.backward(in.get("dy"), null, null);
                            compare(failures, "training pass " + call, trainingResults.get(call), outputs(out, g));
                            passes[0]++;
                        } catch (RuntimeException | Error e) {
                            failures.add("training pass " + call + ": " + e);
                        }
                    }
                }, "stress-training"));
            }
            workers.forEach(Thread::start);
            start.countDown();
            for (Thread t : workers) {
                t.join(TimeUnit.MINUTES.toMillis(5));
                assertTrue(!t.isAlive(), t.getName() + " did not finish within 5 minutes (deadlock?)");
            }
            engines = shared.engineCount();
        }
        assertEquals(List.of(), List.copyOf(failures), "results under concurrency differ from single-threaded ones");
        assertTrue(engines <= maxEngines, engines + " engines opened, bound " + maxEngines);
        return new Report(threads * callsPerThread, passes[0], engines);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Every output (and gradient) as a fresh array, by name. */
    private static Map<String, float[]> outputs(LstmOutput out, LstmGradients g) {
        Map<String, float[]> all = new LinkedHashMap<>();
        all.put("y", out.y().data().clone());
        all.put("hn", out.hn().data().clone());
        all.put("cn", out.cn().data().clone());
        if (g != null) {
            all.put("dx", g.dx().data().clone());
            all.put("dh0", g.dh0().data().clone());
            all.put("dc0", g.dc0().data().clone());
            g.parameters().forEach((name, t) -> all.put("grad." + name, t.data().clone()));
        }
        return all;
    }

    private static void compare(ConcurrentLinkedQueue<String> failures, String what, Map<String, float[]> expected,
                                Map<String, float[]> actual) {
        for (Map.Entry<String, float[]> e : expected.entrySet()) {
            float[] a = actual.get(e.getKey());
            if (!Arrays.equals(e.getValue(), a)) {
                int at = 0;
                while (at < a.length && Float.compare(a[at], e.getValue()[at]) == 0) {
                    at++;
                }
                failures.add(what + ": " + e.getKey() + " differs from the single-threaded result at [" + at + "]: "
                        + (at < a.length ? a[at] + " vs " + e.getValue()[at] : "length"));
                return;
            }
        }
    }
}
