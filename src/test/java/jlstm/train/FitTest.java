package jlstm.train;

import jlstm.examples.AddingProblem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.LstmParameters;
import jlstm.Tensor;

/**
 * {@link SequenceModel#fit} and {@link Trainer#fit}: the epoch loop of the examples, with
 * validation, schedules, early stopping, callbacks and a history; lengths and initial states
 * through the dataset, the model and the head.
 */
class FitTest {

    /** fit with a constant rate is exactly the hand-written loop of Trainer.runEpoch (same batches, same steps). */
    @Test
    void fitIsTheHandWrittenEpochLoop() {
        AddingProblem task = new AddingProblem(6, 96, 16, 2);
        float[][] weights = new float[2][];
        for (int k = 0; k < 2; k++) {
            LstmParameters p = LstmParameters.initialize(LstmConfig.of(2, 5), 3);
            try (SequenceModel m = SequenceModel.create(LstmLayer.create(p, Backends.cpu()), 1,
                    LinearHead.Mode.LAST_STEP, 4)) {
                Adam adam = new Adam(0.01);
                if (k == 0) {
                    for (int epoch = 1; epoch <= 3; epoch++) {
                        Trainer.runEpoch(m, task.trainingSet(), task.loss(), adam, 16, 1.0, Trainer.shuffleSeed(7, epoch),
                                null);
                    }
                } else {
                    History h = m.fit(task.trainingSet(), FitOptions.epochs(3).batchSize(16).loss(task.loss())
                            .optimizer(adam).clipGradientNorm(1.0).seed(7));
                    assertEquals(3, h.epochs().size());
                    assertEquals(List.of(0.01, 0.01, 0.01), h.learningRates());
                    assertFalse(h.last().hasValidation());
                }
                weights[k] = m.parameters().get("weight_hh_l0").data().clone();
            }
        }
        assertArrayEquals(weights[0], weights[1]);
    }

    @Test
    void fitLearnsAndReportsTheValidationLossEveryEpoch() {
        AddingProblem task = new AddingProblem(10, 600, 200, 5);
        SequenceDataset all = task.trainingSet();
        SequenceDataset train = all.slice(0, 500), valid = all.slice(500, 600);
        List<Integer> started = new ArrayList<>();
        int[] batches = new int[1];
        try (SequenceModel m = SequenceModel.create(LstmLayer.create(LstmParameters.initialize(LstmConfig.of(2, 16), 1),
                Backends.cpu()), 1, LinearHead.Mode.LAST_STEP, 2)) {
            double before = m.meanLoss(valid, new MeanSquaredError());
            History h = m.fit(train, FitOptions.epochs(15).batchSize(20).optimizer(new Adam(0.01)).validation(valid)
                    .callbacks(new FitCallback() {
                        @Override
                        public void epochStarted(int epoch, double learningRate) {
                            started.add(epoch);
                        }

                        @Override
                        public void batchDone(int sequences, double loss, double meanLoss, int epochSequences) {
                            batches[0]++;
                        }
                    }));
            assertEquals(15, started.size());
            assertEquals(15, (int) started.get(14));
            assertEquals(15 * 25, batches[0]);
            assertEquals(15, h.validationLoss().size());
            assertTrue(h.validationLoss().stream().allMatch(Double::isFinite));
            double after = h.last().validationLoss();
            assertEquals(m.meanLoss(valid, new MeanSquaredError()), after, 0, "the record's validation loss");
            // The adding problem's trivial answer (always 1.0) scores about 0.17; a learning model goes below.
            assertTrue(after < 0.5 * before && after < 0.1, "validation mse " + before + " → " + after);
        }
    }

