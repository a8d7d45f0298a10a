package jlstm.examples;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.train.Adam;
import jlstm.train.EpochRecord;
import jlstm.train.FitCallback;
import jlstm.train.FitOptions;
import jlstm.train.History;
import jlstm.train.LearningRateSchedule;
import jlstm.train.LinearHead;
import jlstm.train.SequenceDataset;
import jlstm.train.SequenceModel;

/** The fit example of docs/API.md (region api-fit), run by ExamplesDocTest. */
final class ApiFitProgram {
    private ApiFitProgram() {
    }

    static History run() {
        int n = 64, t = 12, features = 3;
        Tensor x = Tensor.zeros(n, t, features);             // [N, T, I], sample-major
        Tensor labels = Tensor.zeros(n);                     // [N] class indices 0..2
        int[] lengths = new int[n];                          // sequences of 4 to 12 steps, padded to T
        for (int s = 0; s < n; s++) {
            lengths[s] = 4 + s % 9;
            labels.data()[s] = s % 3;
            for (int step = 0; step < lengths[s]; step++) {
                x.data()[(s * t + step) * features + s % 3] = 1;   // the class's channel is on
            }
        }
        // [example api-fit]
        SequenceDataset all = new SequenceDataset(x, labels).withLengths(lengths);
        SequenceDataset train = all.slice(0, 48), valid = all.slice(48, 64);
        LstmConfig config = LstmConfig.of(3, 16).withBatchFirst(true);              // inputs [B, T, I]
        try (SequenceModel model = SequenceModel.create(LstmLayer.create(LstmParameters.initialize(config, 1),
                Device.CPU), 3, LinearHead.Mode.LAST_STEP, 2)) {                     // 3 classes: cross-entropy
            FitCallback log = new FitCallback() {
                @Override
                public void epochDone(EpochRecord e) {
                    System.out.printf("epoch %d: loss %.4f, validation %.4f, lr %.4f%n", e.epoch(), e.trainLoss(),
                            e.validationLoss(), e.learningRate());
                }
            };
            return model.fit(train, FitOptions.epochs(8)
                    .batchSize(16)
                    .optimizer(new Adam(0.02))
                    .clipGradientNorm(1.0)
                    .schedule(LearningRateSchedule.warmUp(2, LearningRateSchedule.step(3, 0.5)))
                    .validation(valid)
                    .earlyStopping(4, 1e-4)
                    .callbacks(log));
        }
        // [end]
    }
}
