package consumer;

import java.nio.file.Files;
import java.nio.file.Path;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.Safetensors;
import jlstm.train.Adam;
import jlstm.train.Checkpoint;
import jlstm.train.FitOptions;
import jlstm.train.History;
import jlstm.train.LinearHead;
import jlstm.train.SequenceDataset;
import jlstm.train.SequenceModel;

/**
 * Uses the library as a dependent project would: a layer's forward pass; training with fit and a
 * validation set; a PyTorch LSTM + Linear export whose head is named fc (args[0]: the folder of
 * tools/make_model_export.py's files) predicting what PyTorch predicted; a batch-first model saved
 * and loaded giving the same predictions; with args[1] = --cuda, the forward pass on the CUDA engine
 * too. Exits 1 on any difference.
 */
public final class Main {
    public static void main(String[] args) throws Exception {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 5).withLayers(2), 1);
        Tensor x0 = Tensor.zeros(4, 2, 3);
        for (int i = 0; i < x0.numel(); i++) {
            x0.data()[i] = (float) Math.sin(i);
        }
        Tensor cpuY;
        try (LstmLayer lstm = LstmLayer.create(params, Device.CPU)) {
            LstmOutput out = lstm.forward(x0);
            cpuY = out.y();
            System.out.println("consumer ok: y " + out.y().shapeString() + " on " + lstm.deviceName());
        }
        // --cuda: the same forward pass on the CUDA engine, whose kernels the jar carries as a resource
        // inside one of the module's packages (on a GPU, or on the stand-in that check-consumer.sh names).
        if (args.length > 1 && args[1].equals("--cuda")) {
            try (LstmLayer lstm = LstmLayer.create(params, Device.CUDA)) {
                Tensor y = lstm.forward(x0).y();
                double worst = 0;
                for (int i = 0; i < y.numel(); i++) {
                    worst = Math.max(worst, Math.abs(y.data()[i] - cpuY.data()[i]));
                }
                System.out.printf("consumer cuda: y %s on %s, largest difference from the CPU %.2e%n",
                        y.shapeString(), lstm.deviceName(), worst);
                require(worst < 1e-5, "the CUDA engine's forward pass");
            }
        }

        // fit with a validation set: the target is the mean of the sequence's values.
        int n = 240, t = 8;
        Tensor x = Tensor.zeros(n, t, 1), y = Tensor.zeros(n, 1);
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        for (int s = 0; s < n; s++) {
            double sum = 0;
            for (int k = 0; k < t; k++) {
                float v = (float) random.nextDouble(-1, 1);
                x.data()[s * t + k] = v;
                sum += v;
            }
            y.data()[s] = (float) (sum / t);
        }
        SequenceDataset data = new SequenceDataset(x, y);
        SequenceDataset train = data.slice(0, 200), valid = data.slice(200, n);
        try (SequenceModel model = SequenceModel.create(LstmLayer.create(LstmParameters.initialize(
                LstmConfig.of(1, 16), 2), Device.CPU), 1, LinearHead.Mode.LAST_STEP, 3)) {
            double before = model.meanLoss(valid, new jlstm.train.MeanSquaredError());
            History h = model.fit(train, FitOptions.epochs(20).batchSize(20).optimizer(new Adam(0.01)).validation(valid));
            double after = h.last().validationLoss();
            System.out.printf("consumer fit: validation mse %.5f -> %.5f in %d epochs%n", before, after,
                    h.epochs().size());
            require(after < 0.5 * before, "fit did not reduce the validation loss");
        }

        // A PyTorch export (nn.LSTM batch_first + nn.Linear named fc) and a batch-first round trip.
        Path dir = Path.of(args[0]);
        Tensor input = Safetensors.readFloatTensors(dir.resolve("input.safetensors")).get("x");
        Tensor expected = Safetensors.readFloatTensors(dir.resolve("expected.safetensors")).get("prediction");
        Path saved = Files.createTempFile("consumer-model", ".safetensors");
        try (SequenceModel model = SequenceModel.load(dir.resolve("model.safetensors"), Device.CPU,
                Checkpoint.Options.fromFile().withBatchFirst(true))) {
            Tensor p = model.predict(input);
            double worst = 0;
            for (int i = 0; i < expected.numel(); i++) {
                worst = Math.max(worst, Math.abs(p.data()[i] - expected.data()[i]));
            }
            System.out.printf("consumer export: prediction %s, largest difference from PyTorch %.2e%n",
                    p.shapeString(), worst);
            require(java.util.Arrays.equals(p.shape(), expected.shape()) && worst < 2e-6, "the export's prediction");
            model.save(saved);
            try (SequenceModel again = SequenceModel.load(saved, Device.CPU)) {
                require(again.batchFirst(), "the reloaded model is not batch-first");
                require(java.util.Arrays.equals(p.data(), again.predict(input).data()), "reloaded predictions differ");
                System.out.println("consumer round trip: batch-first model saved and loaded, same predictions");
            }
        } finally {
            Files.deleteIfExists(saved);
        }
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            System.err.println("consumer: FAIL: " + what);
            System.exit(1);
        }
    }
}
