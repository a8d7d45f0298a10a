package jlstm.internal.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;

import jlstm.internal.Backends;
import jlstm.Device;
import jlstm.EngineOptions.Precision;
import jlstm.LstmBackend;
import jlstm.LstmCell;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.Safetensors;
import jlstm.internal.cuda.CudaEngineGpuTest.Inputs;
import jlstm.internal.cuda.CudaEngineGpuTest.Results;
import jlstm.train.Adam;
import jlstm.train.LinearHead;
import jlstm.train.MeanSquaredError;
import jlstm.train.SequenceModel;

/**
 * A short run of every kernel the engine has, on small shapes, checked against the CPU engine:
 * what benchmarks/gpu-check.sh runs under NVIDIA's compute-sanitizer (memcheck, racecheck,
 * synccheck, initcheck) on a GPU. Parts, each named on the command line (default: all):
 * <ul>
 *   <li>{@code gemm}, {@code fused}, {@code persistent}: the schedule's forward in both modes and
 *       backward, graphs off and on ({@code lstm_forward_pointwise}, {@code lstm_fused_step},
 *       {@code lstm_persistent_tiled} where its plans fit — these shapes fit them on an H100 or
 *       H200 — and, with the tiled kernels turned off, {@code lstm_persistent}'s warp-per-unit
 *       kernels, {@code lstm_backward_pointwise}), in each precision: fp32 on three shapes against
 *       the CPU engine; tf32 and bf16 (cuBLAS's GemmEx and the kernels' rounded products, the tiled
 *       kernels' wmma tiles) on one case of PyTorch's precision golden ({@value #MODE_CASE}: B = 33
 *       past the batch tiles, odd H = 21, two bidirectional layers) within
 *       {@link CudaPrecisionGoldenTest}'s bounds for the mode;
 *   <li>{@code packed}: per-sequence lengths, a projection and dropout masks, forward and backward
 *       ({@code lstm_rows} and the packed schedule);
 *   <li>{@code cell}: {@code LstmCell.on(Device.CUDA)}, a training step and its backward;
 *   <li>{@code training}: three training steps on the device — head, loss, clipping, Adam
 *       ({@code lstm_training}).
 * </ul>
 * Prints one {@code ok …} line per checked run and one {@code FAIL …} line per mismatch, going on
 * to the next run (under a sanitizer, one tolerance miss must not leave the other kernels unchecked);
 * exits 1 after the last run if any mismatched. An error of the CUDA backend ends the run at once.
 *
 * <p>usage: {@code java -cp jlstm.jar:test-classes jlstm.internal.cuda.SanitizerWorkload
 * [gemm|fused|persistent|packed|cell|training ...] [fp32|tf32|bf16 ...]} (default: every part; the
 * schedules in every precision — naming precisions limits them to those)
 */
public final class SanitizerWorkload {
    /** Every part, in the order a default run takes them. */
    static final List<String> PARTS = List.of("gemm", "fused", "persistent", "packed", "cell", "training");
    private static final double RELATIVE_TOLERANCE = 1e-4;   // the accuracy contract
    private static final double TRAINING_TOLERANCE = 2e-3;   // as CudaTrainingTest: a few steps amplify it
    /** The golden case (src/test/resources/golden-precision) the schedules run in tf32 and bf16. */
    static final String MODE_CASE = "b33_2_layers_bidirectional";
    private static int mismatches;

    private SanitizerWorkload() {
    }

