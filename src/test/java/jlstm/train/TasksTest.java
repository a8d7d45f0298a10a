package jlstm.train;

import jlstm.examples.AddingProblem;
import jlstm.examples.AirlinePassengers;
import jlstm.examples.Evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import jlstm.Tensor;

/** The embedded tasks' data: what the adding problem holds, and the airline baseline recomputed. */
class TasksTest {

    @Test
    void addingProblemTargetIsTheSumOfTheTwoMarkedValues() {
        AddingProblem task = new AddingProblem(20, 500, 10, 7);
        SequenceDataset d = task.trainingSet();
        float[] x = d.inputs().data(), y = d.targets().data();
        for (int n = 0; n < d.size(); n++) {
            int markers = 0;
            int firstHalf = 0;
            double sum = 0;
            for (int t = 0; t < 20; t++) {
                float value = x[(n * 20 + t) * 2], marker = x[(n * 20 + t) * 2 + 1];
                assertTrue(value >= 0 && value < 1);
                if (marker == 1f) {
                    markers++;
                    firstHalf += t < 10 ? 1 : 0;
                    sum += value;
                } else {
                    assertEquals(0f, marker);
                }
            }
            assertEquals(2, markers, "sample " + n);
            assertEquals(1, firstHalf, "sample " + n + ": one marker in each half");
            assertEquals(sum, y[n], 1e-6);
        }
    }

    @Test
    void addingProblemIsReproducibleFromTheSeed() {
        assertArrayEquals(new AddingProblem(10, 50, 5, 1).trainingSet().inputs().data(),
                new AddingProblem(10, 50, 5, 1).trainingSet().inputs().data());
        assertTrue(!java.util.Arrays.equals(new AddingProblem(10, 50, 5, 1).trainingSet().inputs().data(),
                new AddingProblem(10, 50, 5, 2).trainingSet().inputs().data()));
    }

    @Test
    void constantOnePredictionGivesAboutOneSixth() {
        // Sum of two U(0,1): variance 2/12 around mean 1.
        SequenceDataset d = new AddingProblem(4, 20000, 1, 9).trainingSet();
        Tensor ones = Tensor.zeros(d.targets().shape());
        java.util.Arrays.fill(ones.data(), 1f);
        assertEquals(1.0 / 6, new MeanSquaredError().compute(ones, d.targets()).value(), 0.005);
    }

    @Test
    void airlineUsesTheFirst120MonthsForTrainingAndScoresTheSeasonalNaiveBaseline() throws Exception {
        List<Double> months = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                TasksTest.class.getResourceAsStream(AirlinePassengers.RESOURCE), StandardCharsets.UTF_8))) {
            r.readLine();
            for (String line; (line = r.readLine()) != null; ) {
                months.add(Double.parseDouble(line.split(",")[1]));
            }
        }
        assertEquals(144, months.size());
        AirlinePassengers task = new AirlinePassengers(12);
        assertEquals(120 - 12, task.trainingSet().size());
        assertEquals(12, task.trainingSet().steps());
        double squares = 0;
        for (int t = 120; t < 144; t++) {
            squares += Math.pow(months.get(t) - months.get(t - 12), 2);
        }
        double naive = Math.sqrt(squares / 24);
        LstmParametersHolder holder = new LstmParametersHolder();
        try (SequenceModel model = holder.model()) {
            Evaluation e = task.evaluate(model);
            assertEquals("rmse", e.metric());
            assertEquals(naive, e.baseline(), 1e-9);
            assertEquals(24, e.forecast().actual().length);
            assertEquals("1959-01", e.forecast().labels()[0]);
            assertEquals(months.get(143), e.forecast().actual()[23]);
        }
    }

    /** A small untrained model for evaluation plumbing. */
    private static final class LstmParametersHolder {
        SequenceModel model() {
            jlstm.LstmParameters p = jlstm.LstmParameters.initialize(jlstm.LstmConfig.of(1, 4), 1);
            return new SequenceModel(jlstm.LstmLayer.create(p, jlstm.Device.CPU),
                    LinearHead.initialize(4, 1, LinearHead.Mode.LAST_STEP, 2));
        }
    }
}
