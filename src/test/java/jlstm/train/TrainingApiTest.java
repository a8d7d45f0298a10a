package jlstm.train;

import jlstm.examples.AddingProblem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;

/**
 * The training pieces fit together without adapters: class-index targets in a
 * {@link SequenceDataset} train with {@link SoftmaxCrossEntropy} through {@link Trainer}; a
 * batch-first {@link SequenceModel} computes exactly what the time-major one computes.
 */
class TrainingApiTest {

    /**
     * Which of 3 input channels has the largest sum over the sequence: class indices [N], a
     * last-step head of 3 logits, cross-entropy, Adam, a few epochs. Chance is 1/3.
     */
    @Test
    void classIndexTargetsTrainWithCrossEntropyThroughTheTrainer() {
        int n = 384, steps = 6, classes = 3;
        SplittableRandom random = new SplittableRandom(4);
        float[] x = new float[n * steps * classes];
        float[] labels = new float[n];
        for (int s = 0; s < n; s++) {
            double[] sums = new double[classes];
            for (int t = 0; t < steps; t++) {
                for (int c = 0; c < classes; c++) {
                    float v = (float) random.nextDouble(-1, 1);
                    x[(s * steps + t) * classes + c] = v;
                    sums[c] += v;
                }
            }
            int best = 0;
            for (int c = 1; c < classes; c++) {
                best = sums[c] > sums[best] ? c : best;
            }
            labels[s] = best;
        }
        SequenceDataset data = new SequenceDataset(Tensor.of(x, n, steps, classes), Tensor.of(labels, n));
        assertTrue(data.classIndexTargets());
        assertEquals(classes, data.outputSize());
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(classes, 16), 5);
        try (SequenceModel model = new SequenceModel(LstmLayer.create(p, Backends.cpu()),
                LinearHead.initialize(16, classes, LinearHead.Mode.LAST_STEP, 6))) {
            Adam adam = new Adam(0.02);
            double first = Double.NaN, last = Double.NaN;
            for (int epoch = 1; epoch <= 12; epoch++) {
                last = Trainer.runEpoch(model, data, new SoftmaxCrossEntropy(), adam, 32, 1.0,
                        Trainer.shuffleSeed(1, epoch), null).meanLoss();
                first = epoch == 1 ? last : first;
            }
            SequenceDataset.Batch all = data.all();
            float[] logits = model.predict(model.input(all)).data();
            int correct = 0;
            for (int s = 0; s < n; s++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    best = logits[s * classes + c] > logits[s * classes + best] ? c : best;
                }
                correct += best == (int) all.target().data()[s] ? 1 : 0;
            }
            assertTrue(last < 0.7 * first, "cross-entropy " + first + " → " + last);
            assertTrue(correct > 0.75 * n, correct + " of " + n + " right (chance: a third)");
        }
    }

    @Test
    void classIndexTargetsMustBeWholeNonNegativeNumbers() {
        Tensor x = Tensor.zeros(2, 3, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SequenceDataset(x, Tensor.of(new float[] {1, 0.5f}, 2)));
        assertTrue(e.getMessage().contains("target[1] = 0.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SequenceDataset(x, Tensor.of(new float[] {-1, 0}, 2)));
    }

    /** Same parameters, one model batch-first: identical predictions, loss and gradients, for both head modes. */
    @Test
    void batchFirstModelComputesExactlyWhatTheTimeMajorOneDoes() {
        for (LinearHead.Mode mode : LinearHead.Mode.values()) {
            LstmConfig config = new LstmConfig(3, 7, 2, true, true, false);
            LstmParameters p = LstmParameters.initialize(config, 8);
            LinearHead head = LinearHead.initialize(14, 2, mode, 9);
            LstmParameters pFirst = LstmParameters.fromTensors(p.copy().asMap(), true, "copy");
            LinearHead headFirst = new LinearHead(head.weight().copy(), head.bias().copy(), mode);
            Tensor x = random(11, 5, 4, 3);          // [T, B, I]
            Tensor target = mode == LinearHead.Mode.LAST_STEP ? random(12, 4, 2) : random(13, 5, 4, 2);
            try (SequenceModel timeMajor = new SequenceModel(LstmLayer.create(p, Backends.cpu()), head);
                 SequenceModel batchFirst = new SequenceModel(LstmLayer.create(pFirst, Backends.cpu()), headFirst)) {
                assertTrue(batchFirst.batchFirst());
                Tensor a = timeMajor.predict(x);
                Tensor b = batchFirst.predict(x.swapFirstTwoAxes());
                assertArrayEquals(swapIfSteps(a).data(), b.data(), mode + " predictions");
                SequenceModel.StepResult ra = timeMajor.lossAndGradients(x, target, new MeanSquaredError());
                SequenceModel.StepResult rb = batchFirst.lossAndGradients(x.swapFirstTwoAxes(), swapIfSteps(target),
                        new MeanSquaredError());
                assertEquals(ra.loss(), rb.loss(), mode + " loss");
                for (Map.Entry<String, Tensor> g : ra.gradients().entrySet()) {
                    assertArrayEquals(g.getValue().data(), rb.gradients().get(g.getKey()).data(), mode + " " + g.getKey());
                }
            }
        }
    }

    @Test
    void theTrainerFeedsABatchFirstModelInItsLayout() {
        AddingProblem task = new AddingProblem(6, 64, 16, 2);
        float[][] results = new float[2][];
        for (int k = 0; k < 2; k++) {
            LstmParameters p = LstmParameters.initialize(LstmConfig.of(2, 5).withBatchFirst(k == 1), 3);
            try (SequenceModel m = new SequenceModel(LstmLayer.create(p, Backends.cpu()),
                    LinearHead.initialize(5, 1, LinearHead.Mode.LAST_STEP, 4))) {
                Trainer.runEpoch(m, task.trainingSet(), task.loss(), new Adam(0.01), 16, 1.0, 7, null);
                results[k] = m.parameters().get("weight_hh_l0").data().clone();
                task.evaluate(m); // the task's evaluation feeds the model's layout too
            }
        }
        assertArrayEquals(results[0], results[1]);
    }

    private static Tensor swapIfSteps(Tensor t) {
        return t.rank() == 3 ? t.swapFirstTwoAxes() : t;
    }

    private static Tensor random(long seed, int... shape) {
        Tensor t = Tensor.zeros(shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) r.nextDouble(-1, 1);
        }
        return t;
    }
}
