package jlstm.examples;

// The program README.md shows whole (region readme-api): ExamplesDocTest runs it here and compiles
// README's copy on its own, outside this package, so that it builds as shown with the imports shown.
// It makes its data itself (the adding problem, as AddingProblem does): a library user's project cannot
// use jlstm.examples, which the module does not export.
// [example readme-api]
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.train.Adam;
import jlstm.train.FitOptions;
import jlstm.train.History;
import jlstm.train.LearningRateSchedule;
import jlstm.train.LinearHead;
import jlstm.train.SequenceDataset;
import jlstm.train.SequenceModel;

public class ReadmeProgram {
    public static void main(String[] args) throws Exception {
        int n = 2000, t = 10;                                // the adding problem: x [N, T, 2] holds a value and a
        float[] x = new float[n * t * 2], y = new float[n];  // 0/1 marker per step; the target [N, 1] is the
        SplittableRandom random = new SplittableRandom(1);   // sum of the two marked values
        for (int s = 0; s < n; s++) {
            int a = random.nextInt(t / 2), b = t / 2 + random.nextInt(t / 2);   // one marker in each half
            for (int k = 0, i = s * t * 2; k < t; k++, i += 2) {
                x[i] = (float) random.nextDouble();
                x[i + 1] = k == a || k == b ? 1 : 0;
                y[s] += x[i] * x[i + 1];
            }
        }
        SequenceDataset data = new SequenceDataset(Tensor.of(x, n, t, 2), Tensor.of(y, n, 1));
        SequenceDataset train = data.slice(0, 1800), valid = data.slice(1800, 2000);
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(2, 32), 42);  // I = 2, H = 32, seeded
        try (SequenceModel model = SequenceModel.create(LstmLayer.create(params, Device.AUTO), 1,
                LinearHead.Mode.LAST_STEP, 7)) {                                      // head: last step → 1 value
            History history = model.fit(train, FitOptions.epochs(10)
                    .optimizer(new Adam(0.01))
                    .schedule(LearningRateSchedule.cosine())
                    .validation(valid)
                    .earlyStopping(5));
            System.out.println("validation mse " + history.last().validationLoss() + " after "
                    + history.epochs().size() + " epochs");
            Tensor prediction = model.predict(valid.all());                         // [200, 1]
            Path file = Files.createTempFile("adding", ".safetensors");
            model.save(file);                                                        // PyTorch names + metadata
            try (SequenceModel again = SequenceModel.load(file, Device.AUTO)) {
                Tensor same = again.predict(valid.all());                            // the same numbers
                System.out.println("prediction " + Arrays.toString(prediction.shape()) + ", the same after reloading: "
                        + Arrays.equals(prediction.data(), same.data()));
            }
            Files.delete(file);
        }
    }
}
// [end]
