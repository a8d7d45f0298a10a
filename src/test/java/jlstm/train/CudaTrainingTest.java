package jlstm.train;

import jlstm.examples.AddingProblem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;

/**
 * Training on the CUDA backend follows the CPU run: the same data, initial weights and steps give
 * the same losses, parameters and optimizer state within float tolerance — with the whole step on
 * the device (the default there: head, loss, clipping and optimizer as kernels) and with the head,
 * loss and optimizer on the host ({@code -Djlstm.cuda.deviceTraining=off}). Runs on a GPU, or
 * without one on the CPU stand-in.
 */
@Tag("cuda")
class CudaTrainingTest {
    /**
     * A few dozen steps amplify the engines' float32 differences (≤ 1e-4 relative per pass, the
     * accuracy contract) only mildly; 2e-3 relative is generous but still catches a step that
     * misses a term (a missing bias gradient or clip factor moves parameters by far more).
     */
    private static final double RELATIVE_TOLERANCE = 2e-3;

    @BeforeEach
    void requireCuda() {
        LstmBackend.Availability cuda = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(cuda);
    }

    private static double trainAndEvaluate(LstmBackend backend) {
        AddingProblem task = new AddingProblem(12, 128, 64, 21);
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(2, 16), 21);
        try (SequenceModel model = new SequenceModel(LstmLayer.create(p, backend),
                LinearHead.initialize(16, 1, LinearHead.Mode.LAST_STEP, 22))) {
            Adam adam = new Adam(0.01);
            for (int epoch = 1; epoch <= 2; epoch++) {
                Trainer.runEpoch(model, task.trainingSet(), task.loss(), adam, 32, 1.0, Trainer.shuffleSeed(21, epoch),
                        null);
            }
            return task.evaluate(model).value();
        }
    }

    @Test
    void cudaTrainingMatchesCpuTraining() {
        double cpu = trainAndEvaluate(Backends.cpu());
        double gpu = trainAndEvaluate(Backends.cuda());
        assertEquals(cpu, gpu, RELATIVE_TOLERANCE * cpu, "held-out MSE after training, cpu vs cuda");
    }

    /** What a run left behind: the losses, every parameter and the optimizer's state. */
    private record Run(List<Double> losses, Map<String, Tensor> parameters, Map<String, Tensor> state, long steps,
                       boolean onDevice) {
    }

    /**
     * Steps of a bidirectional two-layer model with an every-step or last-step head, by hand (no
     * Trainer), then the host's view of the state.
     */
    private static Run run(LstmBackend backend, Supplier<Optimizer> makeOptimizer, Loss loss, LinearHead.Mode mode,
                           int outputs, double clip) {
        LstmConfig config = LstmConfig.of(3, 6).withLayers(2).withBidirectional(true);
        LstmParameters p = LstmParameters.initialize(config, 5);
        int steps = 5, batch = 4;
        SplittableRandom random = new SplittableRandom(9);
        try (SequenceModel model = new SequenceModel(LstmLayer.create(p, backend),
                LinearHead.initialize(config.outputSize(), outputs, mode, 6))) {
            Optimizer optimizer = makeOptimizer.get();
            List<Double> losses = new ArrayList<>();
            for (int n = 0; n < 6; n++) {
                Tensor x = Tensor.zeros(steps, batch, 3);
                for (int i = 0; i < x.numel(); i++) {
                    x.data()[i] = (float) random.nextDouble(-1.5, 1.5);
                }
                int rows = mode == LinearHead.Mode.LAST_STEP ? batch : steps * batch;
                Tensor target;
                if (loss instanceof SoftmaxCrossEntropy) {
                    target = Tensor.zeros(rows);
                    for (int r = 0; r < rows; r++) {
                        target.data()[r] = random.nextInt(outputs);
                    }
                } else {
                    target = mode == LinearHead.Mode.LAST_STEP ? Tensor.zeros(batch, outputs)
                            : Tensor.zeros(steps, batch, outputs);
                    for (int i = 0; i < target.numel(); i++) {
                        target.data()[i] = (float) random.nextDouble(-1, 1);
                    }
                }
                losses.add(model.trainStep(x, target, loss, optimizer, clip).loss());
            }
            boolean onDevice = model.trainsOnDevice(loss, optimizer);
            model.synchronizeHost();
            Map<String, Tensor> parameters = new java.util.LinkedHashMap<>();
            model.parameters().forEach((k, v) -> parameters.put(k, v.copy()));
            return new Run(losses, parameters, optimizer.stateTensors(), optimizer.steps(), onDevice);
        }
    }

    private static void assertSameRun(Run cpu, Run gpu, String label) {
        for (int n = 0; n < cpu.losses.size(); n++) {
            assertEquals(cpu.losses.get(n), gpu.losses.get(n), RELATIVE_TOLERANCE * Math.max(1, cpu.losses.get(n)),
                    label + ": loss of step " + (n + 1));
        }
        assertClose(cpu.parameters, gpu.parameters, label + ": parameter");
        assertEquals(cpu.state.keySet(), gpu.state.keySet(), label + ": optimizer state names");
        assertClose(cpu.state, gpu.state, label + ": optimizer state");
        assertEquals(cpu.steps, gpu.steps, label + ": optimizer step count");
    }

    private static void assertClose(Map<String, Tensor> expected, Map<String, Tensor> actual, String label) {
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            float[] want = e.getValue().data();
            float[] got = actual.get(e.getKey()).data();
            double scale = 1e-3;
            for (float v : want) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < want.length; i++) {
                assertTrue(Math.abs(want[i] - got[i]) <= RELATIVE_TOLERANCE * scale, label + " " + e.getKey() + "["
                        + i + "]: cpu " + want[i] + ", cuda " + got[i]);
            }
        }
    }

    @Test
    void deviceStepMatchesTheHostRulesWithAdamClippingAndAnEveryStepHead() {
        Supplier<Optimizer> adam = () -> new Adam(0.02, 0.9, 0.99, 1e-8, 0.01);
        Run cpu = run(Backends.cpu(), adam, new MeanSquaredError(), LinearHead.Mode.EVERY_STEP, 2, 0.5);
        Run gpu = run(Backends.cuda(), adam, new MeanSquaredError(), LinearHead.Mode.EVERY_STEP, 2, 0.5);
        assertTrue(gpu.onDevice, "the CUDA run should train on the device");
        assertSameRun(cpu, gpu, "adam + clip, every-step head");
    }

    @Test
    void deviceStepMatchesTheHostRulesWithSgdMomentumAndCrossEntropy() {
        Supplier<Optimizer> sgd = () -> new Sgd(0.1, 0.9, 0.001);
        Run cpu = run(Backends.cpu(), sgd, new SoftmaxCrossEntropy(), LinearHead.Mode.LAST_STEP, 3, 0);
        Run gpu = run(Backends.cuda(), sgd, new SoftmaxCrossEntropy(), LinearHead.Mode.LAST_STEP, 3, 0);
        assertTrue(gpu.onDevice, "the CUDA run should train on the device");
        assertSameRun(cpu, gpu, "sgd momentum, cross-entropy");
    }

    @Test
    void hostStepsOnCudaMatchTooWhenDeviceTrainingIsOff() {
        String previous = System.getProperty(DeviceTraining.PROPERTY);
        System.setProperty(DeviceTraining.PROPERTY, "off");
        try {
            Supplier<Optimizer> adam = () -> new Adam(0.02);
            Run cpu = run(Backends.cpu(), adam, new MeanSquaredError(), LinearHead.Mode.LAST_STEP, 1, 1.0);
            Run gpu = run(Backends.cuda(), adam, new MeanSquaredError(), LinearHead.Mode.LAST_STEP, 1, 1.0);
            assertFalse(gpu.onDevice, "device training was switched off");
            assertSameRun(cpu, gpu, "host steps on cuda");
        } finally {
            if (previous == null) {
                System.clearProperty(DeviceTraining.PROPERTY);
            } else {
                System.setProperty(DeviceTraining.PROPERTY, previous);
            }
        }
    }
}