    public static void main(String[] args) {
        List<String> parts = new ArrayList<>();
        List<Precision> precisions = new ArrayList<>();
        for (String arg : args) {
            if (PARTS.contains(arg)) {
                parts.add(arg);
            } else {
                precisions.add(jlstm.EngineOptions.parse(Precision.class, "SanitizerWorkload's argument (a part of " + PARTS + ", or a precision)", arg));
            }
        }
        if (parts.isEmpty()) {
            parts.addAll(PARTS);
        }
        if (precisions.isEmpty()) {
            precisions.addAll(List.of(Precision.values()));
        }
        for (String part : parts) {
            switch (part) {
                case "gemm", "fused", "persistent" -> {
                    for (Precision precision : precisions) {
                        if (precision == Precision.FP32) {
                            schedule(part);
                        } else {
                            scheduleInMode(part, precision);
                        }
                    }
                }
                case "packed" -> check(SanitizerWorkload::packed);
                case "cell" -> check(SanitizerWorkload::cell);
                case "training" -> check(SanitizerWorkload::training);
                default -> throw new IllegalStateException(part);
            }
        }
        if (mismatches > 0) {
            System.out.println(mismatches + " run(s) did not match (FAIL lines above)");
            System.exit(1);
        }
    }

    /** Runs one check; a mismatch prints a FAIL line and is counted, and the workload goes on. */
    private static void check(Runnable run) {
        try {
            run.run();
        } catch (AssertionError e) {
            mismatches++;
            System.out.println("FAIL " + e);
        }
    }

    private static void schedule(String name) {
        // (T, B, I, H, L, bidirectional): odd H, B past the kernels' row groups, two layers both ways.
        int[][] shapes = {{3, 5, 7, 33, 2, 1}, {4, 1, 6, 64, 1, 0}, {2, 9, 5, 17, 1, 1}};
        for (int[] s : shapes) {
            LstmConfig config = new LstmConfig(s[2], s[3], s[4], s[5] == 1, true, false);
            LstmParameters params = LstmParameters.initialize(config, 3);
            Inputs in = Inputs.random(config, s[0], s[1], 4);
            Results cpu = Results.run(Backends.cpu().open(params), params, in, null);
            eachVariant(name, params, null, config.toString(), s[0], s[1], (engine, label) -> {
                cpu.assertClose(Results.pass(engine, params, in), label);
                System.out.println("ok " + label);
            });
        }
    }

