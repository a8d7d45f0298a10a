package jlstm;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.AnnotatedType;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.internal.Backends;
import jlstm.io.Safetensors;
import jlstm.io.SafetensorsEntry;
import jlstm.train.Adam;
import jlstm.train.Checkpoint;
import jlstm.train.FitCallback;
import jlstm.train.FitOptions;
import jlstm.train.GradientClipping;
import jlstm.train.LearningRateSchedule;
import jlstm.train.LinearHead;
import jlstm.train.MeanSquaredError;
import jlstm.train.SequenceDataset;
import jlstm.train.SequenceModel;
import jlstm.train.Sgd;
import jlstm.train.SoftmaxCrossEntropy;
import jlstm.train.Trainer;

/**
 * The nullness contract of the public API: the packages are {@code @NullMarked}; a parameter that
 * the docs call optional is {@code @Nullable} and accepts null; every other reference parameter of
 * the entry points below rejects null at once with a {@link NullPointerException} whose message is
 * the parameter's name (not a failure deep inside, nor an IllegalArgumentException).
 */
class NullnessTest {

    /** A call, and the name its NullPointerException must give. */
    private record NullCall(String parameter, org.junit.jupiter.api.function.Executable call) {
    }

    private static final LstmConfig CONFIG = LstmConfig.of(3, 4);

    @Test
    void theExportedPackagesAreNullMarked() {
        for (Class<?> c : List.of(Tensor.class, Safetensors.class, SequenceModel.class,
                jlstm.examples.Tasks.class)) {
            assertTrue(c.getPackage().isAnnotationPresent(NullMarked.class), c.getPackage().getName());
        }
    }

