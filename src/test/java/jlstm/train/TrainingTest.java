package jlstm.train;

import jlstm.examples.AddingProblem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;

/** End-to-end training on the CPU: the loss goes down, and a resumed run continues exactly. */
class TrainingTest {

    private static SequenceModel smallModel(int inputSize, int hidden, long seed) {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(inputSize, hidden), seed);
        return new SequenceModel(LstmLayer.create(p, Device.CPU),
                LinearHead.initialize(hidden, 1, LinearHead.Mode.LAST_STEP, seed + 1));
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        AddingProblem task = new AddingProblem(8, 256, 256, 3);
        try (SequenceModel model = smallModel(2, 8, 3)) {
            double before = task.evaluate(model).value();
            Adam adam = new Adam(0.01);
            double firstEpoch = Double.NaN, lastEpoch = Double.NaN;
            for (int epoch = 1; epoch <= 8; epoch++) {
                double loss = Trainer.runEpoch(model, task.trainingSet(), task.loss(), adam, 16, 1.0,
                        Trainer.shuffleSeed(3, epoch), null).meanLoss();
                if (epoch == 1) {
                    firstEpoch = loss;
                }
                lastEpoch = loss;
            }
            double after = task.evaluate(model).value();
            assertTrue(lastEpoch < 0.5 * firstEpoch, "training loss " + firstEpoch + " → " + lastEpoch);
            assertTrue(after < 0.5 * before, "held-out mse " + before + " → " + after);
        }
    }

    @Test
    void sgdStepMovesAgainstTheGradient() {
        // A tiny learning rate: the loss of the same batch must drop after one step.
        AddingProblem task = new AddingProblem(6, 32, 1, 5);
        SequenceDataset.Batch batch = task.trainingSet().all();
        try (SequenceModel model = smallModel(2, 4, 5)) {
            Sgd sgd = new Sgd(1e-3, 0.9, 0);
            double before = model.trainStep(batch.x(), batch.target(), task.loss(), sgd, 0).loss();
            double after = model.lossAndGradients(batch.x(), batch.target(), task.loss()).loss();
            assertTrue(after < before, "loss " + before + " → " + after);
        }
    }

    @Test
    void resumingFromACheckpointContinuesExactly(@TempDir Path dir) throws Exception {
        AddingProblem task = new AddingProblem(6, 96, 8, 11);
        long seed = 11;
        // Straight: four epochs.
        Map<String, Tensor> straight;
        try (SequenceModel model = smallModel(2, 5, seed)) {
            Adam adam = new Adam(0.02);
            for (int epoch = 1; epoch <= 4; epoch++) {
                Trainer.runEpoch(model, task.trainingSet(), task.loss(), adam, 10, 1.0,
                        Trainer.shuffleSeed(seed, epoch), null);
            }
            straight = copyOf(model.parameters());
        }
        // Interrupted: two epochs, checkpoint, a new model and optimizer from the file, two more.
        Path file = dir.resolve("ckpt.safetensors");
        try (SequenceModel model = smallModel(2, 5, seed)) {
            Adam adam = new Adam(0.02);
            for (int epoch = 1; epoch <= 2; epoch++) {
                Trainer.runEpoch(model, task.trainingSet(), task.loss(), adam, 10, 1.0,
                        Trainer.shuffleSeed(seed, epoch), null);
            }
            Checkpoint.save(file, model, adam, Map.of("task", "adding", "epoch", "2"));
        }
        Checkpoint checkpoint = Checkpoint.load(file);
        assertEquals("2", checkpoint.metadata().get("epoch"));
        try (SequenceModel model = new SequenceModel(LstmLayer.create(checkpoint.lstm(), Device.CPU),
                checkpoint.head())) {
            Adam adam = new Adam(0.02);
            adam.loadState(checkpoint.optimizerTensors(), checkpoint.metadata(), model.parameters());
            assertEquals(2L * 10, adam.steps()); // 96 sequences in batches of 10: 10 steps per epoch
            for (int epoch = 3; epoch <= 4; epoch++) {
                Trainer.runEpoch(model, task.trainingSet(), task.loss(), adam, 10, 1.0,
                        Trainer.shuffleSeed(seed, epoch), null);
            }
            for (Map.Entry<String, Tensor> e : straight.entrySet()) {
                assertArrayEquals(e.getValue().data(), model.parameters().get(e.getKey()).data(),
                        "parameter " + e.getKey() + " after resuming");
            }
        }
    }

    private static Map<String, Tensor> copyOf(Map<String, Tensor> tensors) {
        Map<String, Tensor> copy = new java.util.LinkedHashMap<>();
        tensors.forEach((k, v) -> copy.put(k, v.copy()));
        return copy;
    }
}
