package jlstm.internal.cpu;

import static jlstm.TensorAssert.PYTORCH_RELATIVE_TOLERANCE;
import static jlstm.TensorAssert.assertClose;
import static jlstm.TensorAssert.toDoubles;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import jlstm.GoldenCase;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every path of the CPU engine, forced one at a time: the pure-Java reference, and the native
 * kernels for AVX-512 and for AVX2 (each where this CPU can run it; skipped with the reason
 * otherwise). Each against PyTorch's golden cases, and the native ones against the Java path on
 * shapes the golden cases do not cover (bidirectional stacks, no bias, batches that split into
 * uneven row chunks, hidden sizes that are not a multiple of the vector width, several unit groups
 * per worker), twice on one engine with the parameters changed in place in between.
 */
class CpuPathsTest {

    enum Path {
        JAVA, AVX512, AVX2;

        /** The engine's unit block for this path, 0 for pure Java; skips the test when this CPU cannot run it. */
        int unitBlock() {
            if (this == JAVA) {
                return 0;
            }
            int block = NativeKernels.unitBlockFor(this == AVX512 ? "avx512" : "avx2");
            assumeTrue(block > 0, () -> this + " kernels cannot run here: " + NativeKernels.status().description());
            return block;
        }

        LstmBackend backend() {
            return backend(CpuTuning.DEFAULT);
        }

        /** The CPU backend on this path, its engines tuned so (tests force each time-loop schedule). */
        LstmBackend backend(CpuTuning tuning) {
            int block = unitBlock();
            return new LstmBackend() {
                @Override
                public String name() {
                    return "cpu";
                }

                @Override
                public Availability availability(jlstm.EngineOptions options) {
                    return Availability.yes("CPU engine forced to " + Path.this);
                }

                @Override
                public LstmEngine open(LstmParameters parameters, jlstm.EngineOptions options) {
                    return new CpuLstmEngine(parameters, block, tuning);
                }
            };
        }
    }

