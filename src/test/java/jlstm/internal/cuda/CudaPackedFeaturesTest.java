package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmGradients;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.LstmParameters;
import jlstm.Tensor;

/**
 * Per-sequence lengths, projections and dropout masks on the CUDA engine (the one recurrence of
 * {@link RecurrentPasses}) against the CPU engine, forward and backward, every output and gradient: unsorted lengths with
 * ties, a sequence of length 1, every length T, two bidirectional layers, a projection, explicit
 * masks. (The golden cases compare the same features with PyTorch.)
 */
@Tag("cuda")
class CudaPackedFeaturesTest {
    private static final double RELATIVE_TOLERANCE = 1e-4;   // the accuracy contract

    @BeforeEach
    void requireCuda() {
        LstmBackend.Availability a = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
    }

    static List<Arguments> cases() {
        LstmConfig plain = LstmConfig.of(3, 6).withLayers(2).withBidirectional(true);
        LstmConfig projected = LstmConfig.of(4, 7).withLayers(2).withBidirectional(true).withProjSize(3);
        return List.of(
                Arguments.of("lengths", plain, new int[] {2, 5, 1, 5, 3}, false),
                Arguments.of("every length T", plain, new int[] {5, 5, 5}, false),
                Arguments.of("projection", projected, null, false),
                Arguments.of("projection + lengths", projected, new int[] {4, 1, 5, 2}, false),
                Arguments.of("masks + lengths", plain, new int[] {3, 5, 2}, true),
                Arguments.of("projection + lengths, one layer", LstmConfig.of(3, 5).withProjSize(2),
                        new int[] {5, 2}, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheCpuEngine(String name, LstmConfig config, int[] lengths, boolean masks) {
        int steps = 5, batch = lengths != null ? lengths.length : 3;
        LstmParameters params = LstmParameters.initialize(config, 31);
        SplittableRandom random = new SplittableRandom(7);
        Tensor x = randomTensor(random, steps, batch, config.inputSize());
        int states = config.numLayers() * config.directions();
        Tensor h0 = randomTensor(random, states, batch, config.realHiddenSize());
        Tensor c0 = randomTensor(random, states, batch, config.hiddenSize());
        Tensor dy = randomTensor(random, steps, batch, config.outputSize());
        Tensor dhn = randomTensor(random, states, batch, config.realHiddenSize());
        Tensor dcn = randomTensor(random, states, batch, config.hiddenSize());
        List<Tensor> maskList = null;
        if (masks) {
            maskList = new ArrayList<>();
            for (int k = 0; k < config.numLayers() - 1; k++) {
                Tensor m = Tensor.zeros(steps, batch, config.outputSize());
                for (int i = 0; i < m.numel(); i++) {
                    m.data()[i] = random.nextDouble() < 0.3 ? 0f : 1f / 0.7f;
                }
                maskList.add(m);
            }
        }
        Map<String, Tensor> cpu = run(Backends.cpu(), params, x, h0, c0, lengths, maskList, dy, dhn, dcn);
        Map<String, Tensor> cuda = run(Backends.cuda(), params, x, h0, c0, lengths, maskList, dy, dhn, dcn);
        for (Map.Entry<String, Tensor> e : cpu.entrySet()) {
            float[] want = e.getValue().data(), got = cuda.get(e.getKey()).data();
            double scale = 1;
            for (float v : want) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < want.length; i++) {
                double diff = Math.abs((double) want[i] - got[i]);
                if (!(diff <= RELATIVE_TOLERANCE * scale)) {
                    throw new AssertionError(String.format(Locale.ROOT, "%s %s[%d]: cuda %s, cpu %s", name,
                            e.getKey(), i, got[i], want[i]));
                }
            }
        }
    }

    /**
     * One layer's inference forward, training forward and backward on {@code backend}, every result by
     * name. Also SanitizerWorkload's (its packed part).
     */
    static Map<String, Tensor> run(LstmBackend backend, LstmParameters params, Tensor x, Tensor h0, Tensor c0,
                                   int[] lengths, List<Tensor> masks, Tensor dy, Tensor dhn, Tensor dcn) {
        try (LstmLayer layer = LstmLayer.create(params, backend)) {
            Map<String, Tensor> all = new java.util.LinkedHashMap<>();
            all.put("y (inference)", layer.forward(x, h0, c0, lengths).y());
            LstmOutput out = masks == null ? layer.forwardTraining(x, h0, c0, lengths, null)
                    : layer.forwardTraining(x, h0, c0, lengths, masks);
            all.put("y", out.y());
            all.put("hn", out.hn());
            all.put("cn", out.cn());
            LstmGradients g = layer.backward(dy, dhn, dcn);
            all.put("dx", g.dx());
            all.put("dh0", g.dh0());
            all.put("dc0", g.dc0());
            g.parameters().forEach((k, v) -> all.put("grad." + k, v));
            return all;
        }
    }

    private static Tensor randomTensor(SplittableRandom random, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) random.nextDouble(-1, 1);
        }
        return t;
    }

