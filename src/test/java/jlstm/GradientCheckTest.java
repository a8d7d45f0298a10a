package jlstm;

import static jlstm.TensorAssert.assertClose;
import static jlstm.TensorAssert.toDoubles;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Gradients proven two ways: (1) the double-precision {@link DoubleLstmReference}'s analytic
 * backward agrees with central finite differences of its own forward pass for every parameter,
 * x, h0 and c0 element; its forward agrees with PyTorch's golden cases; (2) every engine's
 * float32 forward and backward agree with that reference ({@link EngineVsReferenceTest} and
 * {@link CudaEngineVsReferenceTest}).
 */
class GradientCheckTest {
    /** Central-difference step; with double precision and O(1) values the truncation error is ~ε² ≈ 1e-12. */
    private static final double FD_STEP = 1e-6;
    /**
     * Analytic vs finite difference, relative to max(1, |fd|): rounding in the loss (~1e-15) divided
     * by the step gives ~1e-9, so 1e-6 leaves ample margin while a wrong term (errors of 1e-2 and
     * more) still fails.
     */
    private static final double FD_TOLERANCE = 1e-6;
    /**
     * float32 engine vs the double reference, relative to max(1, max|ref|): float32 rounding
     * (6e-8 per operation) over these tiny shapes stays near 1e-6; 1e-5 leaves margin.
     */
    static final double FLOAT_VS_DOUBLE_TOLERANCE = 1e-5;
    /** Reference vs golden (float32 roundings of PyTorch's float64 results): half an ulp is 6e-8 relative. */
    private static final double REFERENCE_VS_PYTORCH_TOLERANCE = 1e-6;

