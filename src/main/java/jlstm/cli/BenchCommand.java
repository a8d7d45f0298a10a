package jlstm.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

import jlstm.Backends;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code bench}: a quick throughput look without JMH. For each device and shape: warm-up runs,
 * then timed repetitions of inference (forward) and training (forward in training mode +
 * backward); the median is reported with GFLOP/s (forward FLOPs = {@link LstmConfig#forwardFlops},
 * training ≈ 3× that: the backward pass does two products of the forward's size).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Times forward (inference) and forward+backward (training) on benchmark shapes.")
final class BenchCommand implements Callable<Integer> {
    /** The benchmark shapes of ARCHITECTURE.md: T, B, I, H, L. */
    static final List<BenchShape> DEFAULT_SHAPES = List.of(
            new BenchShape(100, 1, 256, 256, 1), new BenchShape(100, 32, 256, 256, 1),
            new BenchShape(100, 64, 512, 512, 1), new BenchShape(50, 16, 128, 128, 2));

    @Spec
    private CommandSpec spec;

    @Option(names = "--device", defaultValue = "all", paramLabel = "cpu|cuda|all",
            description = "backend(s) to time; all = every available one (default: ${DEFAULT-VALUE})")
    private String device;

    @Option(names = "--shape", paramLabel = "T,B,I,H,L",
            description = "a shape to time (repeatable); default: the ARCHITECTURE.md benchmark shapes")
    private List<String> shapes = new ArrayList<>();

    @Option(names = "--reps", defaultValue = "7", paramLabel = "N", description = "timed repetitions (median reported; default: ${DEFAULT-VALUE})")
    private int reps;

    @Option(names = "--warmup", defaultValue = "5", paramLabel = "N",
            description = "untimed warm-up runs of each pass, and at least 2 s of them (default: ${DEFAULT-VALUE})")
    private int warmup;

    @Option(names = "--threads", paramLabel = "N", description = "CPU worker threads (default: the jlstm.cpu.threads property, else all cores)")
    private Integer threads;

    @Option(names = "--cpu-time",
            description = "time by the calling thread's CPU time instead of the wall clock (with --threads 1 only: "
                    + "per-core speed on a machine shared with other work, which the wall clock would count too)")
    private boolean cpuTime;

    @Option(names = "--json", paramLabel = "FILE", description = "write the results as a JSON array")
    private Path json;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "write a bar chart of GFLOP/s per shape (PNG)")
    private Path chart;

    @Option(names = "--include", paramLabel = "FILE.json",
            description = "more results (same JSON keys, e.g. from benchmarks/torch_anchor.py) to put in the chart (repeatable)")
    private List<Path> include = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        List<BenchShape> parsed = parseShapes();
        if (reps < 1 || warmup < 0) {
            throw new ParameterException(spec.commandLine(), "--reps must be at least 1 and --warmup at least 0");
        }
        if (threads != null) {
            if (threads < 1) {
                throw new ParameterException(spec.commandLine(), "--threads must be at least 1, got " + threads);
            }
            System.setProperty("jlstm.cpu.threads", Integer.toString(threads));
        }
        if (cpuTime && !"1".equals(System.getProperty("jlstm.cpu.threads"))) {
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
        System.out.println(BenchResult.table(results));
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
        switch (device) {
            case "cpu":
                return List.of(Backends.cpu());
            case "cuda": {
                LstmBackend.Availability a = Backends.cuda().availability();
                if (!a.available()) {
                    throw new IllegalStateException("CUDA backend unavailable: " + a.detail());
                }
                return List.of(Backends.cuda());
            }
            case "all": {
                List<LstmBackend> available = new ArrayList<>();
                for (LstmBackend backend : Backends.all()) {
                    LstmBackend.Availability a = backend.availability();
                    if (a.available()) {
                        available.add(backend);
                    } else {
                        System.err.println("skipping " + backend.name() + ": " + a.detail());
                    }
                }
                return available;
            }
            default:
                throw new ParameterException(spec.commandLine(),
                        "--device must be cpu, cuda or all, got '" + device + "'");
        }
    }

    /** Warm-up, then the median of the timed repetitions, of inference and of training. */
    private BenchResult time(LstmBackend backend, BenchShape shape) {
        LstmConfig config = new LstmConfig(shape.inputSize(), shape.hiddenSize(), shape.layers(), false, true, false);
        LstmParameters params = LstmParameters.initialize(config, 42);
        LstmParameters gradients = LstmParameters.zeros(config);
        int t = shape.steps(), b = shape.batch(), h = shape.hiddenSize(), state = shape.layers() * b * h;
        float[] x = random(t * b * shape.inputSize(), 1);
        float[] dy = random(t * b * h, 2);
        float[] y = new float[t * b * h], hn = new float[state], cn = new float[state];
        float[] dx = new float[x.length], dh0 = new float[state], dc0 = new float[state];
        try (LstmEngine engine = backend.open(params)) {
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
            double forwardMs = medianMs(forward);
            double trainMs = medianMs(train);
            double flops = config.forwardFlops(t, b);
            return new BenchResult(backend.name(), shape, forwardMs, trainMs,
                    flops / (forwardMs * 1e6), 3 * flops / (trainMs * 1e6));
        }
    }

    private double medianMs(Runnable run) {
        run.run();
        double[] ms = new double[reps];
        java.lang.management.ThreadMXBean clock = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int i = 0; i < reps; i++) {
            long start = cpuTime ? clock.getCurrentThreadCpuTime() : System.nanoTime();
            run.run();
            ms[i] = ((cpuTime ? clock.getCurrentThreadCpuTime() : System.nanoTime()) - start) / 1e6;
        }
        java.util.Arrays.sort(ms);
        return reps % 2 == 1 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2;
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
