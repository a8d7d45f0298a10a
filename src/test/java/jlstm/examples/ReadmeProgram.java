package jlstm.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

/** The program README.md shows (region readme-api), run by ExamplesDocTest. */
final class ReadmeProgram {
    private ReadmeProgram() {
    }

    /** What the program computed. */
    record Result(History history, Tensor prediction, Tensor reloaded) {
    }

    static Result run() throws IOException {
        // [example readme-api]
        SequenceDataset data = new AddingProblem(10, 2000, 500, 1).trainingSet();   // x [N, T, 2], target [N, 1]
        SequenceDataset train = data.slice(0, 1800), valid = data.slice(1800, 2000);
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(2, 32), 42);  // I = 2, H = 32, seeded
        try (SequenceModel model = SequenceModel.create(LstmLayer.create(params, Device.AUTO), 1,
                LinearHead.Mode.LAST_STEP, 7)) {                                      // head: last step → 1 value
            History history = model.fit(train, FitOptions.epochs(10)
                    .optimizer(new Adam(0.01))
                    .schedule(LearningRateSchedule.cosine())
                    .validation(valid)
                    .earlyStopping(5));
            System.out.println("validation mse " + history.last().validationLoss());
            Tensor prediction = model.predict(valid.all());                         // [200, 1]
            Path file = Files.createTempFile("adding", ".safetensors");
            model.save(file);                                                        // PyTorch names + metadata
            try (SequenceModel again = SequenceModel.load(file, Device.AUTO)) {
                Tensor same = again.predict(valid.all());                            // the same numbers
                // [end]
                Files.delete(file);
                return new Result(history, prediction, same);
            }
        }
    }
}