    @Test
    void nullWhereNoneIsAllowedIsANullPointerExceptionNamingTheParameter(@TempDir Path dir) {
        LstmParameters params = LstmParameters.initialize(CONFIG, 1);
        Tensor x = Tensor.zeros(2, 1, 3);
        LstmCell cell = LstmCell.initialize(3, 4, true, 1);
        LinearHead head = LinearHead.initialize(CONFIG, 1, LinearHead.Mode.LAST_STEP, 1);
        SequenceDataset data = new SequenceDataset(Tensor.zeros(2, 2, 3), Tensor.zeros(2, 1));
        Tensor t = Tensor.zeros(2);
        List<NullCall> calls = new ArrayList<>(List.of(
                new NullCall("data", () -> Tensor.of((float[]) null, 2)),
                new NullCall("data", () -> Tensor.view(null, 0, 2)),
                new NullCall("buffer", () -> Tensor.of((FloatBuffer) null, 2)),
                new NullCall("shape", () -> Tensor.view(new float[2], 0, (int[]) null)),
                new NullCall("shape", () -> Tensor.zeros((int[]) null)),
                new NullCall("config", () -> LstmParameters.initialize(null, 1)),
                new NullCall("named", () -> LstmParameters.fromTensors(null, false, "test")),
                new NullCall("source", () -> LstmParameters.fromTensors(Map.of(), false, null)),
                new NullCall("file", () -> LstmParameters.load(null)),
                new NullCall("name", () -> params.get(null)),
                new NullCall("parameters", () -> LstmLayer.create(null, Device.CPU)),
                new NullCall("device", () -> LstmLayer.create(params, (Device) null)),
                new NullCall("backend", () -> LstmLayer.create(params, (LstmBackend) null)),
                new NullCall("options", () -> LstmLayer.create(params, Backends.cpu(), (EngineOptions) null)),
                new NullCall("name", () -> Device.parse(null)),
                new NullCall("properties", () -> EngineOptions.fromProperties(null)),
                new NullCall("kernels", () -> EngineOptions.defaults().withCpuKernels(null)),
                new NullCall("schedule", () -> EngineOptions.defaults().withCudaSchedule(null)),
                new NullCall("mode", () -> EngineOptions.defaults().withPrecision(null)),
                new NullCall("x", () -> cell.step(null, null, null)),
                new NullCall("x", () -> cell.stepTraining(null, null, null)),
                new NullCall("step", () -> cell.backward(null, null, null, cell.newGradients())),
                new NullCall("gradients", () -> cell.backward(cell.stepTraining(Tensor.zeros(1, 3), null, null), null,
                        null, null)),
                new NullCall("device", () -> cell.on(null)),
                new NullCall("weightIh", () -> new LstmCell(3, 4, null, new float[64], null, null)),
                new NullCall("weight", () -> new LinearHead(null, t, LinearHead.Mode.LAST_STEP)),
                new NullCall("mode", () -> new LinearHead(Tensor.zeros(2, 4), t, null)),
                new NullCall("y", () -> head.apply((Tensor) null)),
                new NullCall("y", () -> head.forward(null)),
                new NullCall("dOut", () -> head.backward(null)),
                new NullCall("lstm", () -> LinearHead.initialize((LstmConfig) null, 1, LinearHead.Mode.LAST_STEP, 1)),
                new NullCall("prediction", () -> new MeanSquaredError().compute(null, t)),
                new NullCall("target", () -> new MeanSquaredError().compute(t, null)),
                new NullCall("prediction", () -> new SoftmaxCrossEntropy().compute(null, t)),
                new NullCall("parameters", () -> new Adam(0.1).step(null, Map.of())),
                new NullCall("gradients", () -> new Sgd(0.1, 0, 0).step(Map.of(), null)),
                new NullCall("gradients", () -> GradientClipping.clipByGlobalNorm(null, 1)),
                new NullCall("after", () -> LearningRateSchedule.warmUp(1, null)),
                new NullCall("inputs", () -> new SequenceDataset(null, t)),
                new NullCall("targets", () -> new SequenceDataset(x, null)),
                new NullCall("lengths", () -> data.withLengths(null)),
                new NullCall("h0", () -> data.withInitialState(null, Tensor.zeros(2, 1, 4))),
                new NullCall("loss", () -> FitOptions.epochs(1).loss(null)),
                new NullCall("optimizer", () -> FitOptions.epochs(1).optimizer(null)),
                new NullCall("schedule", () -> FitOptions.epochs(1).schedule(null)),
                new NullCall("callback 0", () -> FitOptions.epochs(1).callbacks((FitCallback) null)),
                new NullCall("lstm", () -> new SequenceModel(null, head)),
                new NullCall("lstm", () -> SequenceModel.create(null, 1, LinearHead.Mode.LAST_STEP, 1)),
                new NullCall("file", () -> Checkpoint.load(null)),
                new NullCall("file", () -> SequenceModel.load(null, Device.CPU)),
                new NullCall("file", () -> Safetensors.read(null)),
                new NullCall("file", () -> Safetensors.write(null, Map.of(), null)),
                new NullCall("tensors", () -> Safetensors.write(dir.resolve("a.safetensors"), null, null)),
                new NullCall("name", () -> SafetensorsEntry.of(null, t)),
                new NullCall("model", () -> Trainer.fit(null, data, FitOptions.epochs(1)))));
        try (LstmLayer lstm = LstmLayer.create(params, Backends.cpu());
             SequenceModel model = SequenceModel.create(LstmLayer.create(params.copy(), Backends.cpu()), 1,
                     LinearHead.Mode.LAST_STEP, 1)) {
            calls.add(new NullCall("x", () -> lstm.forward(null)));
            calls.add(new NullCall("x", () -> lstm.forward(null, null, null, null)));
            calls.add(new NullCall("x", () -> lstm.forwardTraining(null, null, null)));
            calls.add(new NullCall("dy", () -> lstm.backward(null, null, null)));
            calls.add(new NullCall("x", () -> model.predict((Tensor) null)));
            calls.add(new NullCall("train", () -> model.fit(null, FitOptions.epochs(1))));
            calls.add(new NullCall("options", () -> model.fit(data, null)));
            calls.add(new NullCall("x", () -> model.trainStep(null, t, new MeanSquaredError(), new Adam(0.1), 0)));
            calls.add(new NullCall("optimizer", () -> model.trainStep(x, Tensor.zeros(1, 1), new MeanSquaredError(),
                    null, 0)));
            calls.add(new NullCall("data", () -> Trainer.runEpoch(model, null, new MeanSquaredError(), new Adam(0.1),
                    1, 0, 1, null)));
            List<org.junit.jupiter.api.function.Executable> checks = new ArrayList<>();
            for (NullCall c : calls) {
                checks.add(() -> {
                    NullPointerException e = assertThrows(NullPointerException.class, c.call(),
                            "null " + c.parameter() + ": no NullPointerException");
                    assertEquals(c.parameter(), e.getMessage(), "the message of a null " + c.parameter());
                });
            }
            assertAll(checks);
        }
    }