    @Test
    void schedulesGiveTheRatesOfTheirPyTorchNamesakes() {
        double[] step = new double[6], cosine = new double[4], warm = new double[5];
        for (int e = 1; e <= 6; e++) {
            step[e - 1] = LearningRateSchedule.step(2, 0.5).rate(0.1, e, 6);
        }
        assertArrayEquals(new double[] {0.1, 0.1, 0.05, 0.05, 0.025, 0.025}, step, 1e-15); // StepLR(2, 0.5)
        for (int e = 1; e <= 4; e++) {
            cosine[e - 1] = LearningRateSchedule.cosine().rate(1.0, e, 4);
        }
        // CosineAnnealingLR(T_max=4), eta_min=0, stepped after each epoch: 1, 0.853553, 0.5, 0.146447
        assertArrayEquals(new double[] {1, 0.8535533905932737, 0.5, 0.14644660940672627}, cosine, 1e-12);
        for (int e = 1; e <= 5; e++) {
            warm[e - 1] = LearningRateSchedule.warmUp(2, LearningRateSchedule.constant()).rate(0.3, e, 5);
        }
        assertArrayEquals(new double[] {0.1, 0.2, 0.3, 0.3, 0.3}, warm, 1e-15);
        assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.step(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.step(1, 1.5));
    }

    @Test
    void theScheduleSetsTheOptimizersRateEachEpoch() {
        AddingProblem task = new AddingProblem(4, 32, 8, 1);
        Adam adam = new Adam(0.04);
        List<Double> seen = new ArrayList<>();
        try (SequenceModel m = SequenceModel.create(LstmLayer.create(LstmParameters.initialize(LstmConfig.of(2, 3), 1),
                Backends.cpu()), 1, LinearHead.Mode.LAST_STEP, 2)) {
            History h = m.fit(task.trainingSet(), FitOptions.epochs(3).optimizer(adam)
                    .schedule(LearningRateSchedule.step(1, 0.5)).callbacks(new FitCallback() {
                        @Override
                        public void batchDone(int sequences, double loss, double meanLoss, int epochSequences) {
                            seen.add(adam.learningRate());
                        }
                    }));
            assertEquals(List.of(0.04, 0.02, 0.01), h.learningRates());
            assertEquals(List.of(0.04, 0.02, 0.01), seen);
        }
    }

