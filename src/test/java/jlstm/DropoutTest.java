package jlstm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * Dropout between layers (PyTorch's {@code dropout}): the masks' statistics, reproducibility from a
 * seed, that it is off in inference, and that backward uses the very masks of the forward pass.
 * That the masks act exactly where PyTorch's do, gradients included, is GoldenCaseTest's job (the
 * {@code dropout*} cases replay nn.LSTM's own masks); that gradients through fixed masks are right
 * is GradientCheckTest's (finite differences).
 */
class DropoutTest {
    private static final LstmConfig CONFIG = LstmConfig.of(4, 16).withLayers(3).withBidirectional(true)
            .withDropout(0.3);

    @Test
    void masksZeroAFractionPAndScaleTheRestByOneOverOneMinusP() {
        int steps = 50, batch = 20;
        try (LstmLayer layer = LstmLayer.create(LstmParameters.initialize(CONFIG, 1), Device.CPU)) {
            layer.forwardTraining(random(1, steps, batch, 4), null, null);
            List<Tensor> masks = layer.dropoutMasks();
            assertEquals(2, masks.size(), "one mask per layer below the last");
            float keep = (float) (1 / (1 - 0.3));
            for (Tensor mask : masks) {
                assertArrayEquals(new int[] {steps, batch, 32}, mask.shape(), "a mask has y's shape [T, B, D·H]");
                int zeros = 0;
                double sum = 0;
                for (float v : mask.data()) {
                    assertTrue(v == 0f || v == keep, "mask values are 0 or 1/(1-p), got " + v);
                    zeros += v == 0f ? 1 : 0;
                    sum += v;
                }
                int n = mask.numel();
                // Binomial(n, p): standard deviation √(p(1−p)/n) ≈ 0.0036 of the fraction for n = 32000;
                // 5σ ≈ 0.018 keeps a correct draw failing less than once in a million runs.
                double sigma = Math.sqrt(0.3 * 0.7 / n);
                assertEquals(0.3, zeros / (double) n, 5 * sigma, "fraction of zeros");
                assertEquals(1.0, sum / n, 5 * sigma * keep, "mean of the mask: dropout keeps the expectation");
            }
            // The two layers' masks are independent draws: they agree where both keep or both drop,
            // p² + (1−p)² = 0.58 of the time.
            float[] a = masks.get(0).data(), b = masks.get(1).data();
            int same = 0;
            for (int i = 0; i < a.length; i++) {
                same += a[i] == b[i] ? 1 : 0;
            }
            assertEquals(0.58, same / (double) a.length, 0.02);
        }
    }

    @Test
    void theSameSeedGivesTheSameMasksAndEveryPassANewDraw() {
        Tensor x = random(2, 6, 5, 4);
        LstmParameters params = LstmParameters.initialize(CONFIG, 2);
        try (LstmLayer first = LstmLayer.create(params, Device.CPU);
             LstmLayer second = LstmLayer.create(params, Device.CPU)) {
            first.seedDropout(42);
            second.seedDropout(42);
            LstmOutput a1 = first.forwardTraining(x, null, null);
            List<Tensor> masks1 = first.dropoutMasks();
            LstmOutput b1 = second.forwardTraining(x, null, null);
            assertArrayEquals(a1.y().data(), b1.y().data(), "same seed, same pass");
            assertArrayEquals(masks1.get(0).data(), second.dropoutMasks().get(0).data());

            LstmOutput a2 = first.forwardTraining(x, null, null);
            assertFalse(java.util.Arrays.equals(masks1.get(0).data(), first.dropoutMasks().get(0).data()),
                    "the next pass draws new masks");
            assertFalse(java.util.Arrays.equals(a1.y().data(), a2.y().data()));

            second.seedDropout(43);
            second.forwardTraining(x, null, null);
            assertFalse(java.util.Arrays.equals(masks1.get(0).data(), second.dropoutMasks().get(0).data()),
                    "another seed, other masks");
        }
    }

    @Test
    void inferenceHasNoDropout() {
        Tensor x = random(3, 5, 3, 4);
        LstmParameters params = LstmParameters.initialize(CONFIG, 3);
        try (LstmLayer withDropout = LstmLayer.create(params, Device.CPU);
             LstmLayer without = LstmLayer.create(params.withDropout(0), Device.CPU)) {
            LstmOutput inference = withDropout.forward(x);
            assertArrayEquals(without.forward(x).y().data(), inference.y().data(), "dropout is off in inference");
            assertArrayEquals(without.forwardTraining(x, null, null).y().data(), inference.y().data(),
                    "and so is training-mode forward without dropout");
            assertFalse(java.util.Arrays.equals(withDropout.forwardTraining(x, null, null).y().data(),
                    inference.y().data()), "while training with dropout changes y");
            assertEquals(List.of(), without.dropoutMasks());
        }
    }

    @Test
    void backwardUsesTheMasksOfItsForwardPass() {
        Tensor x = random(4, 5, 3, 4);
        Tensor dy = random(5, 5, 3, 32);
        LstmParameters params = LstmParameters.initialize(CONFIG, 4);
        try (LstmLayer drawn = LstmLayer.create(params, Device.CPU);
             LstmLayer replayed = LstmLayer.create(params, Device.CPU)) {
            drawn.forwardTraining(x, null, null);
            List<Tensor> masks = drawn.dropoutMasks();
            LstmGradients g1 = drawn.backward(dy, null, null);

            // The same masks given explicitly: identical gradients, bit for bit.
            replayed.forwardTraining(x, null, null, null, masks);
            LstmGradients g2 = replayed.backward(dy, null, null);
            assertArrayEquals(g2.dx().data(), g1.dx().data());
            for (String name : CONFIG.parameterNames()) {
                assertArrayEquals(g2.parameter(name).data(), g1.parameter(name).data(), name);
            }

            // Other masks give other gradients, so the comparison above could fail.
            drawn.forwardTraining(x, null, null);
            LstmGradients g3 = drawn.backward(dy, null, null);
            assertFalse(java.util.Arrays.equals(g3.dx().data(), g1.dx().data()));
        }
    }

    @Test
    void dropoutOneZeroesEverythingTheNextLayerReads() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 5).withLayers(2).withDropout(1.0), 5);
        try (LstmLayer layer = LstmLayer.create(params, Device.CPU)) {
            LstmOutput a = layer.forwardTraining(random(6, 4, 2, 3), null, null);
            LstmOutput b = layer.forwardTraining(random(7, 4, 2, 3), null, null);
            for (float v : layer.dropoutMasks().get(0).data()) {
                assertEquals(0f, v);
            }
            assertArrayEquals(a.y().data(), b.y().data(), "layer 1 reads zeros whatever x is");
            LstmGradients g = layer.backward(random(8, 4, 2, 5), null, null);
            for (float v : g.dx().data()) {
                assertEquals(0f, v, "no gradient reaches x through a fully dropped output");
            }
        }
    }

    @Test
    void batchFirstMasksHaveTheBatchFirstShape() {
        LstmParameters params = LstmParameters.initialize(CONFIG.withBatchFirst(true), 6);
        try (LstmLayer layer = LstmLayer.create(params, Device.CPU)) {
            layer.forwardTraining(random(9, 3, 7, 4), null, null); // [B, T, I]
            assertArrayEquals(new int[] {3, 7, 32}, layer.dropoutMasks().get(0).shape());
        }
    }

    /**
     * A batch-first layer's masks, as {@link LstmLayer#dropoutMasks()} returns them ([B, T, ·]),
     * replayed on a second batch-first layer give the very same pass, bit for bit; and transposed by
     * hand they replay the same pass on a time-major layer, so they are the masks of the pass in the
     * caller's layout (a reshape in place of a transpose would fail here, since T ≠ B).
     */
    @Test
    void batchFirstMasksReplayBitForBit() {
        LstmConfig config = CONFIG.withBatchFirst(true);
        LstmParameters params = LstmParameters.initialize(config, 11);
        Tensor x = random(12, 3, 7, 4); // [B, T, I]
        Tensor dy = random(13, 3, 7, 32);
        try (LstmLayer drawn = LstmLayer.create(params, Device.CPU);
             LstmLayer replayed = LstmLayer.create(params, Device.CPU);
             LstmLayer timeMajor = LstmLayer.create(LstmParameters.fromTensors(params.asMap(), false, "test"),
                     Device.CPU)) {
            LstmOutput y1 = drawn.forwardTraining(x, null, null);
            List<Tensor> masks = drawn.dropoutMasks();
            LstmGradients g1 = drawn.backward(dy, null, null);

            LstmOutput y2 = replayed.forwardTraining(x, null, null, null, masks);
            LstmGradients g2 = replayed.backward(dy, null, null);
            assertArrayEquals(y1.y().data(), y2.y().data());
            assertArrayEquals(g1.dx().data(), g2.dx().data());
            for (String name : config.parameterNames()) {
                assertArrayEquals(g1.parameter(name).data(), g2.parameter(name).data(), name);
            }

            List<Tensor> transposed = masks.stream().map(Tensor::swapFirstTwoAxes).toList();
            LstmOutput y3 = timeMajor.forwardTraining(x.swapFirstTwoAxes(), null, null, null, transposed);
            LstmGradients g3 = timeMajor.backward(dy.swapFirstTwoAxes(), null, null);
            assertArrayEquals(y1.y().data(), y3.y().swapFirstTwoAxes().data());
            assertArrayEquals(g1.dx().data(), g3.dx().swapFirstTwoAxes().data());
            for (String name : config.parameterNames()) {
                assertArrayEquals(g1.parameter(name).data(), g3.parameter(name).data(), name);
            }
        }
    }

    @Test
    void badMasksAreRejectedClearly() {
        LstmParameters params = LstmParameters.initialize(CONFIG, 7);
        Tensor x = random(10, 4, 2, 4);
        try (LstmLayer layer = LstmLayer.create(params, Device.CPU)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layer.forwardTraining(x, null, null, null, List.of(Tensor.zeros(4, 2, 32))));
            assertEquals("dropout masks: LSTM(I=4, H=16, L=3, D=2, dropout=0.3) has 2 mask(s) (one per layer but "
                    + "the last), got 1", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> layer.forwardTraining(x, null, null, null,
                    List.of(Tensor.zeros(4, 2, 32), Tensor.zeros(4, 2, 16))));
            assertEquals("dropout mask 1 has shape [4, 2, 16], expected [4, 2, 32]", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> LstmConfig.of(2, 2).withDropout(1.5));
            assertEquals("dropout must be a probability in [0, 1], got 1.5", e.getMessage());
        }
    }

    static Tensor random(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) r.nextDouble(-1, 1);
        }
        return t;
    }
}
