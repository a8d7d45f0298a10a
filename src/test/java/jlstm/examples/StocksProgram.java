package jlstm.examples;

import java.util.LinkedHashMap;
import java.util.Map;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmGradients;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.train.Adam;
import jlstm.train.GradientClipping;
import jlstm.train.LinearHead;
import jlstm.train.Loss;
import jlstm.train.LossValue;
import jlstm.train.MeanSquaredError;
import jlstm.train.Optimizer;
import jlstm.train.SequenceDataset;
import jlstm.train.SequenceModel;
import jlstm.train.Trainer;

/**
 * The seed's layer example (section 5-3) as a user writes it with the layer API: an LSTM layer and
 * a linear head on its last step, forward, loss, backward and an Adam step per batch, written out.
 * docs/EXAMPLES.md shows the region below; {@code ExamplesDocTest} checks that the page and this
 * file agree, runs it, and checks that it scores exactly what {@code train --task stocks} scores.
 */
public final class StocksProgram {
    private StocksProgram() {
    }

    // [example stocks-program]
    /** Trains on the task's training windows for some epochs; returns the score on the held-out days. */
    public static Evaluation run(int epochs, long seed) {
        StockForecast task = new StockForecast(10);                  // windows of 10 days of 4 indices
        SequenceDataset train = task.trainingSet();                 // x [N, 10, 4], target [N, 1]
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(4, 16), seed);   // nn.LSTM(4, 16)
        LinearHead head = LinearHead.initialize(16, 1, LinearHead.Mode.LAST_STEP, seed + 1); // nn.Linear(16, 1)
        Optimizer adam = new Adam(0.001);
        Loss mse = new MeanSquaredError();
        Map<String, Tensor> parameters = new LinkedHashMap<>(params.asMap());
        parameters.put(LinearHead.WEIGHT, head.weight());
        parameters.put(LinearHead.BIAS, head.bias());

        try (SequenceModel model = new SequenceModel(LstmLayer.create(params, Device.CPU), head)) {
            LstmLayer lstm = model.lstm();
            for (int epoch = 1; epoch <= epochs; epoch++) {
                int[] order = SequenceDataset.shuffledOrder(train.size(), Trainer.shuffleSeed(seed, epoch));
                for (int from = 0; from < train.size(); from += 32) {
                    SequenceDataset.Batch batch = train.batch(order, from, Math.min(from + 32, train.size()));
                    LstmOutput out = lstm.forwardTraining(batch.x(), null, null);   // x [10, B, 4] → y [10, B, 16]
                    LossValue loss = mse.compute(head.forward(out.y()), batch.target()); // the head reads y[9]
                    LinearHead.Gradients dHead = head.backward(loss.gradient());
                    LstmGradients dLstm = lstm.backward(dHead.y(), null, null);       // through time
                    Map<String, Tensor> gradients = new LinkedHashMap<>(dLstm.parameters());
                    gradients.put(LinearHead.WEIGHT, dHead.weight());
                    gradients.put(LinearHead.BIAS, dHead.bias());
                    GradientClipping.clipByGlobalNorm(gradients.values(), 1.0);
                    adam.step(parameters, gradients);
                    lstm.parametersUpdated();
                }
            }
            return task.evaluate(model);   // RMSE in index points on the held-out days, beside the random walk
        }
    }
    // [end]
}
