package jlstm.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jlstm.internal.Backends;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA engine against the CPU engine (the reference) on a sweep of shapes, every forward
 * schedule, forward and backward; determinism; no device-memory growth; workspace reuse and
 * parameter updates. Runs on a GPU, or without one on the CPU stand-in (the build sets
 * {@code -Djlstm.cuda.standin} for the {@code cuda} test group), which executes the real kernels.
 */
@Tag("cuda")
class CudaEngineGpuTest {
    /** The accuracy contract of ARCHITECTURE.md: |gpu − cpu| ≤ 1e-4 · max(1, max|cpu|) per tensor. */
    private static final double RELATIVE_TOLERANCE = 1e-4;

    @BeforeEach
    void requireGpu() {
        LstmBackend.Availability a = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
    }

    /** (T, B, I, H, L, bidirectional, bias): B = 1, odd H, T = 1, H = 1024, 3 layers, B > 64, no bias. */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(1, 1, 3, 5, 1, false, true),
                Arguments.of(7, 1, 16, 33, 1, true, true),
                Arguments.of(1, 4, 7, 9, 2, true, true),
                Arguments.of(5, 3, 10, 17, 2, true, false),
                Arguments.of(6, 5, 12, 31, 3, true, true),
                Arguments.of(3, 70, 9, 65, 1, false, true),
                Arguments.of(4, 2, 8, 1024, 1, false, true),
                Arguments.of(9, 12, 40, 127, 3, false, true));
    }

    @ParameterizedTest(name = "T={0} B={1} I={2} H={3} L={4} bidir={5} bias={6}")
    @MethodSource("shapes")
    void matchesTheCpuEngine(int steps, int batch, int input, int hidden, int layers, boolean bidir, boolean bias) {
        LstmConfig config = new LstmConfig(input, hidden, layers, bidir, bias, false);
        LstmParameters params = LstmParameters.initialize(config, 17);
        Inputs in = Inputs.random(config, steps, batch, 23);
        Results cpu = Results.run(Backends.cpu().open(params), params, in, null);
        // On the CPU stand-in every kernel thread is a fiber: the H = 1024 shape runs each schedule
        // once, without graphs, to keep the build short (a GPU runs every combination).
        boolean[] graphModes = CudaStandIn.active() && hidden >= 512 ? new boolean[] {false} : new boolean[] {false, true};
        for (CudaLstmEngine.Schedule schedule : SCHEDULES) {
            for (boolean graphs : graphModes) {
                try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
                    engine.setGraphs(graphs);
                    engine.setSchedule(schedule);
                    String label = schedule + (graphs ? " with graphs" : "") + " (ran as "
                            + engine.effectiveSchedule(batch) + ")";
                    cpu.assertClose(Results.pass(engine, params, in), label);
                }
            }
        }
    }

    /** Every schedule the engine can be asked for (PERSISTENT falls back to GEMM where it does not fit). */
    private static final List<CudaLstmEngine.Schedule> SCHEDULES = List.of(CudaLstmEngine.Schedule.GEMM,
            CudaLstmEngine.Schedule.FUSED, CudaLstmEngine.Schedule.PERSISTENT);

    @Test
    void persistentRunsWhereItFitsAndFallsBackOtherwise() {
        LstmParameters small = LstmParameters.initialize(new LstmConfig(6, 40, 1, true, true, false), 5);
        try (CudaLstmEngine engine = CudaLstmEngine.open(small)) {
            engine.setSchedule(CudaLstmEngine.Schedule.PERSISTENT);
            assertEquals(CudaLstmEngine.Schedule.PERSISTENT, engine.effectiveSchedule(3), engine.persistentPlan(3));
        }
        // A block keeps c for every batch row of its units on chip: 200 000 rows fit on no device.
        int rows = 200_000;
        try (CudaLstmEngine engine = CudaLstmEngine.open(small)) {
            engine.setSchedule(CudaLstmEngine.Schedule.PERSISTENT);
            assertEquals(CudaLstmEngine.Schedule.GEMM, engine.effectiveSchedule(rows));
            assertTrue(engine.persistentPlan(rows).startsWith("persistent kernels do not fit"),
                    engine.persistentPlan(rows));
        }
    }

    @Test
    void graphsAreCapturedOncePerPassAndShapeAndGiveTheSameBits() {
        LstmConfig config = new LstmConfig(5, 12, 2, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 8);
        Inputs a = Inputs.random(config, 4, 3, 1);
        Inputs b = Inputs.random(config, 6, 2, 2);
        Results direct;
        try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
            engine.setGraphs(false);
            direct = Results.pass(engine, params, a);
            assertEquals(0, engine.graphCount());
        }
        try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
            engine.setGraphs(true);
            Results first = Results.pass(engine, params, a);
            assertEquals(3, engine.graphCount(), "inference, training and backward graphs");
            Results again = Results.pass(engine, params, a);
            assertEquals(3, engine.graphCount(), "replayed, not captured again");
            for (int n = 0; n < direct.tensors.size(); n++) {
                assertArrayEquals(direct.tensors.get(n), first.tensors.get(n), direct.names.get(n));
                assertArrayEquals(direct.tensors.get(n), again.tensors.get(n), direct.names.get(n));
            }
            Results.pass(engine, params, b);   // a new (T, B) moves the workspace: old graphs are dropped
            assertEquals(3, engine.graphCount());
            // Parameters changed in place are seen by the replayed graphs (same device buffers).
            params.weightHh(1, 0)[2] += 0.25f;
            engine.parametersUpdated();
            Results.run(Backends.cpu().open(params), params, b, null).assertClose(Results.pass(engine, params, b),
                    "graphs after parametersUpdated");
        }
    }

    @Test
    void backwardIsBitwiseDeterministic() {
        LstmConfig config = new LstmConfig(24, 48, 2, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 3);
        Inputs in = Inputs.random(config, 8, 16, 5);
        for (CudaLstmEngine.Schedule schedule : SCHEDULES) {
            Results first = Results.run(CudaLstmEngine.open(params), params, in, schedule);
            Results second = Results.run(CudaLstmEngine.open(params), params, in, schedule);
            for (int n = 0; n < first.tensors.size(); n++) {
                assertArrayEquals(first.tensors.get(n), second.tensors.get(n), schedule + " " + first.names.get(n));
            }
        }
    }

    /**
     * The tiled persistent kernels (cuda/lstm_persistent_tiled.cu), forward and backward, in every
     * mode, at a batch of three 16-column tiles and odd H: two engines give the same bits, outputs
     * and every gradient (each element of a product is summed by one warp in a fixed order, the
     * splits of k added in split order, no atomics; the backward's dh is no cross-block sum). The
     * backward's blocks hold 16 units: three tiles per block, each shared by two warps' splits of k.
     * On the stand-in blocks run one after another, so this can only fail there through
     * uninitialised or stale shared memory (NaN bytes); on a GPU it checks the reduction order too.
     */
    @Test
    void tiledPersistentKernelsAreBitwiseDeterministicInEveryMode() {
        LstmConfig config = new LstmConfig(24, 37, 2, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 4);
        Inputs in = Inputs.random(config, 5, 33, 6);
        for (jlstm.EngineOptions.Precision precision : jlstm.EngineOptions.Precision.values()) {
            Results[] runs = new Results[2];
            for (int n = 0; n < 2; n++) {
                try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
                    engine.setSchedule(CudaLstmEngine.Schedule.PERSISTENT);
                    engine.setPrecision(precision);
                    String plan = engine.persistentPlan(in.batch);
                    assertTrue(plan.startsWith("forward tiled") && plan.contains("; backward tiled: 3 blocks of 16 units"),
                            plan);
                    runs[n] = Results.pass(engine, params, in);
                }
            }
            for (int n = 0; n < runs[0].tensors.size(); n++) {
                assertArrayEquals(runs[0].tensors.get(n), runs[1].tensors.get(n), precision + " "
                        + runs[0].names.get(n));
            }
        }
    }

    /**
     * The plan chooser at H = 1024: on a device with an H200's 132 multiprocessors (the stand-in in
     * .ci/run's second pass, an H100 or H200) the tiled forward kernel fits every batch of
     * gpu-check.sh's grid in every mode (docs/GPU.md's table, tools/persistent_tiled_plan.py); the
     * tiled backward kernel (16 units: W_hh columns of 16 × 4096 gate rows) fits in bf16 (128 KiB)
     * and not in fp32 or tf32 (256 KiB), where the backward pass runs the warp-per-unit kernel and
     * the plan says why. On the stand-in's default 8 multiprocessors neither tiled kernel fits
     * (U = 128 units per block need megabytes), and the engine says so instead of launching them.
     */
    @Test
    void tiledPlanAtH1024FitsAnH200AndNotEightMultiprocessors() {
        LstmParameters params = LstmParameters.initialize(new LstmConfig(8, 1024, 1, false, true, false), 3);
        try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
            engine.setSchedule(CudaLstmEngine.Schedule.PERSISTENT);
            int sms = engine.multiprocessors();
            for (jlstm.EngineOptions.Precision precision : jlstm.EngineOptions.Precision.values()) {
                engine.setPrecision(precision);
                for (int batch : new int[] {1, 8, 16, 32, 64, 256}) {
                    String plan = engine.persistentPlan(batch);
                    if (sms >= 132) {
                        assertTrue(plan.startsWith("forward tiled: 128 blocks of 8 units"), precision + " B=" + batch
                                + ": " + plan);
                        String backward = precision == jlstm.EngineOptions.Precision.BF16
                                ? "; backward tiled: 64 blocks of 16 units"
                                : "; backward warp per unit (tiled backward kernel does not fit: the W_hh slice of 16 "
                                + "units with dG in chunks of 16 needs";
                        assertTrue(plan.contains(backward), precision + " B=" + batch + ": " + plan);
                    } else if (sms <= 8) {
                        assertTrue(!plan.contains(" tiled: "), precision + " B=" + batch + ": " + plan);
                    }
                }
            }
        }
    }

    @Test
    void repeatedPassesDoNotGrowDeviceMemory() {
        LstmConfig config = new LstmConfig(32, 64, 2, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 9);
        Inputs big = Inputs.random(config, 12, 8, 1);
        Inputs small = Inputs.random(config, 5, 3, 2);
        try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
            Results.pass(engine, params, big);       // warm-up: workspace and cuBLAS's own buffers
            Results.pass(engine, params, small);
            long before = engine.deviceMemoryFree();
            for (int n = 0; n < 8; n++) {
                Results.pass(engine, params, n % 2 == 0 ? big : small);
            }
            assertEquals(before, engine.deviceMemoryFree(), "free device memory changed over 8 passes");
        }
    }

    @Test
    void deviceResidentApiMatchesHostApi() {
        LstmConfig config = new LstmConfig(6, 10, 1, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 4);
        int steps = 4, batch = 3;
        Inputs in = Inputs.random(config, steps, batch, 8);
        try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
            float[] yHost = new float[steps * batch * config.outputSize()];
            float[] hn = new float[in.h0.length];
            float[] cn = new float[in.h0.length];
            engine.forward(steps, batch, in.x, in.h0, in.c0, yHost, hn, cn, false);
            float[] yDevice = engine.inContext(() -> {
                CUdeviceptr x = CudaCalls.allocFloats(in.x.length, "x");
                CUdeviceptr y = CudaCalls.allocFloats(yHost.length, "y");
                CUdeviceptr state = CudaCalls.allocFloats(4L * hn.length, "states");
                try {
                    CudaCalls.check(cuMemcpyHtoD(x, Pointer.to(in.x), in.x.length * 4L), "upload x");
                    CudaCalls.check(cuMemcpyHtoD(state, Pointer.to(in.h0), hn.length * 4L), "upload h0");
                    CudaCalls.check(cuMemcpyHtoD(CudaCalls.at(state, hn.length), Pointer.to(in.c0), hn.length * 4L),
                            "upload c0");
                    engine.forward(steps, batch, x, state, CudaCalls.at(state, hn.length), y,
                            CudaCalls.at(state, 2L * hn.length), CudaCalls.at(state, 3L * hn.length), false);
                    float[] out = new float[yHost.length];
                    CudaCalls.check(cuMemcpyDtoH(Pointer.to(out), y, out.length * 4L), "download y");
                    return out;
                } finally {
                    CudaCalls.free(x, "x");
                    CudaCalls.free(y, "y");
                    CudaCalls.free(state, "states");
                }
            });
            assertArrayEquals(yHost, yDevice);
        }
    }

    @Test
    void nullInitialStatesAndGradientsMeanZeros() {
        LstmConfig config = new LstmConfig(4, 6, 2, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 2);
        Inputs given = Inputs.random(config, 3, 2, 4);
        java.util.Arrays.fill(given.h0(), 0f);
        java.util.Arrays.fill(given.c0(), 0f);
        java.util.Arrays.fill(given.dhn(), 0f);
        java.util.Arrays.fill(given.dcn(), 0f);
        Inputs absent = new Inputs(3, 2, given.x(), null, null, given.dy(), null, null);
        Results withZeros = Results.run(CudaLstmEngine.open(params), params, given, null);
        Results withNulls = Results.run(CudaLstmEngine.open(params), params, absent, null);
        for (int n = 0; n < withZeros.tensors.size(); n++) {
            assertArrayEquals(withZeros.tensors.get(n), withNulls.tensors.get(n), withZeros.names.get(n));
        }
    }

    @Test
    void workspaceIsReusedAndParametersReuploaded() {
        LstmConfig config = new LstmConfig(5, 8, 1, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 3);
        Inputs big = Inputs.random(config, 6, 4, 1);
        Inputs small = Inputs.random(config, 2, 3, 2);
        try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
            Results.pass(engine, params, big);
            long free = engine.deviceMemoryFree();
            for (int n = 0; n < 4; n++) {
                Results.pass(engine, params, n % 2 == 0 ? small : big);
            }
            assertEquals(free, engine.deviceMemoryFree(), "device memory grew across passes");
            // In-place parameter change + parametersUpdated() must be seen, like on the CPU.
            params.weightHh(0, 1)[3] += 0.5f;
            engine.parametersUpdated();
            Results after = Results.pass(engine, params, small);
            Results cpu = Results.run(Backends.cpu().open(params), params, small, null);
            cpu.assertClose(after, "after parametersUpdated");
        }
    }

    @Test
    void closeFreesEveryDeviceAllocation() {
        LstmConfig config = new LstmConfig(5, 8, 2, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 3);
        long before;
        try (CudaLstmEngine probe = CudaLstmEngine.open(params)) {
            before = probe.deviceMemoryFree();
        }
        CudaLstmEngine engine = CudaLstmEngine.open(params);
        Results.pass(engine, params, Inputs.random(config, 4, 3, 1));
        engine.close();
        try (CudaLstmEngine after = CudaLstmEngine.open(params)) {
            assertEquals(before, after.deviceMemoryFree(), "device memory not returned by close()");
        }
    }

    @Test
    void backwardBeforeTrainingForwardFailsClearly() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 4), 1);
        try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
            float[] z = new float[12];
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> engine.backward(z, null, null, z, z, z, params.copy()));
            assertEquals("backward needs a training-mode forward pass first", e.getMessage());
        }
    }

    /** Random x, h0, c0, dy, dhn, dcn for a shape. */
    record Inputs(int steps, int batch, float[] x, float[] h0, float[] c0, float[] dy, float[] dhn, float[] dcn) {
        static Inputs random(LstmConfig config, int steps, int batch, long seed) {
            Random r = new Random(seed);
            int state = config.numLayers() * config.directions() * batch * config.hiddenSize();
            return new Inputs(steps, batch, fill(r, steps * batch * config.inputSize()), fill(r, state),
                    fill(r, state), fill(r, steps * batch * config.outputSize()), fill(r, state), fill(r, state));
        }

        private static float[] fill(Random r, int n) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = r.nextFloat() * 2 - 1;
            }
            return a;
        }
    }

    /** Every output and gradient of one forward + backward, by name. */
    static final class Results {
        final List<String> names = new ArrayList<>();
        final List<float[]> tensors = new ArrayList<>();

        static Results run(LstmEngine engine, LstmParameters params, Inputs in, CudaLstmEngine.Schedule schedule) {
            try (engine) {
                if (schedule != null) {
                    ((CudaLstmEngine) engine).setSchedule(schedule);
                }
                return pass(engine, params, in);
            }
        }

        static Results pass(LstmEngine engine, LstmParameters params, Inputs in) {
            LstmConfig config = params.config();
            Results r = new Results();
            int state = config.numLayers() * config.directions() * in.batch * config.hiddenSize();
            float[] y = new float[in.steps * in.batch * config.outputSize()];
            float[] hn = new float[state];
            float[] cn = new float[state];
            // Inference first (the variants that save nothing), then training + backward.
            engine.forward(in.steps, in.batch, in.x, in.h0, in.c0, y, hn, cn, false);
            r.add("y (inference)", y.clone());
            engine.forward(in.steps, in.batch, in.x, in.h0, in.c0, y, hn, cn, true);
            r.add("y", y);
            r.add("hn", hn);
            r.add("cn", cn);
            float[] dx = new float[in.x.length];
            float[] dh0 = new float[state];
            float[] dc0 = new float[state];
            LstmParameters grads = LstmParameters.zeros(config);
            engine.backward(in.dy, in.dhn, in.dcn, dx, dh0, dc0, grads);
            r.add("dx", dx);
            r.add("dh0", dh0);
            r.add("dc0", dc0);
            for (String name : config.parameterNames()) {
                r.add("grad." + name, grads.get(name).data());
            }
            return r;
        }

        private void add(String name, float[] data) {
            names.add(name);
            tensors.add(data);
        }

        void assertClose(Results gpu, String label) {
            for (int n = 0; n < tensors.size(); n++) {
                float[] ref = tensors.get(n);
                float[] got = gpu.tensors.get(n);
                double scale = 1;
                for (float v : ref) {
                    scale = Math.max(scale, Math.abs(v));
                }
                double tolerance = RELATIVE_TOLERANCE * scale;
                int worst = -1;
                double worstDiff = -1;
                for (int i = 0; i < ref.length; i++) {
                    double diff = Math.abs((double) ref[i] - got[i]);
                    if (!(diff <= worstDiff) || Double.isNaN(got[i])) {
                        worstDiff = Double.isNaN(got[i]) ? Double.POSITIVE_INFINITY : diff;
                        worst = i;
                    }
                }
                if (worstDiff > tolerance) {
                    throw new AssertionError(String.format(Locale.ROOT,
                            "%s, %s: max |gpu - cpu| = %.3g > %.3g at [%d] (gpu %s, cpu %s)", label, names.get(n),
                            worstDiff, tolerance, worst, got[worst], ref[worst]));
                }
            }
        }
    }
}
