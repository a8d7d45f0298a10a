package jlstm.internal.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmGradients;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract of {@link LstmEngine#backward}: backward differentiates the forward that ran. Weights
 * edited in place between a training-mode forward and its backward do not reach that backward
 * (its gradients are bit for bit those of the same pass without the edit), and the next forward
 * runs with them. On every CPU path (pure Java, AVX-512, AVX2), with lengths, a projection, dropout
 * masks and two directions, and a shape whose weights are compared by all workers at once.
 */
public class BackwardUsesForwardWeightsTest {

    /** (I, H, P, L, bidirectional, T, B, lengths or null, dropout masks) × every path. */
    static Stream<Arguments> cases() {
        Object[][] shapes = {
                {3, 6, 4, 2, true, 5, 3, new int[] {5, 2, 4}, true},   // everything at once
                {5, 9, 0, 1, false, 4, 2, null, false},                 // the plain case, H off the vector width
                {128, 128, 0, 1, false, 6, 1, null, false},             // B = 1, weights ≥ the parallel compare's threshold
        };
        return Stream.of(shapes).flatMap(s -> Stream.of(CpuPathsTest.Path.values()).map(p -> {
            Object[] args = Arrays.copyOf(s, s.length + 1);
            args[s.length] = p;
            return Arguments.of(args);
        }));
    }

    @ParameterizedTest(name = "I={0} H={1} P={2} L={3} bidir={4} T={5} B={6} {9}")
    @MethodSource("cases")
    void backwardIgnoresEditsAfterItsForward(int in, int hidden, int proj, int layers, boolean bidir, int steps,
                                             int batch, int[] lengths, boolean masked, CpuPathsTest.Path path) {
        LstmConfig config = new LstmConfig(in, hidden, layers, bidir, true, false, proj, 0);
        LstmParameters params = LstmParameters.initialize(config, 7);
        Pass inputs = Pass.random(config, steps, batch, masked, 3);
        try (LstmEngine engine = new CpuLstmEngine(params, path.unitBlock(), CpuTuning.DEFAULT)) {
            Pass unedited = inputs.forward(engine, lengths).backward(engine);

            Pass pass = inputs.forward(engine, lengths);
            edit(params);
            pass.backward(engine);
            pass.assertSameBits(unedited, "backward after an in-place edit");

            Pass after = inputs.forward(engine, lengths).backward(engine);
            Pass fresh;
            try (LstmEngine other = new CpuLstmEngine(params, path.unitBlock(), CpuTuning.DEFAULT)) {
                fresh = inputs.forward(other, lengths).backward(other);
            }
            after.assertSameBits(fresh, "the next pass, against a new engine on the edited weights");
            assertFalse(Arrays.equals(after.y, unedited.y), "the edit changes y: the test can tell the weights apart");
            assertFalse(Arrays.equals(after.gradients.get("weight_ih_l0").data(),
                    unedited.gradients.get("weight_ih_l0").data()), "the edit changes the gradients");
        }
    }

    /** Through the public API, with parametersUpdated() announcing the edit as the docs ask. */
    @Test
    void layerBackwardDifferentiatesItsForwardTraining() {
        layerBackwardDifferentiatesItsForward(Device.CPU);
    }

    /**
     * LstmLayer on {@code device}: forwardTraining, an in-place edit announced by parametersUpdated(),
     * backward → bit-identical to an unedited layer's pass; the next forward sees the edit.
     */
    public static void layerBackwardDifferentiatesItsForward(Device device) {
        LstmConfig config = LstmConfig.of(4, 8).withLayers(2);
        LstmParameters params = LstmParameters.initialize(config, 5);
        LstmParameters copy = LstmParameters.initialize(config, 5);
        Tensor x = Tensor.of(Pass.fill(new SplittableRandom(1), 6 * 2 * 4), 6, 2, 4);
        Tensor dy = Tensor.of(Pass.fill(new SplittableRandom(2), 6 * 2 * 8), 6, 2, 8);
        try (LstmLayer layer = LstmLayer.create(params, device);
             LstmLayer reference = LstmLayer.create(copy, device)) {
            layer.forwardTraining(x, null, null);
            edit(params);
            layer.parametersUpdated();
            LstmGradients got = layer.backward(dy, null, null);
            reference.forwardTraining(x, null, null);
            LstmGradients expected = reference.backward(dy, null, null);
            assertArrayEquals(expected.dx().data(), got.dx().data(), "dx");
            for (String name : config.parameterNames()) {
                assertArrayEquals(expected.parameters().get(name).data(), got.parameters().get(name).data(), name);
            }
            edit(copy);
            reference.parametersUpdated();
            assertArrayEquals(reference.forward(x).y().data(), layer.forward(x).y().data(),
                    "the next forward sees the edit");
        }
    }

    /** Changes every parameter in place, as an optimizer step does. */
    public static void edit(LstmParameters params) {
        for (String name : params.config().parameterNames()) {
            float[] v = params.get(name).data();
            for (int i = 0; i < v.length; i += 3) {
                v[i] += 0.125f;
            }
        }
    }

    /** Inputs of one pass and, once run, its outputs and gradients (the CUDA group's test uses it too). */
    public static final class Pass {
        final LstmConfig config;
        final int steps;
        final int batch;
        final float[] x, h0, c0, dy, dhn, dcn;
        final float[][] masks;
        public float[] y, hn, cn, dx, dh0, dc0;
        public LstmParameters gradients;

        private Pass(LstmConfig config, int steps, int batch, float[] x, float[] h0, float[] c0, float[] dy,
                     float[] dhn, float[] dcn, float[][] masks) {
            this.config = config;
            this.steps = steps;
            this.batch = batch;
            this.x = x;
            this.h0 = h0;
            this.c0 = c0;
            this.dy = dy;
            this.dhn = dhn;
            this.dcn = dcn;
            this.masks = masks;
        }

        public static Pass random(LstmConfig c, int steps, int batch, boolean masked, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            int slots = c.numLayers() * c.directions();
            float[][] masks = null;
            if (masked) {
                masks = new float[c.numLayers() - 1][steps * batch * c.outputSize()];
                for (float[] m : masks) {
                    for (int i = 0; i < m.length; i++) {
                        m[i] = r.nextDouble() < 0.3 ? 0f : 1f / 0.7f;
                    }
                }
            }
            return new Pass(c, steps, batch, fill(r, steps * batch * c.inputSize()),
                    fill(r, slots * batch * c.realHiddenSize()), fill(r, slots * batch * c.hiddenSize()),
                    fill(r, steps * batch * c.outputSize()), fill(r, slots * batch * c.realHiddenSize()),
                    fill(r, slots * batch * c.hiddenSize()), masks);
        }

        public static float[] fill(SplittableRandom r, int n) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (float) r.nextDouble(-1, 1);
            }
            return a;
        }

        /** A training-mode forward of these inputs on an engine: a new pass holding its outputs. */
        public Pass forward(LstmEngine engine, int[] lengths) {
            Pass out = new Pass(config, steps, batch, x, h0, c0, dy, dhn, dcn, masks);
            out.y = new float[steps * batch * config.outputSize()];
            out.hn = new float[h0.length];
            out.cn = new float[c0.length];
            engine.forward(steps, batch, x, h0, c0, out.y, out.hn, out.cn, true, lengths, masks);
            return out;
        }

        /** The backward of the engine's last forward, into this pass; returns it. */
        public Pass backward(LstmEngine engine) {
            dx = new float[x.length];
            dh0 = new float[h0.length];
            dc0 = new float[c0.length];
            gradients = LstmParameters.zeros(config);
            engine.backward(dy, dhn, dcn, dx, dh0, dc0, gradients);
            return this;
        }

        public void assertSameBits(Pass other, String label) {
            assertArrayEquals(other.y, y, label + ": y");
            assertArrayEquals(other.hn, hn, label + ": hn");
            assertArrayEquals(other.cn, cn, label + ": cn");
            assertArrayEquals(other.dx, dx, label + ": dx");
            assertArrayEquals(other.dh0, dh0, label + ": dh0");
            assertArrayEquals(other.dc0, dc0, label + ": dc0");
            for (String name : config.parameterNames()) {
                assertArrayEquals(other.gradients.get(name).data(), gradients.get(name).data(),
                        label + ": grad." + name);
            }
        }
    }
}