    /** A scripted validation loss: early stopping counts epochs without an improvement larger than minDelta. */
    @Test
    void earlyStoppingStopsAfterPatienceEpochsWithoutImprovement() {
        double[] script = {1.0, 0.8, 0.79, 0.85, 0.9, 0.5, 0.4};
        Scripted model = new Scripted(script);
        SequenceDataset data = new SequenceDataset(Tensor.zeros(4, 2, 1), Tensor.zeros(4, 1));
        History h = Trainer.fit(model, data, FitOptions.epochs(7).validation(data).earlyStopping(2, 0.05));
        // 0.79 is not better than 0.8 by more than 0.05; 0.85, 0.9 neither: stop after epoch 4 (2 epochs after epoch 2).
        assertEquals(4, h.epochs().size());
        assertTrue(h.stoppedEarly());
        assertEquals(2, h.bestEpoch());
        History all = Trainer.fit(new Scripted(script), data, FitOptions.epochs(7).validation(data));
        assertEquals(7, all.epochs().size());
        assertFalse(all.stoppedEarly());
        assertEquals(7, all.bestEpoch());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.fit(new Scripted(script), data, FitOptions.epochs(2).earlyStopping(1)));
        assertTrue(e.getMessage().contains("validation"), e.getMessage());
    }

    @Test
    void aDivergingFitSaysSo() {
        Scripted model = new Scripted(new double[] {1});
        model.trainLoss = Double.NaN;
        SequenceDataset data = new SequenceDataset(Tensor.zeros(4, 2, 1), Tensor.zeros(4, 1));
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> Trainer.fit(model, data,
                FitOptions.epochs(1)));
        assertTrue(e.getMessage().contains("diverged"), e.getMessage());
    }

    /** The same seed gives the same noise; noise changes the steps; the clean validation set is not touched. */
    @Test
    void inputNoiseIsSeededAndOnlyOnTrainingBatches() {
        AddingProblem task = new AddingProblem(5, 64, 8, 1);
        float[][] w = new float[3][];
        for (int k = 0; k < 3; k++) {
            try (SequenceModel m = SequenceModel.create(LstmLayer.create(LstmParameters.initialize(LstmConfig.of(2, 4),
                    1), Backends.cpu()), 1, LinearHead.Mode.LAST_STEP, 2)) {
                m.fit(task.trainingSet(), FitOptions.epochs(2).optimizer(new Adam(0.01)).inputNoise(k < 2 ? 0.3 : 0));
                w[k] = m.parameters().get("weight_ih_l0").data().clone();
            }
        }
        assertArrayEquals(w[0], w[1]);
        assertFalse(java.util.Arrays.equals(w[0], w[2]));
        float[] before = task.trainingSet().inputs().data().clone();
        assertArrayEquals(before, task.trainingSet().inputs().data(), "the dataset itself keeps its values");
    }

    @Test
    void theHeadTakesItsWidthFromTheLstm() {
        LstmConfig bidirectional = new LstmConfig(3, 7, 2, true, false, true);
        try (SequenceModel m = SequenceModel.create(LstmLayer.create(LstmParameters.initialize(bidirectional, 1),
                Backends.cpu()), 4, LinearHead.Mode.EVERY_STEP, 2)) {
            assertEquals(14, m.head().features());
            assertEquals(4, m.head().outputs());
        }
        LstmConfig projected = LstmConfig.of(3, 8).withProjSize(5);
        assertEquals(5, LinearHead.initialize(projected, 2, LinearHead.Mode.LAST_STEP, 1).features());
    }

    /**
     * Sequences of lengths 3 and 5 padded to T = 5 in one batch: the prediction of each is that of
     * the sequence alone, and the batch's mean-squared-error gradients are the mean of the two
     * sequences' own gradients.
     */
    @Test
    void lengthsGiveWhatEachSequenceAloneGives() {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(2, 6), 3);
        LinearHead head = LinearHead.initialize(6, 1, LinearHead.Mode.LAST_STEP, 4);
        Tensor x = random(5, 2, 5, 2);                       // [N, T, I]
        Tensor target = random(6, 2, 1);
        SequenceDataset data = new SequenceDataset(x, target).withLengths(new int[] {3, 5});
        try (SequenceModel m = new SequenceModel(LstmLayer.create(p, Backends.cpu()), head)) {
            SequenceDataset.Batch batch = data.all();
            float[] together = m.predict(batch).data();
            SequenceModel.StepResult both = m.lossAndGradients(batch.x(), batch.target(), new MeanSquaredError(), null,
                    null, batch.lengths());
            List<Map<String, Tensor>> alone = new ArrayList<>();
            for (int s = 0; s < 2; s++) {
                int length = s == 0 ? 3 : 5;
                SequenceDataset one = new SequenceDataset(prefix(x, s, length), Tensor.of(
                        new float[] {target.data()[s]}, 1, 1));
                SequenceDataset.Batch b = one.all();
                assertEquals(together[s], m.predict(b).data()[0], 1e-6, "sequence " + s);
                alone.add(m.lossAndGradients(b.x(), b.target(), new MeanSquaredError()).gradients());
            }
            for (String name : both.gradients().keySet()) {
                float[] g = both.gradients().get(name).data(), g0 = alone.get(0).get(name).data(),
                        g1 = alone.get(1).get(name).data();
                for (int i = 0; i < g.length; i++) {
                    assertEquals((g0[i] + g1[i]) / 2, g[i], 1e-5, name + "[" + i + "]");
                }
            }
            // And a fit on the padded dataset runs (host steps) and keeps the lengths in its batches.
            History h = m.fit(data, FitOptions.epochs(2).batchSize(2).validation(data));
            assertTrue(Double.isFinite(h.last().validationLoss()));
        }
        assertThrows(IllegalArgumentException.class, () -> data.withLengths(new int[] {0, 5}));
        assertThrows(IllegalArgumentException.class, () -> data.withLengths(new int[] {6, 5}));
    }

    /** Per-sequence initial states in the dataset reach the LSTM as h0 [L, B, H] in the batch's order. */
    @Test
    void initialStatesComeFromTheDataset() {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(2, 3).withLayers(2), 3);
        Tensor x = random(5, 3, 4, 2);                       // [N, T, I]
        Tensor h0 = random(7, 3, 2, 3), c0 = random(8, 3, 2, 3);   // [N, L, H]
        SequenceDataset data = new SequenceDataset(x, random(6, 3, 1)).withInitialState(h0, c0);
        try (SequenceModel m = SequenceModel.create(LstmLayer.create(p, Backends.cpu()), 1, LinearHead.Mode.LAST_STEP,
                4)) {
            SequenceDataset.Batch batch = data.batch(new int[] {2, 0, 1}, 0, 3);
            assertArrayEquals(new int[] {2, 3, 3}, batch.h0().shape());
            // h0[layer 1, batch row 0] is sample 2's layer-1 state
            assertEquals(h0.data()[(2 * 2 + 1) * 3], batch.h0().data()[(1 * 3) * 3]);
            LstmOutput direct = m.lstm().forward(batch.x(), batch.h0(), batch.c0());
            assertArrayEquals(m.head().apply(direct).data(), m.predict(batch).data());
            Tensor zero = m.predict(batch.x());
            assertFalse(java.util.Arrays.equals(zero.data(), m.predict(batch).data()), "h0 makes a difference");
            History h = m.fit(data, FitOptions.epochs(1).batchSize(2));
            assertEquals(1, h.epochs().size());
        }
    }

    @Test
    void theHeadRefusesABatchFirstOutputWithTheShapeItExpected() {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(2, 3).withBatchFirst(true), 3);
        LinearHead head = LinearHead.initialize(p.config(), 1, LinearHead.Mode.LAST_STEP, 1);
        try (LstmLayer lstm = LstmLayer.create(p, Backends.cpu())) {
            LstmOutput out = lstm.forward(random(1, 4, 20, 2));     // [B=4, T=20, I]
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> head.apply(out));
            assertTrue(e.getMessage().contains("[20, 4, 3]") && e.getMessage().contains("batch-first"), e.getMessage());
            Tensor fixed = head.apply(new LstmOutput(out.y().swapFirstTwoAxes(), out.hn(), out.cn()));
            assertArrayEquals(new int[] {4, 1}, fixed.shape());
        }
    }

    /** Sample s's first {@code length} steps as a dataset input [1, length, I]. */
    private static Tensor prefix(Tensor x, int s, int length) {
        int t = x.dim(1), i = x.dim(2);
        float[] out = new float[length * i];
        System.arraycopy(x.data(), s * t * i, out, 0, out.length);
        return Tensor.of(out, 1, length, i);
    }

    private static Tensor random(long seed, int... shape) {
        Tensor t = Tensor.zeros(shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) r.nextDouble(-1, 1);
        }
        return t;
    }

    /** A trainable whose validation loss follows a script, one value per epoch. */
    private static final class Scripted implements Trainable {
        private final double[] validation;
        private final Sgd optimizer = new Sgd(0.1, 0, 0);
        private int epoch;
        double trainLoss = 1;

        Scripted(double[] validation) {
            this.validation = validation;
        }

        @Override
        public double trainStep(SequenceDataset.Batch batch, double maxGradNorm) {
            return trainLoss;
        }

        @Override
        public double meanLoss(SequenceDataset data) {
            return validation[epoch++];
        }

        @Override
        public Optimizer optimizer() {
            return optimizer;
        }
    }
}