    /** What the docs call optional takes null, and means what they say (zeros, all T, none). */
    @Test
    void nullWhereTheDocsAllowItIsAccepted(@TempDir Path dir) throws Exception {
        LstmParameters params = LstmParameters.initialize(CONFIG, 2);
        Tensor x = Tensor.zeros(2, 1, 3);
        try (LstmLayer lstm = LstmLayer.create(params, Backends.cpu())) {
            LstmOutput plain = lstm.forward(x);
            assertEquals(plain.hn().data()[0], lstm.forward(x, null, null).hn().data()[0]);
            assertEquals(plain.hn().data()[0], lstm.forward(x, null, null, null).hn().data()[0]);
            lstm.forwardTraining(x, null, null, null, null);
            assertDoesNotThrow(() -> lstm.backward(Tensor.zeros(2, 1, 4), null, null));
        }
        LstmCell cell = new LstmCell(3, 4, new float[48], new float[64], null, null);
        LstmCell.Step step = cell.stepTraining(Tensor.zeros(1, 3), null, null);
        assertDoesNotThrow(() -> cell.backward(step, null, null, cell.newGradients()));
        assertDoesNotThrow(() -> cell.step(Tensor.zeros(1, 3), null, null));
        assertDoesNotThrow(() -> LstmParameters.fromTensors(params.asMap(), false, "test", null));

        SequenceDataset data = new SequenceDataset(Tensor.zeros(2, 2, 3), Tensor.zeros(2, 1), null, null, null);
        try (SequenceModel model = SequenceModel.create(LstmLayer.create(params, Backends.cpu()), 1,
                LinearHead.Mode.LAST_STEP, 3)) {
            assertDoesNotThrow(() -> model.predict(x, null, null, null));
            assertDoesNotThrow(() -> model.trainStep(x, Tensor.zeros(1, 1), new MeanSquaredError(), new Sgd(0.1, 0, 0),
                    0, null, null, null));
            assertDoesNotThrow(() -> Trainer.runEpoch(model, data, new MeanSquaredError(), new Adam(0.01), 2, 0, 1,
                    null));
            assertDoesNotThrow(() -> model.fit(data, FitOptions.epochs(1).validation(null)));
            Path file = dir.resolve("model.safetensors");
            Checkpoint.save(file, model, null, Map.of());
            Checkpoint.Options options = Checkpoint.Options.fromFile().withHeadPrefix(null).withLstmPrefix(null)
                    .withHeadMode(null);
            assertEquals(LinearHead.Mode.LAST_STEP, Checkpoint.load(file, options).headMode());
        }
        Path tensors = dir.resolve("t.safetensors");
        Safetensors.write(tensors, Map.of("t", Tensor.zeros(2)), null);
        assertTrue(Safetensors.read(tensors).metadata().isEmpty());
        float[] p = {1, 2};
        Sgd.update(p, new float[] {1, 1}, null, true, 2, 0.5, 0, 0);
        assertEquals(0.5f, p[0]);
    }

    /**
     * The annotations say what the two tests above check: the optional parameters carry
     * {@code @Nullable} (so a Kotlin caller or NullAway sees them as optional) and the required
     * ones do not.
     */
    @Test
    void optionalParametersAreAnnotatedAndRequiredOnesAreNot() throws NoSuchMethodException {
        Method forward = LstmLayer.class.getMethod("forward", Tensor.class, Tensor.class, Tensor.class, int[].class);
        assertFalse(nullable(forward, 0), "x");
        assertTrue(nullable(forward, 1) && nullable(forward, 2) && nullable(forward, 3), "h0, c0, lengths");
        Method backward = LstmLayer.class.getMethod("backward", Tensor.class, Tensor.class, Tensor.class);
        assertFalse(nullable(backward, 0), "dy");
        assertTrue(nullable(backward, 1) && nullable(backward, 2), "dhn, dcn");
        Method step = LstmCell.class.getMethod("step", Tensor.class, Tensor.class, Tensor.class);
        assertFalse(nullable(step, 0));
        assertTrue(nullable(step, 1) && nullable(step, 2));
        Method predict = SequenceModel.class.getMethod("predict", Tensor.class, Tensor.class, Tensor.class, int[].class);
        assertTrue(nullable(predict, 1) && nullable(predict, 2) && nullable(predict, 3));
        Method runEpoch = Trainer.class.getMethod("runEpoch", SequenceModel.class, SequenceDataset.class,
                jlstm.train.Loss.class, jlstm.train.Optimizer.class, int.class, double.class, long.class,
                Trainer.BatchListener.class);
        assertTrue(nullable(runEpoch, 7));
        assertFalse(nullable(runEpoch, 0));
        assertTrue(nullable(FitOptions.class.getMethod("validation", SequenceDataset.class), 0));
        assertTrue(FitOptions.class.getMethod("validation").getAnnotatedReturnType().isAnnotationPresent(Nullable.class));
        assertTrue(LstmParameters.class.getMethod("biasIh", int.class, int.class).getAnnotatedReturnType()
                .isAnnotationPresent(Nullable.class), "biasIh is null without bias");
        assertFalse(LstmLayer.class.getMethod("forward", Tensor.class).getAnnotatedReturnType()
                .isAnnotationPresent(Nullable.class));
    }

    private static boolean nullable(Executable e, int parameter) {
        AnnotatedType type = e.getAnnotatedParameterTypes()[parameter];
        return type.isAnnotationPresent(Nullable.class);
    }
}
