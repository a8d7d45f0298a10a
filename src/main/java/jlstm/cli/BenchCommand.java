package jlstm.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

import jlstm.internal.Backends;
import jlstm.Device;
import jlstm.LstmCell;
import jlstm.EngineOptions;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;
import jlstm.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code bench}: a quick throughput look without JMH. For each device and shape: warm-up runs,
 * then timed repetitions of inference (forward) and training (forward in training mode +
 * backward); the median is reported with GFLOP/s (forward FLOPs = {@link LstmConfig#forwardFlops},
 * training ≈ 3× that: the backward pass does two products of the forward's size). The JSON rows also
 * carry the fastest and slowest repetition and their count ({@link BenchResult.Spread}); the table
 * shows them with {@code --spread}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Times forward (inference) and forward+backward (training) on benchmark shapes.")
final class BenchCommand implements Callable<Integer> {
    /** The benchmark shapes (docs/ARCHITECTURE.md): T, B, I, H, L. */
    static final List<BenchShape> DEFAULT_SHAPES = List.of(
            new BenchShape(100, 1, 256, 256, 1), new BenchShape(100, 32, 256, 256, 1),
            new BenchShape(100, 64, 512, 512, 1), new BenchShape(50, 16, 128, 128, 2));

    @Spec
    private CommandSpec spec;

    @Option(names = "--device", defaultValue = "all", paramLabel = "cpu|cuda|cuda:N|all",
            description = "backend(s) to time; all = every available one (default: ${DEFAULT-VALUE})")
    private String device;

    @Option(names = "--shape", paramLabel = "T,B,I,H,L",
            description = "a shape to time (repeatable); default: the benchmark shapes of docs/ARCHITECTURE.md")
    private List<String> shapes = new ArrayList<>();

    @Option(names = "--reps", defaultValue = "7", paramLabel = "N", description = "timed repetitions (median reported; default: ${DEFAULT-VALUE})")
    private int reps;

    @Option(names = "--warmup", defaultValue = "5", paramLabel = "N",
            description = "untimed warm-up runs of each pass, and at least 2 s of them (default: ${DEFAULT-VALUE})")
    private int warmup;

    @Option(names = "--threads", paramLabel = "N", description = "CPU worker threads (default: the jlstm.cpu.threads property, else all cores)")
    private Integer threads;

    @Mixin
    private PrecisionOption precision;

    /** The engines' options: the -Djlstm.* properties, then this command's own options (set by call). */
    private EngineOptions options = EngineOptions.fromSystemProperties();

    @Option(names = "--cpu-time",
            description = "time by the calling thread's CPU time instead of the wall clock (with --threads 1 only: "
                    + "per-core speed on a machine shared with other work, which the wall clock would count too)")
    private boolean cpuTime;

    @Option(names = "--spread", description = "also print each pass's fastest and slowest timed repetition "
            + "(the JSON rows always carry them: forward_ms_min, forward_ms_max, train_ms_min, train_ms_max, reps)")
    private boolean spread;

    @Option(names = "--json", paramLabel = "FILE", description = "write the results as a JSON array")
    private Path json;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "write a bar chart of GFLOP/s per shape (PNG)")
    private Path chart;

    @Option(names = "--lengths", description = "also time batches of sequences of different lengths (each drawn "
            + "from [1, T]) on each device, against the same batch padded to T")
    private boolean lengths;

    @Option(names = "--cell", description = "also time an LstmCell stepped by hand over T steps on each device "
            + "(ms per step: an inference step, and a training step with its backward)")
    private boolean cell;

    @Option(names = "--include", paramLabel = "FILE.json",
            description = "more results (same JSON keys, e.g. from benchmarks/torch_anchor.py) to put in the chart (repeatable)")
    private List<Path> include = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        List<BenchShape> parsed = parseShapes();
        options = precision.options();
        if (reps < 1 || reps > 10_000 || warmup < 0 || warmup > 10_000) {
            throw new ParameterException(spec.commandLine(), "--reps must be 1 to 10000 and --warmup 0 to 10000, got "
                    + reps + " and " + warmup);
        }
        if (threads != null) {
            if (threads < 1 || threads > 1024) {
                throw new ParameterException(spec.commandLine(), "--threads must be from 1 to 1024, got " + threads);
            }
            options = options.withCpuThreads(threads);
        }
        if (chart != null && TrainingCharts.unavailableReason() != null) {
            throw new ParameterException(spec.commandLine(), "--chart: " + TrainingCharts.unavailableReason());
        }
        for (Path file : new Path[] {json, chart}) {
            if (file != null) {
                OutputGuard.requireWritableFile(file, file == json ? "--json" : "--chart");
            }
        }
        if (cpuTime && options.resolvedCpuThreads() != 1) {
            throw new ParameterException(spec.commandLine(), "--cpu-time needs --threads 1 (the CPU time of one thread)");
        }
        List<LstmBackend> backends = selectBackends();
        List<BenchResult> results = new ArrayList<>();
        int total = backends.size() * parsed.size();
        int done = 0;
        for (LstmBackend backend : backends) {
            for (BenchShape shape : parsed) {
                done++;
                System.err.printf(Locale.ROOT, "[%d/%d] %s %s ...%n", done, total, backend.name(), shape);
                results.add(time(backend, shape));
            }
        }
        System.out.println("precision: " + PrecisionOption.label(options.precision())
                + (options.precision() == EngineOptions.Precision.FP32 ? ""
                        : " (CUDA rows are labelled cuda@" + PrecisionOption.label(options.precision()) + ")"));
        System.out.println(BenchResult.table(results, spread));
        if (results.stream().anyMatch(r -> r.device().startsWith(STANDIN_LABEL))) {
            System.out.println("note: " + STANDIN_LABEL + " rows ran on the CPU stand-in for the CUDA driver "
                    + "(-Djlstm.cuda.standin): the kernels' results are real, their times mean nothing");
        }
        if (lengths) {
            StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                    "%nvariable lengths: each sequence's length drawn from [1, T]; fill = Σ lengths / (T·B)%n"
                            + "%-13s %-34s %5s  %-29s  %-29s  %-23s%n", "device", "shape", "fill",
                    "forward ms: padded  all-T  lengths", "train ms: padded  all-T  lengths",
                    "lengths / all-T: fwd train"));
            for (LstmBackend backend : backends) {
                for (BenchShape shape : parsed) {
                    System.err.printf(Locale.ROOT, "lengths %s %s ...%n", backend.name(), shape);
                    table.append(timeLengths(backend, shape));
                }
            }
            System.out.println(table);
            System.out.println("padded: the padded batch (lengths null); all-T: every length given as T (the same "
                    + "work as padding, through the same recurrence); lengths: the drawn lengths");
            standInNote(backends);
        }
        if (cell) {
            StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                    "%nLstmCell stepped by hand over T steps (B, I, H of the shape; layers ignored)%n"
                            + "%-13s %-34s %14s %20s%n", "device", "shape", "step ms", "train step ms"));
            for (LstmBackend backend : backends) {
                for (BenchShape shape : parsed) {
                    System.err.printf(Locale.ROOT, "cell %s %s ...%n", backend.name(), shape);
                    table.append(timeCell(backend, shape));
                }
            }
            System.out.println(table);
            System.out.println("step: LstmCell.step, h and c fed back; train step: stepTraining then its backward, "
                    + "per step (the backward loop run after the T forward steps); cells compute in fp32 "
                    + "whatever --precision says");
            standInNote(backends);
        }
        if (json != null) {
            BenchResult.writeJson(results, json);
            System.out.println("wrote " + json);
        }
        if (chart != null) {
            List<BenchResult> all = new ArrayList<>(results);
            for (Path extra : include) {
                all.addAll(BenchResult.readJson(extra));
            }
            BenchChart.write(all, chart);
            System.out.println("wrote " + chart);
        }
        return 0;
    }

    private List<BenchShape> parseShapes() {
        if (shapes.isEmpty()) {
            return DEFAULT_SHAPES;
        }
        List<BenchShape> parsed = new ArrayList<>();
        for (String text : shapes) {
            try {
                parsed.add(BenchShape.parse(text));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        return parsed;
    }

    private List<LstmBackend> selectBackends() {
        boolean fp32 = options.precision() == EngineOptions.Precision.FP32;
        switch (device) {
            case "cpu":
                if (!fp32) {
                    throw new ParameterException(spec.commandLine(), "--precision "
                            + PrecisionOption.label(options.precision()) + ": the CPU engine computes in fp32 only "
                            + "(tf32 and bf16 are the CUDA engine's)");
                }
                return List.of(Backends.cpu());
            case "all": {
                List<LstmBackend> available = new ArrayList<>();
                for (LstmBackend backend : Backends.all()) {
                    LstmBackend.Availability a = backend.availability();
                    if (!fp32 && backend == Backends.cpu()) {
                        System.err.println("skipping cpu: it computes in fp32 only, not "
                                + PrecisionOption.label(options.precision()));
                    } else if (a.available()) {
                        available.add(backend);
                    } else {
                        System.err.println("skipping " + backend.name() + ": " + a.detail());
                    }
                }
                return available;
            }
            default: {
                Device gpu;
                try {
                    gpu = Device.parse(device);
                } catch (IllegalArgumentException e) {
                    gpu = Device.AUTO;
                }
                if (gpu.kind() != Device.Kind.CUDA) {
                    throw new ParameterException(spec.commandLine(),
                            "--device must be cpu, cuda, cuda:N or all, got '" + device + "'");
                }
                return List.of(Backends.select(gpu, options));   // fails with the probe's reason when unusable
            }
        }
    }

    /** How rows of the CUDA backend are labelled when it runs on the CPU stand-in. */
    static final String STANDIN_LABEL = "cuda-standin";

    /**
     * The device label of an engine's result row: {@link #deviceLabel}, with {@code @tf32} or
     * {@code @bf16} in those precisions.
     */
    private String label(LstmBackend backend) {
        String name = deviceLabel(backend);
        return options.precision() == EngineOptions.Precision.FP32 ? name
                : name + "@" + PrecisionOption.label(options.precision());
    }

    /** The backend's name, or cuda-standin (with :N past GPU 0) on the stand-in. */
    private static String deviceLabel(LstmBackend backend) {
        return backend instanceof jlstm.internal.cuda.CudaBackend gpu && gpu.onStandIn()
                ? STANDIN_LABEL + (gpu.ordinal() == 0 ? "" : ":" + gpu.ordinal()) : backend.name();
    }

    /**
     * Warm-up, then the timed repetitions of inference and of training: their medians, fastest and
     * slowest.
     */
    private BenchResult time(LstmBackend backend, BenchShape shape) {
        LstmConfig config = new LstmConfig(shape.inputSize(), shape.hiddenSize(), shape.layers(), false, true, false);
        LstmParameters params = LstmParameters.initialize(config, 42);
        LstmParameters gradients = LstmParameters.zeros(config);
        int t = shape.steps(), b = shape.batch(), h = shape.hiddenSize(), state = shape.layers() * b * h;
        float[] x = random(t * b * shape.inputSize(), 1);
        float[] dy = random(t * b * h, 2);
        float[] y = new float[t * b * h], hn = new float[state], cn = new float[state];
        float[] dx = new float[x.length], dh0 = new float[state], dc0 = new float[state];
        try (LstmEngine engine = backend.open(params, options)) {
            Runnable forward = () -> engine.forward(t, b, x, null, null, y, hn, cn, false);
            Runnable train = () -> {
                engine.forward(t, b, x, null, null, y, hn, cn, true);
                engine.backward(dy, null, null, dx, dh0, dc0, gradients);
            };
            // Warm both up before timing either (they share code that the JIT compiles once), for
            // at least --warmup rounds and 2 seconds: the JIT needs time as well as calls.
            long warmupEnd = System.nanoTime() + 2_000_000_000L;
            for (int i = 0; i < warmup || (warmup > 0 && System.nanoTime() < warmupEnd); i++) {
                forward.run();
                train.run();
            }
            Timing forwardMs = timeMs(forward);
            Timing trainMs = timeMs(train);
            double flops = config.forwardFlops(t, b);
            return new BenchResult(label(backend), shape, forwardMs.median(), trainMs.median(),
                    flops / (forwardMs.median() * 1e6), 3 * flops / (trainMs.median() * 1e6),
                    new BenchResult.Spread(forwardMs.min(), forwardMs.max(), trainMs.min(), trainMs.max(), reps));
        }
    }

    /**
     * One shape with lengths drawn from [1, T] (seeded): the padded batch on the default engine, the
     * packed schedule with every length T, and with the drawn lengths. The last two run the same
     * code, so their ratio is what skipping the padded steps saves; ideally the fill.
     */
    private String timeLengths(LstmBackend backend, BenchShape shape) {
        LstmConfig config = new LstmConfig(shape.inputSize(), shape.hiddenSize(), shape.layers(), false, true, false);
        LstmParameters params = LstmParameters.initialize(config, 42);
        LstmParameters gradients = LstmParameters.zeros(config);
        int t = shape.steps(), b = shape.batch(), h = shape.hiddenSize(), state = shape.layers() * b * h;
        float[] x = random(t * b * shape.inputSize(), 1);
        float[] dy = random(t * b * h, 2);
        float[] y = new float[t * b * h], hn = new float[state], cn = new float[state];
        float[] dx = new float[x.length], dh0 = new float[state], dc0 = new float[state];
        Random random = new Random(3);
        int[] drawn = new int[b], full = new int[b];
        long sum = 0;
        for (int i = 0; i < b; i++) {
            drawn[i] = 1 + random.nextInt(t);
            full[i] = t;
            sum += drawn[i];
        }
        double fill = sum / (double) (t * b);
        double[][] ms = new double[3][2]; // [padded, all-T, lengths][forward, train]
        try (LstmEngine engine = backend.open(params, options)) {
            int[][] cases = {null, full, drawn};
            Runnable[][] runs = new Runnable[3][2];
            for (int c = 0; c < 3; c++) {
                int[] l = cases[c];
                runs[c][0] = () -> engine.forward(t, b, x, null, null, y, hn, cn, false, l, null);
                runs[c][1] = () -> {
                    engine.forward(t, b, x, null, null, y, hn, cn, true, l, null);
                    engine.backward(dy, null, null, dx, dh0, dc0, gradients);
                };
            }
            long warmupEnd = System.nanoTime() + 2_000_000_000L;
            for (int i = 0; i < warmup || (warmup > 0 && System.nanoTime() < warmupEnd); i++) {
                for (Runnable[] c : runs) {
                    c[0].run();
                    c[1].run();
                }
            }
            // The three cases interleaved, one repetition of each per round, so that a change in the
            // machine's load (it is shared) falls on all three alike; medians per case.
            double[][][] times = new double[3][2][reps];
            for (int rep = 0; rep < reps; rep++) {
                for (int pass = 0; pass < 2; pass++) {
                    for (int c = 0; c < 3; c++) {
                        long start = System.nanoTime();
                        runs[c][pass].run();
                        times[c][pass][rep] = (System.nanoTime() - start) / 1e6;
                    }
                }
            }
            for (int c = 0; c < 3; c++) {
                for (int pass = 0; pass < 2; pass++) {
                    double[] v = times[c][pass];
                    java.util.Arrays.sort(v);
                    ms[c][pass] = reps % 2 == 1 ? v[reps / 2] : (v[reps / 2 - 1] + v[reps / 2]) / 2;
                }
            }
        }
        return String.format(Locale.ROOT, "%-13s %-34s %5.2f  %9.2f %8.2f %8.2f  %9.2f %8.2f %8.2f  %9.2f %8.2f%n",
                label(backend), shape, fill, ms[0][0], ms[1][0], ms[2][0], ms[0][1], ms[1][1], ms[2][1], ms[2][0] / ms[1][0],
                ms[2][1] / ms[1][1]);
    }

    /**
     * An LstmCell (B, I, H of the shape) stepped over T steps on a backend: the median over the
     * repetitions of a T-step inference loop and of a T-step training loop with its backward, per step.
     */
    private String timeCell(LstmBackend backend, BenchShape shape) {
        int t = shape.steps(), b = shape.batch(), in = shape.inputSize(), h = shape.hiddenSize();
        Tensor[] xs = new Tensor[t];
        for (int s = 0; s < t; s++) {
            xs[s] = Tensor.of(random(b * in, 10 + s), b, in);
        }
        Tensor dhLast = Tensor.of(random(b * h, 3), b, h);
        Device device = backend instanceof jlstm.internal.cuda.CudaBackend gpu ? Device.cuda(gpu.ordinal()) : Device.CPU;
        try (LstmCell cell = LstmCell.initialize(in, h, true, 42).on(device)) {
            Runnable inference = () -> {
                LstmCell.State state = new LstmCell.State(null, null);
                for (Tensor x : xs) {
                    state = cell.step(x, state.h(), state.c());
                }
            };
            LstmCell.Gradients gradients = cell.newGradients();
            Runnable training = () -> {
                LstmCell.Step[] steps = new LstmCell.Step[t];
                Tensor hPrev = null, cPrev = null;
                for (int s = 0; s < t; s++) {
                    steps[s] = cell.stepTraining(xs[s], hPrev, cPrev);
                    hPrev = steps[s].h();
                    cPrev = steps[s].c();
                }
                Tensor dh = dhLast, dc = null;
                for (int s = t - 1; s >= 0; s--) {
                    LstmCell.StepGradients g = cell.backward(steps[s], dh, dc, gradients);
                    dh = g.dh();
                    dc = g.dc();
                }
            };
            for (int i = 0; i < Math.max(1, warmup); i++) {
                inference.run();
                training.run();
            }
            // deviceLabel: a cell computes in fp32 whatever --precision says (it takes no engine options)
            return String.format(Locale.ROOT, "%-13s %-34s %14.4f %20.4f%n", deviceLabel(backend), shape,
                    medianMs(inference) / t, medianMs(training) / t);
        }
    }

    private static void standInNote(List<LstmBackend> backends) {
        if (backends.stream().anyMatch(b -> b instanceof jlstm.internal.cuda.CudaBackend gpu && gpu.onStandIn())) {
            System.out.println("note: " + STANDIN_LABEL + " rows ran on the CPU stand-in: their times mean nothing");
        }
    }

    private double medianMs(Runnable run) {
        return timeMs(run).median();
    }

    /** The median, fastest and slowest of the timed repetitions of one pass, in ms. */
    record Timing(double median, double min, double max) {
        /** Of the given times (sorted in place); the median of an even count is the mean of the middle two. */
        static Timing of(double[] ms) {
            java.util.Arrays.sort(ms);
            int n = ms.length;
            return new Timing(n % 2 == 1 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, ms[0], ms[n - 1]);
        }
    }

    /** One untimed run, then --reps timed ones. */
    private Timing timeMs(Runnable run) {
        run.run();
        double[] ms = new double[reps];
        java.lang.management.ThreadMXBean clock = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int i = 0; i < reps; i++) {
            long start = cpuTime ? clock.getCurrentThreadCpuTime() : System.nanoTime();
            run.run();
            ms[i] = ((cpuTime ? clock.getCurrentThreadCpuTime() : System.nanoTime()) - start) / 1e6;
        }
        return Timing.of(ms);
    }

    private static float[] random(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