    /**
     * The packed path sizes its workspace once per (T, B): after the first call of a shape, calls
     * with other lengths, masks, a projection and two bidirectional layers allocate no device
     * memory (cuMemAlloc / cuMemFree synchronise the whole device), with graphs on or off.
     */
    @ParameterizedTest(name = "graphs {0}")
    @MethodSource("graphSwitch")
    void thePackedPathAllocatesNothingAfterTheFirstCall(boolean graphs) {
        LstmConfig config = LstmConfig.of(4, 7).withLayers(2).withBidirectional(true).withProjSize(3);
        LstmParameters params = LstmParameters.initialize(config, 5);
        int steps = 6, batch = 4;
        SplittableRandom random = new SplittableRandom(3);
        float[] x = randomTensor(random, steps, batch, config.inputSize()).data();
        float[] dy = randomTensor(random, steps, batch, config.outputSize()).data();
        float[][] masks = {randomTensor(random, steps, batch, config.outputSize()).data()};
        int states = config.numLayers() * config.directions() * batch;
        float[] y = new float[dy.length], hn = new float[states * config.realHiddenSize()];
        float[] cn = new float[states * config.hiddenSize()], dx = new float[x.length];
        float[] dh0 = new float[hn.length], dc0 = new float[cn.length];
        LstmParameters grads = LstmParameters.zeros(config);
        int[][] lengthsPerCall = {{6, 2, 5, 1}, {3, 6, 6, 2}, {6, 2, 5, 1}, null, {1, 1, 1, 1}, {3, 6, 6, 2}};
        try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
            engine.setGraphs(graphs);
            long afterFirst = -1;
            for (int[] lengths : lengthsPerCall) {
                engine.forward(steps, batch, x, null, null, y, hn, cn, true, lengths, masks);
                engine.backward(dy, null, null, dx, dh0, dc0, grads);
                engine.forward(steps, batch, x, null, null, y, hn, cn, false, lengths, null);
                if (afterFirst < 0) {
                    afterFirst = engine.deviceAllocations();
                } else {
                    assertEquals(afterFirst, engine.deviceAllocations(),
                            "device allocations on a later call with lengths " + java.util.Arrays.toString(lengths));
                }
            }
            if (graphs) {
                assertTrue(engine.graphCount() > 0, "graphs were captured");
            }
        }
    }

    static List<Boolean> graphSwitch() {
        return List.of(false, true);
    }

    @Test
    void theDeviceResidentApiSaysWhereProjectionsRun() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 5).withProjSize(2), 1);
        try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> engine.forward(2, 1, new jcuda.driver.CUdeviceptr(), null, null,
                            new jcuda.driver.CUdeviceptr(), new jcuda.driver.CUdeviceptr(),
                            new jcuda.driver.CUdeviceptr(), false));
            assertEquals("a model with a projection (proj_size = 2) runs through the host-array API on CUDA "
                    + "(LstmLayer, or forward/backward with float[])", e.getMessage());
        }
    }
}
