package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmParameters;

/**
 * The device training step as one CUDA graph: captured on the first step of a shape and replayed
 * after, it gives the same losses and parameters as the step issued call by call, while the
 * learning rate changes every step and Adam's bias correction with the step number (values the
 * graph reads from device memory), and it allocates nothing after the first step. (That the step
 * follows the host's rules is {@code jlstm.train.CudaTrainingTest}, which runs with graphs on.)
 */
@Tag("cuda")
class CudaTrainingStepGraphTest {
    private static final int STEPS = 4;
    private static final int BATCH = 3;
    private static final int OUTPUTS = 2;

    @BeforeEach
    void requireCuda() {
        LstmBackend.Availability a = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
    }

    private record Result(List<Double> losses, float[] parameters, int graphs) {
    }

    private static Result train(boolean graphs, CudaTrainingStep.Rule rule, double clip) {
        LstmConfig config = LstmConfig.of(3, 5).withLayers(2).withBidirectional(true);
        LstmParameters params = LstmParameters.initialize(config, 8);
        SplittableRandom random = new SplittableRandom(17);
        float[] headWeight = new float[OUTPUTS * config.outputSize()];
        for (int i = 0; i < headWeight.length; i++) {
            headWeight[i] = (float) random.nextDouble(-0.3, 0.3);
        }
        try (CudaLstmEngine engine = CudaLstmEngine.open(params);
             CudaTrainingStep step = new CudaTrainingStep(engine, OUTPUTS, false,
                     CudaTrainingStep.Objective.MEAN_SQUARED_ERROR, rule)) {
            engine.setGraphs(graphs);
            step.setHead(headWeight, new float[OUTPUTS]);
            List<Double> losses = new ArrayList<>();
            long allocationsAfterFirst = -1;
            for (int n = 1; n <= 6; n++) {
                float[] x = new float[STEPS * BATCH * config.inputSize()];
                float[] target = new float[STEPS * BATCH * OUTPUTS];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) random.nextDouble(-1, 1);
                }
                for (int i = 0; i < target.length; i++) {
                    target[i] = (float) random.nextDouble(-1, 1);
                }
                double learningRate = 0.05 / n;   // a schedule: the graph must read it from device memory
                losses.add(step.step(STEPS, BATCH, x, target, learningRate, n, clip));
                if (n == 1) {
                    allocationsAfterFirst = engine.deviceAllocations();
                }
                assertEquals(allocationsAfterFirst, engine.deviceAllocations(), "device allocations by step " + n);
            }
            LstmParameters after = LstmParameters.zeros(config);
            float[] head = new float[headWeight.length];
            step.readParameters(after, head, new float[OUTPUTS]);
            List<Float> all = new ArrayList<>();
            for (String name : config.parameterNames()) {
                for (float v : after.get(name).data()) {
                    all.add(v);
                }
            }
            for (float v : head) {
                all.add(v);
            }
            float[] flat = new float[all.size()];
            for (int i = 0; i < flat.length; i++) {
                flat[i] = all.get(i);
            }
            return new Result(losses, flat, step.graphCount());
        }
    }

    private static void assertSameTraining(CudaTrainingStep.Rule rule, double clip) {
        Result direct = train(false, rule, clip);
        Result replayed = train(true, rule, clip);
        assertEquals(0, direct.graphs(), "graphs off: nothing captured");
        assertEquals(1, replayed.graphs(), "graphs on: one graph for the shape, replayed at every later step");
        for (int n = 0; n < direct.losses().size(); n++) {
            double want = direct.losses().get(n), got = replayed.losses().get(n);
            assertTrue(Math.abs(want - got) <= 1e-6 * Math.max(1, Math.abs(want)),
                    "loss of step " + (n + 1) + ": graph " + got + ", direct " + want);
        }
        for (int i = 0; i < direct.parameters().length; i++) {
            float want = direct.parameters()[i], got = replayed.parameters()[i];
            assertTrue(Math.abs(want - got) <= 1e-6f * Math.max(1, Math.abs(want)),
                    "parameter " + i + ": graph " + got + ", direct " + want);
        }
    }

    @Test
    void adamWithClippingReplaysAsOneGraph() {
        assertSameTraining(new CudaTrainingStep.Rule.Adam(0.9, 0.99, 1e-8, 0.01), 0.3);
    }

    @Test
    void sgdWithMomentumReplaysAsOneGraph() {
        assertSameTraining(new CudaTrainingStep.Rule.Sgd(0.9, 0.001), 0);
    }
}