    /**
     * A tiny problem: the config, which optional inputs are given, per-sequence lengths (null: all
     * T) and whether fixed dropout masks (from the config's dropout p) sit between the layers.
     */
    record Problem(String name, LstmConfig config, int steps, int batch, boolean h0, boolean c0, boolean dhn,
                   boolean dcn, int[] lengths) {
        Problem(String name, LstmConfig config, int steps, int batch, boolean h0, boolean c0, boolean dhn,
                boolean dcn) {
            this(name, config, steps, batch, h0, c0, dhn, dcn, null);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Problem> problems() {
        return Stream.of(
                new Problem("1 layer, h0 c0 dhn dcn", LstmConfig.of(3, 2), 4, 2, true, true, true, true),
                new Problem("T=1 B=1", LstmConfig.of(2, 3), 1, 1, false, false, false, false),
                new Problem("bidirectional 2 layers", LstmConfig.of(3, 2).withLayers(2).withBidirectional(true),
                        3, 2, true, true, true, true),
                new Problem("no bias, bidirectional 2 layers",
                        LstmConfig.of(2, 3).withLayers(2).withBidirectional(true).withBias(false),
                        3, 1, false, false, false, true),
                new Problem("3 layers, h0 only", LstmConfig.of(2, 2).withLayers(3), 2, 2, true, false, true, false),
                new Problem("projection, bidirectional 2 layers",
                        LstmConfig.of(3, 3).withProjSize(2).withLayers(2).withBidirectional(true), 3, 2, true, true,
                        true, true),
                new Problem("lengths, bidirectional 2 layers", LstmConfig.of(2, 2).withLayers(2).withBidirectional(true),
                        4, 3, true, true, true, true, new int[] {2, 4, 1}),
                new Problem("dropout masks, 3 layers", LstmConfig.of(2, 3).withLayers(3).withDropout(0.4), 3, 2,
                        true, true, true, true),
                new Problem("lengths, projection and dropout masks",
                        LstmConfig.of(2, 3).withProjSize(1).withLayers(2).withBidirectional(true).withDropout(0.5),
                        3, 3, true, false, true, true, new int[] {3, 1, 2}));
    }

    /**
     * Seeded values for a problem: float32 parameters and inputs, so engines and reference see the
     * same numbers; dropout masks (0 or 1/(1−p)) fixed from the seed when the config has dropout.
     */
    static final class Values {
        final LstmParameters parameters;
        final float[] x, h0, c0, dy, dhn, dcn;
        final float[][] masks; // [L−1][T·B·D·R] or null

        Values(Problem p, long seed) {
            parameters = LstmParameters.initialize(p.config(), seed);
            SplittableRandom random = new SplittableRandom(seed + 1);
            LstmConfig c = p.config();
            int slots = c.numLayers() * c.directions() * p.batch();
            x = uniform(random, p.steps() * p.batch() * c.inputSize(), 1.5);
            h0 = p.h0() ? uniform(random, slots * c.realHiddenSize(), 0.8) : null;
            c0 = p.c0() ? uniform(random, slots * c.hiddenSize(), 0.8) : null;
            dy = uniform(random, p.steps() * p.batch() * c.outputSize(), 1);
            dhn = p.dhn() ? uniform(random, slots * c.realHiddenSize(), 1) : null;
            dcn = p.dcn() ? uniform(random, slots * c.hiddenSize(), 1) : null;
            if (c.dropout() > 0) {
                masks = new float[c.numLayers() - 1][p.steps() * p.batch() * c.outputSize()];
                for (float[] mask : masks) {
                    for (int i = 0; i < mask.length; i++) {
                        mask[i] = random.nextDouble() < c.dropout() ? 0f : (float) (1 / (1 - c.dropout()));
                    }
                }
            } else {
                masks = null;
            }
        }

        double[][] maskDoubles() {
            return masks == null ? null : java.util.Arrays.stream(masks).map(TensorAssert::toDoubles)
                    .toArray(double[][]::new);
        }

        java.util.List<Tensor> maskTensors(Problem p) {
            return masks == null ? null : java.util.Arrays.stream(masks)
                    .map(m -> Tensor.of(m, p.steps(), p.batch(), p.config().outputSize())).toList();
        }

        private static float[] uniform(SplittableRandom random, int n, double bound) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) random.nextDouble(-bound, bound);
            }
            return v;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("problems")
    void referenceGradientsAgreeWithFiniteDifferences(Problem p) {
        Values v = new Values(p, 11);
        DoubleLstmReference ref = DoubleLstmReference.of(v.parameters);
        LstmConfig c = p.config();
        int slots = c.numLayers() * c.directions() * p.batch();
        // h0/c0 as variables even when not given: the gradient at zeros must be right too.
        double[] x = toDoubles(v.x);
        double[] h0 = v.h0 == null ? new double[slots * c.realHiddenSize()] : toDoubles(v.h0);
        double[] c0 = v.c0 == null ? new double[slots * c.hiddenSize()] : toDoubles(v.c0);
        double[][] masks = v.maskDoubles();
        double[] dy = toDoubles(v.dy);
        double[] dhn = v.dhn == null ? null : toDoubles(v.dhn);
        double[] dcn = v.dcn == null ? null : toDoubles(v.dcn);

        DoubleLstmReference.Gradients analytic = ref.backward(ref.forward(p.steps(), p.batch(), x, h0, c0,
                p.lengths(), masks), dy, dhn, dcn);
        List<String> failures = new ArrayList<>();
        int checked = 0;
        java.util.function.DoubleSupplier loss = () -> DoubleLstmReference.loss(
                ref.forward(p.steps(), p.batch(), x, h0, c0, p.lengths(), masks), dy, dhn, dcn);
        checked += compare("x", x, analytic.dx(), loss, failures);
        checked += compare("h0", h0, analytic.dh0(), loss, failures);
        checked += compare("c0", c0, analytic.dc0(), loss, failures);
        for (Map.Entry<String, double[]> e : ref.parameters().entrySet()) {
            checked += compare(e.getKey(), e.getValue(), analytic.parameters().get(e.getKey()), loss, failures);
        }
        if (!failures.isEmpty()) {
            fail(p + ": " + failures.size() + " of " + checked + " gradients disagree with finite differences, first: "
                    + failures.subList(0, Math.min(5, failures.size())));
        }
        assertTrue(checked > 50, "too few gradient elements checked: " + checked);
    }

    /** Compares each element's analytic gradient with a central difference of the loss; returns how many. */
    private static int compare(String name, double[] variable, double[] analytic,
                               java.util.function.DoubleSupplier loss, List<String> failures) {
        for (int i = 0; i < variable.length; i++) {
            double saved = variable[i];
            variable[i] = saved + FD_STEP;
            double plus = loss.getAsDouble();
            variable[i] = saved - FD_STEP;
            double minus = loss.getAsDouble();
            variable[i] = saved;
            double numeric = (plus - minus) / (2 * FD_STEP);
            if (!(Math.abs(numeric - analytic[i]) <= FD_TOLERANCE * Math.max(1, Math.abs(numeric)))) {
                failures.add(String.format("%s[%d]: analytic %.10g, finite difference %.10g", name, i, analytic[i],
                        numeric));
            }
        }
        return variable.length;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jlstm.GoldenCase#all")
    void referenceAgreesWithPyTorch(GoldenCase golden) throws Exception {
        LstmParameters params = golden.parameters();
        LstmConfig c = params.config();
        Map<String, Tensor> in = golden.inputs();
        Map<String, Tensor> want = golden.expected();
        boolean bf = golden.batchFirst();
        Tensor x = timeMajor(in.get("x"), bf);
        int steps = x.dim(0), batch = x.dim(1);
        DoubleLstmReference ref = DoubleLstmReference.of(params);
        List<Tensor> masks = golden.dropoutMasks();
        double[][] maskValues = masks == null ? null
                : masks.stream().map(m -> toDoubles(timeMajor(m, bf).data())).toArray(double[][]::new);
        DoubleLstmReference.Pass pass = ref.forward(steps, batch, toDoubles(x.data()), doubles(in.get("h0")),
                doubles(in.get("c0")), golden.lengths(), maskValues);
        assertClose(golden + " y", timeMajor(want.get("y"), bf).shape(), toDoubles(timeMajor(want.get("y"), bf).data()),
                pass.y, REFERENCE_VS_PYTORCH_TOLERANCE);
        assertClose(golden + " hn", want.get("hn").shape(), toDoubles(want.get("hn").data()), pass.hn,
                REFERENCE_VS_PYTORCH_TOLERANCE);
        assertClose(golden + " cn", want.get("cn").shape(), toDoubles(want.get("cn").data()), pass.cn,
                REFERENCE_VS_PYTORCH_TOLERANCE);
        if (!in.containsKey("dy")) {
            return;
        }
        DoubleLstmReference.Gradients g = ref.backward(pass, toDoubles(timeMajor(in.get("dy"), bf).data()),
                doubles(in.get("dhn")), doubles(in.get("dcn")));
        Tensor dx = timeMajor(want.get("dx"), bf);
        assertClose(golden + " dx", dx.shape(), toDoubles(dx.data()), g.dx(), REFERENCE_VS_PYTORCH_TOLERANCE);
        if (want.containsKey("dh0")) {
            assertClose(golden + " dh0", want.get("dh0").shape(), toDoubles(want.get("dh0").data()), g.dh0(),
                    REFERENCE_VS_PYTORCH_TOLERANCE);
        }
        if (want.containsKey("dc0")) {
            assertClose(golden + " dc0", want.get("dc0").shape(), toDoubles(want.get("dc0").data()), g.dc0(),
                    REFERENCE_VS_PYTORCH_TOLERANCE);
        }
        for (String name : c.parameterNames()) {
            Tensor e = want.get("grad." + name);
            assertClose(golden + " grad." + name, e.shape(), toDoubles(e.data()), g.parameters().get(name),
                    REFERENCE_VS_PYTORCH_TOLERANCE);
        }
    }

    private static Tensor timeMajor(Tensor t, boolean batchFirst) {
        return batchFirst ? t.swapFirstTwoAxes() : t;
    }

    private static double[] doubles(Tensor t) {
        return t == null ? null : toDoubles(t.data());
    }
}