    /**
     * Checks {@code run} on every variant of the schedule {@code name} for {@code params}, each on an
     * engine of its own: graphs off and on, and for the persistent schedule the tiled kernels on and
     * off; in {@code precision} (null: the engine's default). The label it is given names the run:
     * {@code what}, the shape, the variant and the schedule the engine ran.
     */
    private static void eachVariant(String name, LstmParameters params, Precision precision, String what, int steps,
                                    int batch, BiConsumer<CudaLstmEngine, String> run) {
        CudaLstmEngine.Schedule schedule = CudaLstmEngine.Schedule.valueOf(name.toUpperCase(Locale.ROOT));
        boolean persistent = schedule == CudaLstmEngine.Schedule.PERSISTENT;
        for (boolean tiled : persistent ? new boolean[] {true, false} : new boolean[] {true}) {
            for (boolean graphs : new boolean[] {false, true}) {
                try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
                    if (precision != null) {
                        engine.setPrecision(precision);
                    }
                    engine.setSchedule(schedule);
                    engine.setGraphs(graphs);
                    engine.setTiledPersistentKernels(tiled, tiled);
                    String label = what + " T=" + steps + " B=" + batch + " " + name + (graphs ? "+graphs" : "")
                            + (tiled ? "" : " (tiled kernels off)") + " (ran as " + engine.effectiveSchedule(batch)
                            + (persistent ? ": " + engine.persistentPlan(batch) : "") + ")";
                    check(() -> run.accept(engine, label));
                }
            }
        }
    }

    /**
     * The schedule in tf32 or bf16 on {@link #MODE_CASE}: the forward for inference and for
     * training and the backward, against PyTorch's golden in the same mode (tools/make_precision_golden.py),
     * element by element and as a whole case, with the bounds of {@link CudaPrecisionGoldenTest}.
     */
    private static void scheduleInMode(String name, Precision precision) {
        String mode = precision.name().toLowerCase(Locale.ROOT);
        Path folder = CudaPrecisionGoldenTest.caseFolder(MODE_CASE);
        LstmParameters params;
        Map<String, Tensor> in;
        Map<String, Tensor> expected;
        try {
            params = LstmParameters.load(folder.resolve("model.safetensors"));
            in = Safetensors.readFloatTensors(folder.resolve("input.safetensors"));
            expected = Safetensors.readFloatTensors(folder.resolve("expected." + mode + ".safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        LstmConfig config = params.config();
        int steps = in.get("x").shape()[0];
        int batch = in.get("x").shape()[1];
        eachVariant(name, params, precision, MODE_CASE + " " + mode, steps, batch, (engine, label) -> {
            if (engine.precision() != precision) {
                throw new AssertionError(label + ": the engine runs in " + engine.precision());
            }
            Map<String, float[]> inference = CudaPrecisionGoldenTest.forwardOnly(engine, config, steps, batch, in);
            Map<String, Tensor> forward = new LinkedHashMap<>();
            for (String output : List.of("y", "hn", "cn")) {
                forward.put(output, expected.get(output));
            }
            assertClose(forward, tensors(inference, expected), CudaPrecisionGoldenTest.tolerance(precision),
                    label + ", inference:");
            Map<String, float[]> got = CudaPrecisionGoldenTest.pass(engine, config, steps, batch, in);
            assertClose(expected, tensors(got, expected), CudaPrecisionGoldenTest.tolerance(precision),
                    label + ", training:");
            double distance = CudaPrecisionGoldenTest.caseDistance(expected, got);
            if (!(distance <= CudaPrecisionGoldenTest.caseTolerance(precision))) {
                throw new AssertionError(String.format(Locale.ROOT, "%s: the case lies %.3g from its golden "
                        + "(bound %.3g)", label, distance, CudaPrecisionGoldenTest.caseTolerance(precision)));
            }
            System.out.println("ok " + label);
        });
    }

    /** The engine's results as tensors of the golden's shapes (those the golden has). */
    private static Map<String, Tensor> tensors(Map<String, float[]> got, Map<String, Tensor> expected) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        got.forEach((k, v) -> {
            Tensor want = expected.get(k);
            if (want != null && v != null && v.length == want.numel()) {
                out.put(k, Tensor.of(v, want.shape()));
            }
        });
        return out;
    }

    private static void packed() {
        LstmConfig projected = LstmConfig.of(4, 7).withLayers(2).withBidirectional(true).withProjSize(3);
        int steps = 5;
        int[] lengths = {4, 1, 5, 2};
        int batch = lengths.length;
        LstmParameters params = LstmParameters.initialize(projected, 31);
        SplittableRandom random = new SplittableRandom(7);
        int states = projected.numLayers() * projected.directions();
        Tensor x = random(random, steps, batch, projected.inputSize());
        Tensor h0 = random(random, states, batch, projected.realHiddenSize());
        Tensor c0 = random(random, states, batch, projected.hiddenSize());
        Tensor dy = random(random, steps, batch, projected.outputSize());
        List<Tensor> masks = new ArrayList<>();
        Tensor mask = Tensor.zeros(steps, batch, projected.outputSize());
        for (int i = 0; i < mask.numel(); i++) {
            mask.data()[i] = random.nextDouble() < 0.3 ? 0f : 1f / 0.7f;
        }
        masks.add(mask);
        Map<String, Tensor> cpu = CudaPackedFeaturesTest.run(Backends.cpu(), params, x, h0, c0, lengths, masks, dy,
                null, null);
        Map<String, Tensor> cuda = CudaPackedFeaturesTest.run(Backends.cuda(), params, x, h0, c0, lengths, masks, dy,
                null, null);
        assertClose(cpu, cuda, RELATIVE_TOLERANCE, "packed: lengths + projection + dropout masks");
        System.out.println("ok packed: lengths " + java.util.Arrays.toString(lengths) + ", projection, dropout masks, "
                + "forward and backward");
    }

    private static void cell() {
        int batch = 3, input = 5, hidden = 9;
        SplittableRandom random = new SplittableRandom(11);
        Tensor x = random(random, batch, input);
        Tensor h = random(random, batch, hidden);
        Tensor c = random(random, batch, hidden);
        Tensor dh = random(random, batch, hidden);
        Tensor dc = random(random, batch, hidden);
        LstmCell cpu = LstmCell.initialize(input, hidden, true, 13);
        Map<String, Tensor> want = cellStep(cpu, x, h, c, dh, dc);
        try (LstmCell gpu = cpu.on(Device.CUDA)) {
            assertClose(want, cellStep(gpu, x, h, c, dh, dc), RELATIVE_TOLERANCE, "cell");
        }
        System.out.println("ok cell: step, training step and backward on CUDA");
    }

    private static Map<String, Tensor> cellStep(LstmCell cell, Tensor x, Tensor h, Tensor c, Tensor dh, Tensor dc) {
        Map<String, Tensor> all = new LinkedHashMap<>();
        LstmCell.State state = cell.step(x, h, c);
        all.put("h", state.h());
        all.put("c", state.c());
        LstmCell.Step step = cell.stepTraining(x, h, c);
        LstmCell.Gradients gradients = cell.newGradients();
        LstmCell.StepGradients back = cell.backward(step, dh, dc, gradients);
        all.put("dx", back.dx());
        all.put("dh", back.dh());
        all.put("dc", back.dc());
        gradients.asMap().forEach((k, v) -> all.put("grad." + k, v));
        return all;
    }

    private static void training() {
        int steps = 6, batch = 4, input = 3, hidden = 8;
        SplittableRandom random = new SplittableRandom(17);
        List<Tensor> xs = new ArrayList<>();
        List<Tensor> targets = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            xs.add(random(random, steps, batch, input));
            targets.add(random(random, batch, 1));
        }
        Map<String, Tensor> cpu = train(Backends.cpu(), xs, targets);
        Map<String, Tensor> cuda = train(Backends.cuda(), xs, targets);
        assertClose(cpu, cuda, TRAINING_TOLERANCE, "training");
        System.out.println("ok training: 3 steps of LSTM + Linear + MSE + clipping + Adam on the device");
    }

    private static Map<String, Tensor> train(LstmBackend backend, List<Tensor> xs, List<Tensor> targets) {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(3, 8), 21);
        Map<String, Tensor> all = new LinkedHashMap<>();
        try (SequenceModel model = new SequenceModel(LstmLayer.create(p, backend),
                LinearHead.initialize(8, 1, LinearHead.Mode.LAST_STEP, 22))) {
            Adam adam = new Adam(0.01);
            for (int n = 0; n < xs.size(); n++) {
                double loss = model.trainStep(xs.get(n), targets.get(n), new MeanSquaredError(), adam, 0.5).loss();
                all.put("loss " + n, Tensor.of(new float[] {(float) loss}, 1));
            }
            model.synchronizeHost();
            model.parameters().forEach((k, v) -> all.put(k, Tensor.of(v.data().clone(), v.shape())));
        }
        return all;
    }

    private static void assertClose(Map<String, Tensor> want, Map<String, Tensor> got, double tolerance, String what) {
        for (Map.Entry<String, Tensor> e : want.entrySet()) {
            float[] expected = e.getValue().data();
            Tensor actual = got.get(e.getKey());
            if (actual == null || actual.data().length != expected.length) {
                throw new AssertionError(what + " " + e.getKey() + ": missing or of another size on CUDA");
            }
            double scale = 1;
            for (float v : expected) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < expected.length; i++) {
                double diff = Math.abs((double) expected[i] - actual.data()[i]);
                if (!(diff <= tolerance * scale)) {
                    throw new AssertionError(String.format(Locale.ROOT, "%s %s[%d]: cuda %s, cpu %s", what,
                            e.getKey(), i, actual.data()[i], expected[i]));
                }
            }
        }
    }

    /** A tensor of the given shape, uniform in [-1, 1). */
    private static Tensor random(SplittableRandom random, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) random.nextDouble(-1, 1);
        }
        return t;
    }
}
