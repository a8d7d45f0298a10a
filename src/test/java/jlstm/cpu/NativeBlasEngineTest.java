package jlstm.cpu;

import static jlstm.TensorAssert.PYTORCH_RELATIVE_TOLERANCE;
import static jlstm.TensorAssert.assertClose;
import static jlstm.TensorAssert.toDoubles;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native-BLAS path of the CPU engine, forced on for every product (thresholds 0),
 * against PyTorch's golden cases and against the pure-Java path on shapes the golden cases do
 * not cover (bidirectional, several layers, batch large enough for the sequence split, odd sizes).
 * Skipped with netlib's reason where no native BLAS is usable (e.g. a CI machine without
 * libblas.so.3); the pure-Java path is what every other test checks there.
 */
class NativeBlasEngineTest {

    /** The binding, or a skipped test with the reason why it is not usable here. */
    private static NativeBlas requireNative() {
        NativeBlas blas = NativeBlas.loadIgnoringProperty();
        assumeTrue(blas != null, () -> "no usable native BLAS here, nothing to test: "
                + NativeBlas.status().description());
        return blas;
    }

    /**
     * Engines with every product native (steps too), only the big products, or only the steps;
     * called from one thread, or split across the workers (as with OPENBLAS_NUM_THREADS=1; the steps
     * by sequences or by hidden units). Called
     * from one thread, the engine uses native layer products only together with native steps.
     */
    enum Mode {
        ALL(0, 0, false, false), ALL_SPLIT(0, 0, true, false), ALL_SPLIT_UNITS(0, 0, true, true),
        LAYER_PRODUCTS_SPLIT(0, Double.MAX_VALUE, true, false), STEPS(Double.MAX_VALUE, 0, false, false),
        STEPS_SPLIT(Double.MAX_VALUE, 0, true, false), STEPS_SPLIT_UNITS(Double.MAX_VALUE, 0, true, true);

        final double minFlops;
        final double stepFlops;
        final boolean split;
        final boolean units;

        Mode(double minFlops, double stepFlops, boolean split, boolean units) {
            this.minFlops = minFlops;
            this.stepFlops = stepFlops;
            this.split = split;
            this.units = units;
        }

        LstmBackend backend(NativeBlas blas) {
            return new LstmBackend() {
                @Override
                public String name() {
                    return "cpu";
                }

                @Override
                public Availability availability() {
                    return Availability.yes("native BLAS forced: " + Mode.this);
                }

                @Override
                public LstmEngine open(LstmParameters parameters) {
                    return new CpuLstmEngine(parameters, blas, minFlops, stepFlops, split, units);
                }
            };
        }
    }

    static Stream<Arguments> goldenCasesBothWays() {
        return GoldenCase.all().stream().flatMap(c -> Stream.of(Arguments.of(c, Mode.ALL), Arguments.of(c, Mode.ALL_SPLIT),
                Arguments.of(c, Mode.ALL_SPLIT_UNITS)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("goldenCasesBothWays")
    void everyProductNativeMatchesPyTorch(GoldenCase golden, Mode mode) throws Exception {
        NativeBlas blas = requireNative();
        Map<String, Tensor> actual;
        try (LstmLayer layer = LstmLayer.create(golden.parameters(), mode.backend(blas))) {
            actual = golden.runThrough(layer);
        }
        for (Map.Entry<String, Tensor> e : golden.expected().entrySet()) {
            Tensor got = actual.get(e.getKey());
            assertTrue(got != null, golden + ": no '" + e.getKey() + "'");
            assertClose(golden + " " + e.getKey() + " (native BLAS)", e.getValue(), got, PYTORCH_RELATIVE_TOLERANCE);
        }
    }

    @Test
    void nativeModesMatchThePureJavaPath() {
        NativeBlas blas = requireNative();
        // (I, H, layers, bidirectional, bias) × batch: batch 40 makes the Java loop split sequences,
        // batch 3 splits hidden units (a per-worker gate layout that the native steps must not use).
        LstmConfig[] configs = {new LstmConfig(6, 100, 2, true, true, false),
                new LstmConfig(33, 17, 3, false, false, false), new LstmConfig(64, 48, 1, true, true, false)};
        for (LstmConfig config : configs) {
            LstmParameters params = LstmParameters.initialize(config, 11);
            for (int batch : new int[] {40, 3, 1}) {
                float[][] reference;
                try (LstmEngine java = new CpuLstmEngine(params, null, 0, 0, false, false)) {
                    reference = runForwardBackward(java, config, batch, 7);
                }
                for (Mode mode : Mode.values()) {
                    try (LstmEngine engine = mode.backend(blas).open(params)) {
                        // Twice on the same engine: the second call reuses the packed flat weights.
                        runForwardBackward(engine, config, batch, 3);
                        float[][] got = runForwardBackward(engine, config, batch, 7);
                        for (int i = 0; i < got.length; i++) {
                            String name = config + " batch " + batch + " " + mode + ": " + OUTPUT_NAMES[i];
                            assertClose(name, new int[] {got[i].length}, toDoubles(reference[i]), got[i],
                                    PYTORCH_RELATIVE_TOLERANCE);
                        }
                    }
                }
            }
        }
    }

    private static final String[] OUTPUT_NAMES = {"y", "hn", "cn", "dx", "dh0", "dc0", "dW_ih_l0", "dW_hh_last",
            "db_ih_l0"};

    private static float[][] runForwardBackward(LstmEngine engine, LstmConfig config, int batch, long seed) {
        int steps = 5, dirs = config.directions(), hidden = config.hiddenSize();
        int state = config.numLayers() * dirs * batch * hidden;
        float[] x = random(steps * batch * config.inputSize(), seed);
        float[] h0 = random(state, seed + 1), c0 = random(state, seed + 2);
        float[] dy = random(steps * batch * dirs * hidden, seed + 3);
        float[] dhn = random(state, seed + 4), dcn = random(state, seed + 5);
        float[] y = new float[steps * batch * dirs * hidden], hn = new float[state], cn = new float[state];
        float[] dx = new float[x.length], dh0 = new float[state], dc0 = new float[state];
        LstmParameters gradients = LstmParameters.zeros(config);
        engine.forward(steps, batch, x, h0, c0, y, hn, cn, true);
        engine.backward(dy, dhn, dcn, dx, dh0, dc0, gradients);
        int last = config.numLayers() - 1;
        float[] biasGrad = config.bias() ? gradients.biasIh(0, 0).clone() : new float[0];
        return new float[][] {y, hn, cn, dx, dh0, dc0, gradients.weightIh(0, 0).clone(),
                gradients.weightHh(last, dirs - 1).clone(), biasGrad};
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
