package jlstm.internal.cpu;

import static jlstm.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;
import jlstm.Tensor;

/**
 * The CPU engine's one recurrence (lengths, projections, dropout masks), on each path (pure Java,
 * AVX-512, AVX2), against things it shares no schedule with: lengths all equal to T must give
 * exactly the bits of no lengths (the padded layout); with lengths, each sequence must come out
 * exactly as if it had been run alone over its own steps (a batch of one, T = its length),
 * gradients included, parameter gradients being the sum over the sequences. PyTorch itself checks
 * it in {@code GoldenCaseTest} and {@code CpuPathsTest} (the lengths, projection and dropout cases).
 */
class LengthScheduleEngineTest {
    /** Two float32 engines summing in different orders over these small shapes: 1e-5 leaves ample margin. */
    private static final double ENGINE_TOLERANCE = 1e-5;

    /** (I, H, P, L, bidirectional, bias, T, B): includes steps big enough for the per-step split (B·4H·R ≥ 1e5/2). */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(3, 5, 0, 1, false, true, 6, 4),
                Arguments.of(4, 6, 0, 2, true, true, 5, 3),
                Arguments.of(5, 7, 3, 2, true, false, 7, 5),
                Arguments.of(6, 32, 0, 1, true, true, 9, 24),
                Arguments.of(6, 32, 12, 2, false, true, 8, 40))
                .flatMap(a -> Stream.of(CpuPathsTest.Path.values()).map(p -> {
                    Object[] args = java.util.Arrays.copyOf(a.get(), 9);
                    args[8] = p;
                    return Arguments.of(args);
                }));
    }

    private static LstmEngine engine(CpuPathsTest.Path path, LstmParameters params) {
        return new CpuLstmEngine(params, path.unitBlock(), CpuTuning.DEFAULT);
    }

    @ParameterizedTest(name = "I={0} H={1} P={2} L={3} bidir={4} bias={5} T={6} B={7} {8}")
    @MethodSource("shapes")
    void fullLengthsGiveThePaddedBits(int in, int hidden, int proj, int layers, boolean bidir, boolean bias,
                                      int steps, int batch, CpuPathsTest.Path path) {
        LstmConfig config = new LstmConfig(in, hidden, layers, bidir, bias, false, proj, 0);
        LstmParameters params = LstmParameters.initialize(config, 3);
        Pass inputs = Pass.random(config, steps, batch, 4);
        int[] full = new int[batch];
        java.util.Arrays.fill(full, steps);
        Pass padded = inputs.run(engine(path, params), params, null);
        Pass withLengths = inputs.run(engine(path, params), params, full);
        padded.assertSameBits(withLengths, config + " " + path);
    }

    @ParameterizedTest(name = "I={0} H={1} P={2} L={3} bidir={4} bias={5} T={6} B={7} {8}")
    @MethodSource("shapes")
    void eachSequenceComesOutAsIfRunAlone(int in, int hidden, int proj, int layers, boolean bidir, boolean bias,
                                          int steps, int batch, CpuPathsTest.Path path) {
        LstmConfig config = new LstmConfig(in, hidden, layers, bidir, bias, false, proj, 0);
        LstmParameters params = LstmParameters.initialize(config, 5);
        SplittableRandom random = new SplittableRandom(6);
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = 1 + random.nextInt(steps);
        }
        lengths[batch / 2] = steps; // one full sequence; the others unsorted, with repeats
        Pass inputs = Pass.random(config, steps, batch, 7);
        Pass together = inputs.run(engine(path, params), params, lengths);

        LstmParameters summed = LstmParameters.zeros(config);
        for (int b = 0; b < batch; b++) {
            Pass alone = inputs.sequence(b, lengths[b]).run(engine(path, params), params, null);
            together.assertSequenceMatches(b, lengths[b], alone, config + " sequence " + b);
            for (String name : config.parameterNames()) {
                float[] sum = summed.get(name).data(), part = alone.gradients.get(name).data();
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += part[i];
                }
            }
        }
        for (String name : config.parameterNames()) {
            assertClose(config + " grad." + name + " = Σ over sequences", summed.get(name),
                    together.gradients.get(name), ENGINE_TOLERANCE);
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(CpuPathsTest.Path.class)
    void padsAreZeroAndGetNoGradient(CpuPathsTest.Path path) {
        LstmConfig config = LstmConfig.of(3, 4).withBidirectional(true);
        LstmParameters params = LstmParameters.initialize(config, 1);
        Pass inputs = Pass.random(config, 5, 3, 2);
        int[] lengths = {2, 5, 1};
        Pass out = inputs.run(engine(path, params), params, lengths);
        for (int b = 0; b < 3; b++) {
            for (int t = lengths[b]; t < 5; t++) {
                for (int j = 0; j < config.outputSize(); j++) {
                    assertEquals(0f, out.y[(t * 3 + b) * config.outputSize() + j], "y past the length");
                }
                for (int j = 0; j < config.inputSize(); j++) {
                    assertEquals(0f, out.dx[(t * 3 + b) * config.inputSize() + j], "dx past the length");
                }
            }
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(CpuPathsTest.Path.class)
    void inPlaceParameterChangesAreSeen(CpuPathsTest.Path path) {
        LstmConfig config = new LstmConfig(3, 6, 2, true, true, false, 4, 0);
        LstmParameters params = LstmParameters.initialize(config, 11);
        Pass inputs = Pass.random(config, 5, 3, 12);
        int[] lengths = {5, 2, 4};
        try (LstmEngine reused = engine(path, params)) {
            inputs.run(reused, params, lengths, false);
            for (String name : List.of("weight_hh_l1_reverse", "weight_hr_l0", "bias_ih_l1", "weight_ih_l0")) {
                params.get(name).data()[1] += 0.25f;
                Pass after = inputs.run(reused, params, lengths, false);
                Pass fresh = inputs.run(engine(path, params), params, lengths);
                after.assertCloseTo(fresh, "after changing " + name);
            }
        }
    }

    @Test
    void scheduleSortsAndShrinksTheActiveBatch() {
        LengthSchedule s = LengthSchedule.of(6, 4, new int[] {2, 5, 2, 3});
        assertArrayEquals(new int[] {1, 3, 0, 2}, new int[] {s.sequence(0), s.sequence(1), s.sequence(2),
                s.sequence(3)}, "longest first, ties in batch order");
        assertArrayEquals(new int[] {4, 4, 2, 1, 1, 0}, new int[] {s.batchSize(0), s.batchSize(1), s.batchSize(2),
                s.batchSize(3), s.batchSize(4), s.batchSize(5)});
        assertEquals(12, s.rows());
        assertEquals(5, s.maxLength());
        assertEquals(8, s.offset(2));
        assertEquals(s.offset(4) + 0, s.finalRow(1, 0), "sequence 1 ends at its step 4, position 0");
        assertEquals(2, s.finalRow(0, 1), "the reverse direction ends at t = 0, at the sequence's position");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LengthSchedule.of(3, 2, new int[] {0, 3}));
        assertEquals("lengths[0] = 0 is outside [1, 3]", e.getMessage());
    }

    /** Inputs (and, after {@link #run}, outputs and gradients) of one forward + backward. */
    static final class Pass {
        final LstmConfig config;
        final int steps;
        final int batch;
        final float[] x, h0, c0, dy, dhn, dcn;
        float[] y, hn, cn, dx, dh0, dc0;
        LstmParameters gradients;

        Pass(LstmConfig config, int steps, int batch, float[] x, float[] h0, float[] c0, float[] dy, float[] dhn,
             float[] dcn) {
            this.config = config;
            this.steps = steps;
            this.batch = batch;
            this.x = x;
            this.h0 = h0;
            this.c0 = c0;
            this.dy = dy;
            this.dhn = dhn;
            this.dcn = dcn;
        }

        static Pass random(LstmConfig c, int steps, int batch, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            int slots = c.numLayers() * c.directions();
            return new Pass(c, steps, batch, fill(r, steps * batch * c.inputSize()),
                    fill(r, slots * batch * c.realHiddenSize()), fill(r, slots * batch * c.hiddenSize()),
                    fill(r, steps * batch * c.outputSize()), fill(r, slots * batch * c.realHiddenSize()),
                    fill(r, slots * batch * c.hiddenSize()));
        }

        /** Sequence b alone: a batch of one over its first {@code length} steps. */
        Pass sequence(int b, int length) {
            int slots = config.numLayers() * config.directions();
            return new Pass(config, length, 1, rows(x, b, length, config.inputSize()),
                    rows(h0, b, slots, config.realHiddenSize()), rows(c0, b, slots, config.hiddenSize()),
                    rows(dy, b, length, config.outputSize()), rows(dhn, b, slots, config.realHiddenSize()),
                    rows(dcn, b, slots, config.hiddenSize()));
        }

        /** Rows [0, count) of element b of a [·, B, width] array. */
        private float[] rows(float[] a, int b, int count, int width) {
            float[] out = new float[count * width];
            for (int r = 0; r < count; r++) {
                System.arraycopy(a, (r * batch + b) * width, out, r * width, width);
            }
            return out;
        }

        Pass run(LstmEngine engine, LstmParameters params, int[] lengths) {
            return run(engine, params, lengths, true);
        }

        /** Forward (training) and backward on an engine, closing it when {@code close}. */
        Pass run(LstmEngine engine, LstmParameters params, int[] lengths, boolean close) {
            Pass out = new Pass(config, steps, batch, x, h0, c0, dy, dhn, dcn);
            int slots = config.numLayers() * config.directions();
            out.y = new float[steps * batch * config.outputSize()];
            out.hn = new float[slots * batch * config.realHiddenSize()];
            out.cn = new float[slots * batch * config.hiddenSize()];
            out.dx = new float[x.length];
            out.dh0 = new float[out.hn.length];
            out.dc0 = new float[out.cn.length];
            out.gradients = LstmParameters.zeros(params.config());
            engine.forward(steps, batch, x, h0, c0, out.y, out.hn, out.cn, true, lengths, null);
            engine.backward(dy, dhn, dcn, out.dx, out.dh0, out.dc0, out.gradients);
            if (close) {
                engine.close();
            }
            return out;
        }

        void assertCloseTo(Pass other, String label) {
            check(label + " y", y, other.y);
            check(label + " hn", hn, other.hn);
            check(label + " cn", cn, other.cn);
            check(label + " dx", dx, other.dx);
            check(label + " dh0", dh0, other.dh0);
            check(label + " dc0", dc0, other.dc0);
            for (String name : config.parameterNames()) {
                assertClose(label + " grad." + name, gradients.get(name), other.gradients.get(name), ENGINE_TOLERANCE);
            }
        }

        /** Every output and gradient bit for bit equal to another pass's. */
        void assertSameBits(Pass other, String label) {
            assertArrayEquals(y, other.y, label + " y");
            assertArrayEquals(hn, other.hn, label + " hn");
            assertArrayEquals(cn, other.cn, label + " cn");
            assertArrayEquals(dx, other.dx, label + " dx");
            assertArrayEquals(dh0, other.dh0, label + " dh0");
            assertArrayEquals(dc0, other.dc0, label + " dc0");
            for (String name : config.parameterNames()) {
                assertArrayEquals(gradients.get(name).data(), other.gradients.get(name).data(), label + " grad." + name);
            }
        }

        /** This batched pass's sequence b against the pass of that sequence alone. */
        void assertSequenceMatches(int b, int length, Pass alone, String label) {
            int slots = config.numLayers() * config.directions();
            check(label + " y", rows(y, b, length, config.outputSize()), alone.y);
            check(label + " hn", rows(hn, b, slots, config.realHiddenSize()), alone.hn);
            check(label + " cn", rows(cn, b, slots, config.hiddenSize()), alone.cn);
            check(label + " dx", rows(dx, b, length, config.inputSize()), alone.dx);
            check(label + " dh0", rows(dh0, b, slots, config.realHiddenSize()), alone.dh0);
            check(label + " dc0", rows(dc0, b, slots, config.hiddenSize()), alone.dc0);
        }

        private static void check(String label, float[] expected, float[] actual) {
            assertClose(label, Tensor.of(expected, expected.length), Tensor.of(actual, actual.length),
                    ENGINE_TOLERANCE);
        }

        private static float[] fill(SplittableRandom r, int n) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (float) r.nextDouble(-1, 1);
            }
            return a;
        }
    }
}