    static Stream<Arguments> goldenCasesOnEveryPath() {
        return GoldenCase.all().stream().flatMap(c -> Stream.of(Path.values()).map(p -> Arguments.of(c, p)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("goldenCasesOnEveryPath")
    void everyPathMatchesPyTorch(GoldenCase golden, Path path) throws Exception {
        LstmBackend backend = path.backend();
        Map<String, Tensor> actual;
        try (LstmLayer layer = LstmLayer.create(golden.parameters(), backend)) {
            actual = golden.runThrough(layer);
        }
        for (Map.Entry<String, Tensor> e : golden.expected().entrySet()) {
            Tensor got = actual.get(e.getKey());
            assertTrue(got != null, golden + ": no '" + e.getKey() + "'");
            assertClose(golden + " " + e.getKey() + " (" + path + ")", e.getValue(), got, PYTORCH_RELATIVE_TOLERANCE);
        }
    }

    static Stream<Path> nativePaths() {
        return Stream.of(Path.AVX512, Path.AVX2);
    }

    static Stream<Arguments> nativePathsEveryTimeLoop() {
        return nativePaths().flatMap(p -> Stream.of(CpuTuning.TimeLoop.values()).map(loop -> Arguments.of(p, loop)));
    }

    /** Every schedule of the time loop forced in turn (the big shapes' splits even for these small ones). */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("nativePathsEveryTimeLoop")
    void nativeKernelsMatchThePureJavaPath(Path path, CpuTuning.TimeLoop loop) {
        compareWithJava(path, path.unitBlock(), CpuTuning.DEFAULT.withTimeLoop(loop));
    }

    private static void compareWithJava(Path path, int block, CpuTuning tuning) {
        // (I, H, layers, bidirectional, bias): odd sizes (padding inside the engine), H = 100 and
        // 200 (several unit groups, split unevenly between workers), a 3-layer stack without bias.
        LstmConfig[] configs = {new LstmConfig(6, 100, 2, true, true, false),
                new LstmConfig(33, 17, 3, false, false, false), new LstmConfig(64, 200, 1, true, true, false),
                new LstmConfig(1, 1, 1, false, true, false)};
        for (LstmConfig config : configs) {
            compareWithJava(path, block, tuning, config, false);
        }
    }

    /**
     * Lengths, projections and dropout masks on the native kernels, against the Java path: every
     * time-loop schedule, projections narrower and wider than a vector, lengths unsorted with
     * repeats (and one sequence of one step), in both directions.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("nativePathsEveryTimeLoop")
    void lengthsProjectionsAndDropoutOnTheKernelsMatchTheJavaPath(Path path, CpuTuning.TimeLoop loop) {
        int block = path.unitBlock();
        CpuTuning tuning = CpuTuning.DEFAULT.withTimeLoop(loop);
        LstmConfig[] configs = {new LstmConfig(6, 100, 2, true, true, false),
                new LstmConfig(33, 17, 3, false, false, false, 5, 0), new LstmConfig(10, 40, 2, true, true, false, 20, 0),
                new LstmConfig(3, 20, 2, false, true, false, 18, 0)};
        for (LstmConfig config : configs) {
            compareWithJava(path, block, tuning, config, true);
        }
    }

    private static void compareWithJava(Path path, int block, CpuTuning tuning, LstmConfig config, boolean features) {
        LstmParameters params = LstmParameters.initialize(config, 11);
        for (int batch : new int[] {40, 7, 3, 1}) {
            try (LstmEngine fast = new CpuLstmEngine(params, block, tuning)) {
                for (int round = 0; round < 2; round++) {
                    Features extra = features ? Features.random(config, 5, batch, 31 + round) : Features.NONE;
                    float[][] reference;
                    try (LstmEngine java = new CpuLstmEngine(params, 0, CpuTuning.DEFAULT)) {
                        reference = runForwardBackward(java, config, 5, batch, 7 + round, extra);
                    }
                    float[][] got = runForwardBackward(fast, config, 5, batch, 7 + round, extra);
                    for (int i = 0; i < got.length; i++) {
                        String name = config + " batch " + batch + " " + path + " " + tuning.timeLoop() + " round "
                                + round + (features ? " with lengths and masks" : "") + ": " + OUTPUT_NAMES[i];
                        assertClose(name, new int[] {got[i].length}, toDoubles(reference[i]), got[i],
                                PYTORCH_RELATIVE_TOLERANCE);
                    }
                    // In-place update (as an optimizer does): the next round must see it.
                    for (float[] w : config.projSize() > 0 ? List.of(params.weightHh(0, 0), params.weightHr(0, 0))
                            : List.of(params.weightHh(0, 0))) {
                        for (int j = 0; j < w.length; j++) {
                            w[j] *= 0.9f;
                        }
                    }
                }
            }
        }
    }

    /** Per-sequence lengths and dropout masks of one call, or none. */
    record Features(int[] lengths, float[][] masks) {
        static final Features NONE = new Features(null, null);

        static Features random(LstmConfig config, int steps, int batch, long seed) {
            Random random = new Random(seed);
            int[] lengths = new int[batch];
            for (int b = 0; b < batch; b++) {
                lengths[b] = 1 + random.nextInt(steps);
            }
            lengths[batch / 2] = steps;
            float[][] masks = new float[config.numLayers() - 1][steps * batch * config.outputSize()];
            for (float[] mask : masks) {
                for (int i = 0; i < mask.length; i++) {
                    mask[i] = random.nextFloat() < 0.3f ? 0f : 1f / 0.7f;
                }
            }
            return new Features(lengths, config.numLayers() > 1 ? masks : null);
        }
    }

    /**
     * A NaN in the input reaches exactly the outputs it reaches in PyTorch (and on the Java path):
     * its sequence's every later step and state, no other sequence. (The kernels' activations clamp
     * their argument; a clamp that swallowed NaN would turn a diverged model into plausible numbers.)
     */
    @ParameterizedTest
    @EnumSource(Path.class)
    void aNanInTheInputPropagatesAsInPyTorch(Path path) {
        LstmConfig config = new LstmConfig(4, 20, 1, false, true, false);
        LstmParameters params = LstmParameters.initialize(config, 3);
        int t = 4, b = 3, hidden = 20;
        float[] x = random(t * b * 4, 9);
        x[(1 * b + 2) * 4 + 1] = Float.NaN; // step 1, sequence 2
        float[] y = new float[t * b * hidden], hn = new float[b * hidden], cn = new float[b * hidden];
        try (LstmEngine engine = path.backend().open(params)) {
            engine.forward(t, b, x, null, null, y, hn, cn, false);
        }
        for (int step = 0; step < t; step++) {
            for (int seq = 0; seq < b; seq++) {
                for (int u = 0; u < hidden; u++) {
                    boolean reached = seq == 2 && step >= 1;
                    assertEquals(reached, Float.isNaN(y[(step * b + seq) * hidden + u]),
                            path + ": y[" + step + ", " + seq + ", " + u + "]");
                }
            }
        }
        for (int i = 0; i < b * hidden; i++) {
            assertEquals(i / hidden == 2, Float.isNaN(hn[i]), path + ": hn[" + i + "]");
            assertEquals(i / hidden == 2, Float.isNaN(cn[i]), path + ": cn[" + i + "]");
        }
    }

    /**
     * An infinite input saturates the gates of its sequence (σ(±∞) = 0 or 1, tanh(±∞) = ±1), so its
     * outputs stay finite, as on the Java path. H = 20 is not a multiple of the vector width: the
     * padded lanes of the last unit block see Inf · 0 = NaN in their pre-activation, and the
     * kernels must keep that from flowing into the real lanes through h and c (forward and back).
     */
    @ParameterizedTest
    @MethodSource("nativePaths")
    void anInfiniteInputNeverReachesRealLanesThroughThePadding(Path path) {
        int block = path.unitBlock();
        LstmConfig config = new LstmConfig(4, 20, 2, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 3);
        int t = 5, b = 3, out = t * b * 40, states = 4 * b * 20;
        float[] x = random(t * b * 4, 9);
        x[(1 * b + 2) * 4 + 1] = Float.POSITIVE_INFINITY; // step 1, sequence 2
        float[][] java = new float[3][], fast = new float[3][];
        for (int pass = 0; pass < 2; pass++) {
            float[] y = new float[out], hn = new float[states], cn = new float[states];
            try (LstmEngine engine = new CpuLstmEngine(params, pass == 0 ? 0 : block, CpuTuning.DEFAULT)) {
                engine.forward(t, b, x, null, null, y, hn, cn, false);
            }
            float[][] got = pass == 0 ? java : fast;
            got[0] = y;
            got[1] = hn;
            got[2] = cn;
        }
        String[] names = {"y", "hn", "cn"};
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < java[i].length; j++) {
                assertTrue(Float.isFinite(java[i][j]), "the Java path: " + names[i] + "[" + j + "] = " + java[i][j]);
            }
            assertClose(path + " " + names[i], new int[] {fast[i].length}, toDoubles(java[i]), fast[i],
                    PYTORCH_RELATIVE_TOLERANCE);
        }
    }

    /**
     * The same call gives the same bits whether the kernels' time loops are split by units, by
     * sequences, or run on one worker: T·B from 1 to 21 covers steps whose share of a worker is
     * one row.
     */
    @ParameterizedTest
    @MethodSource("nativePaths")
    void theKernelsGiveTheSameBitsSplitOrNot(Path path) {
        int block = path.unitBlock();
        // Padded batches, and (second config) lengths, a projection and dropout masks.
        for (LstmConfig config : List.of(new LstmConfig(6, 100, 2, true, true, false),
                new LstmConfig(6, 40, 2, true, true, false, 20, 0))) {
            boolean features = config.projSize() > 0;
            LstmParameters params = LstmParameters.initialize(config, 4);
            for (int steps = 1; steps <= 3; steps++) {
                for (int batch = 1; batch <= 7; batch++) {
                    Features extra = features ? Features.random(config, steps, batch, 5) : Features.NONE;
                    float[][] solo;
                    try (LstmEngine engine = new CpuLstmEngine(params, block,
                            CpuTuning.DEFAULT.withTimeLoop(CpuTuning.TimeLoop.ONE_WORKER))) {
                        solo = runForwardBackward(engine, config, steps, batch, 21, extra);
                    }
                    for (CpuTuning.TimeLoop loop : List.of(CpuTuning.TimeLoop.SPLIT_UNITS, CpuTuning.TimeLoop.SPLIT_ROWS)) {
                        float[][] split;
                        try (LstmEngine engine = new CpuLstmEngine(params, block, CpuTuning.DEFAULT.withTimeLoop(loop))) {
                            split = runForwardBackward(engine, config, steps, batch, 21, extra);
                        }
                        for (int i = 0; i < split.length; i++) {
                            assertArrayEquals(solo[i], split[i], path + " " + config + " " + loop + " T=" + steps + " B="
                                    + batch + ": " + OUTPUT_NAMES[i]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void inferenceOnlyPassesAgreeAndBackwardNeedsATrainingPass() {
        LstmConfig config = new LstmConfig(8, 24, 2, false, true, false);
        LstmParameters params = LstmParameters.initialize(config, 5);
        int block = NativeKernels.status().unitBlock();
        assumeTrue(block > 0, () -> "no native kernels here: " + NativeKernels.status().description());
        int t = 6, b = 5, state = 2 * b * 24;
        float[] x = random(t * b * 8, 1), y = new float[t * b * 24], y2 = new float[y.length];
        float[] hn = new float[state], cn = new float[state];
        try (LstmEngine fast = new CpuLstmEngine(params, block, CpuTuning.DEFAULT);
             LstmEngine java = new CpuLstmEngine(params, 0, CpuTuning.DEFAULT)) {
            fast.forward(t, b, x, null, null, y, hn, cn, false);
            java.forward(t, b, x, null, null, y2, hn, cn, false);
            assertClose("inference y", new int[] {y.length}, toDoubles(y2), y, PYTORCH_RELATIVE_TOLERANCE);
            float[] g = new float[state];
            assertThrows(IllegalStateException.class, () -> fast.backward(new float[y.length], null, null,
                    new float[x.length], g, g, LstmParameters.zeros(config)));
            fast.close();
            assertThrows(IllegalStateException.class, () -> fast.forward(t, b, x, null, null, y, hn, cn, false));
        }
    }

    @Test
    void theKernelsOfThisBuildLoadAndSayWhatTheyRun() {
        assumeTrue(NativeKernels.class.getClassLoader().getResource(NativeKernels.RESOURCE) != null,
                "this build has no native kernels (packaged without g++)");
        NativeKernels.Status status = NativeKernels.probe("auto");
        if (NativeKernels.unitBlockFor("avx2") > 0) {
            assertTrue(status.usable(), status.description());
            assertTrue(status.description().contains(status.isa()), status.description());
        } else {
            assertTrue(status.description().startsWith("pure Java: this CPU has neither"), status.description());
        }
        assertTrue(NativeKernels.probe("java").description().startsWith("pure Java"));
        assertThrows(IllegalArgumentException.class, () -> NativeKernels.probe("sse"));
        jlstm.EngineOptions options = jlstm.EngineOptions.fromSystemProperties();
        assertTrue(CpuBackend.threadsDescription(options).contains(options.resolvedCpuThreads() + " thread"));
    }

    private static final String[] OUTPUT_NAMES = {"y", "hn", "cn", "dx", "dh0", "dc0", "dW_ih_l0", "dW_hh_last",
            "db_ih_l0", "db_hh_last", "dW_hr_last"};

    private static float[][] runForwardBackward(LstmEngine engine, LstmConfig config, int steps, int batch,
                                                long seed) {
        return runForwardBackward(engine, config, steps, batch, seed, Features.NONE);
    }

    private static float[][] runForwardBackward(LstmEngine engine, LstmConfig config, int steps, int batch,
                                                long seed, Features features) {
        int dirs = config.directions(), hidden = config.hiddenSize(), real = config.realHiddenSize();
        int states = config.numLayers() * dirs * batch;
        float[] x = random(steps * batch * config.inputSize(), seed);
        float[] h0 = random(states * real, seed + 1), c0 = random(states * hidden, seed + 2);
        float[] dy = random(steps * batch * dirs * real, seed + 3);
        float[] dhn = random(states * real, seed + 4), dcn = random(states * hidden, seed + 5);
        float[] y = new float[steps * batch * dirs * real], hn = new float[states * real], cn = new float[states * hidden];
        float[] dx = new float[x.length], dh0 = new float[h0.length], dc0 = new float[c0.length];
        LstmParameters gradients = LstmParameters.zeros(config);
        engine.forward(steps, batch, x, h0, c0, y, hn, cn, true, features.lengths(), features.masks());
        engine.backward(dy, dhn, dcn, dx, dh0, dc0, gradients);
        int last = config.numLayers() - 1;
        float[] biasIh = config.bias() ? gradients.biasIh(0, 0).clone() : new float[0];
        float[] biasHh = config.bias() ? gradients.biasHh(last, dirs - 1).clone() : new float[0];
        float[] hr = config.projSize() > 0 ? gradients.weightHr(last, dirs - 1).clone() : new float[0];
        return new float[][] {y, hn, cn, dx, dh0, dc0, gradients.weightIh(0, 0).clone(),
                gradients.weightHh(last, dirs - 1).clone(), biasIh, biasHh, hr};
    }

    private static float[] random(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
