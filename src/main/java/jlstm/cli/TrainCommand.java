package jlstm.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.train.Adam;
import jlstm.train.Checkpoint;
import jlstm.train.EpochRecord;
import jlstm.examples.Evaluation;
import jlstm.train.FitCallback;
import jlstm.train.FitOptions;
import jlstm.train.LinearHead;
import jlstm.train.Optimizer;
import jlstm.train.SequenceModel;
import jlstm.train.Sgd;
import jlstm.examples.Tasks;
import jlstm.examples.TrainingTask;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code train}: fits an LSTM + linear head to an embedded task and writes a checkpoint and charts.
 * The last line printed to stdout is the summary {@code result: task=… device=… metric=… value=…
 * baseline=…}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 100,
        versionProvider = Main.Version.class,
        description = {"Trains an LSTM with a linear head on an embedded task and reports a held-out score.",
                "Tasks (--task):",
                "  adding   the adding problem (Hochreiter & Schmidhuber 1997); metric mse; baseline: always 1.0",
                "  airline  next month's airline passengers from the previous 12, trained on 1949-1958;",
                "           metric rmse (thousands) on 1959-1960; baseline: seasonal naive (same month last year)",
                "  digits   the seed's cell example: 8x8 handwritten digits read row by row by an LstmCell loop;",
                "           metric accuracy on the last 400 images; baseline: the most frequent digit; CPU only",
                "  mnist    the same cell loop on 28x28 MNIST digits, 28 rows of 28 pixels; 8000 training images;",
                "           metric accuracy on the last 2000; baseline: the most frequent digit; CPU only",
                "  stocks   the seed's layer example: tomorrow's DAX close from the last 10 days of 4 indices;",
                "           metric rmse (index points) on the last 20%% of days; baseline: random walk",
                "Writes to --out: checkpoint.safetensors, learning-curve.png, and forecast.png (airline; stocks: its",
                "last 60 days, with forecast-error.png for all of them) or confusion-matrix.png (digits, mnist); the",
                "charts only where the Java runtime has java.desktop.",
                "The last line is: result: task=<task> device=<cpu|cuda> metric=<name> value=<v> baseline=<b>",
                ""})
final class TrainCommand implements Callable<Integer> {

    /** Defaults per task, chosen so that the default run learns the task in well under 3 minutes on 2 cores. */
    record TaskDefaults(int epochs, int hidden, int layers, int seqLen, int batch, double lr, int samples) {
    }

    static final Map<String, TaskDefaults> DEFAULTS = Map.of(
            "adding", new TaskDefaults(15, 32, 1, 50, 32, 0.01, 4000),
            "airline", new TaskDefaults(150, 16, 1, 12, 12, 0.005, 0),
            "digits", new TaskDefaults(25, 64, 1, 8, 32, 0.01, 0),
            "mnist", new TaskDefaults(5, 128, 1, 28, 32, 0.005, 0),
            // stocks: chosen on the validation days only, never on the held-out ones (docs/EXAMPLES.md)
            "stocks", new TaskDefaults(20, 16, 1, 10, 32, 0.001, 0));
    /** Upper bounds of the options (an epoch number must not overflow; H as LstmConfig allows: 4H·H in one array). */
    static final int MAX_EPOCHS = 1_000_000;
    static final int MAX_HIDDEN = 23_170;
    static final int MAX_LAYERS = 100;
    static final String CHECKPOINT_FILE = "checkpoint.safetensors";
    /** The days of a daily forecast's window chart (forecast.png); its error chart covers all days. */
    static final int FORECAST_WINDOW_DAYS = 60;

    @Spec
    CommandSpec spec;

    @Option(names = "--task", paramLabel = "adding|airline|digits|mnist|stocks", description = "task (default: adding; on --resume: the checkpoint's)")
    String task;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda|cuda:N", description = "backend; cuda:N is GPU N (default: ${DEFAULT-VALUE})")
    Device device;

    @Option(names = "--epochs", paramLabel = "N", description = "epochs to run (on --resume: further ones), 1 to " + MAX_EPOCHS + "; default: per task")
    Integer epochs;

    @Option(names = "--hidden", paramLabel = "H", description = "hidden size H, 1 to " + MAX_HIDDEN + "; default: per task")
    Integer hidden;

    @Option(names = "--layers", paramLabel = "L", description = "stacked LSTM layers, 1 to " + MAX_LAYERS + " (default 1)")
    Integer layers;

    @Option(names = "--seq-len", paramLabel = "T", description = "sequence length: adding T, airline and stocks the window; default: per task")
    Integer seqLen;

    @Option(names = "--batch", paramLabel = "B", description = "mini-batch size; default: per task")
    Integer batch;

    @Option(names = "--lr", paramLabel = "X", description = "learning rate; default: per task")
    Double lr;

    @Option(names = "--seed", paramLabel = "S", description = "seed of data, initialisation and shuffling (default 1)")
    Long seed;

    @Option(names = "--samples", paramLabel = "N", description = "adding: training sequences (default 4000; 1000 more are held out)")
    Integer samples;

    @Option(names = "--optimizer", defaultValue = "adam", paramLabel = "adam|sgd", description = "optimizer (default: ${DEFAULT-VALUE}); sgd uses --momentum")
    String optimizerName;

    @Option(names = "--momentum", defaultValue = "0.9", paramLabel = "M", description = "SGD momentum (default: ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--clip", defaultValue = "1.0", paramLabel = "NORM", description = "clip the global gradient norm to this, 0 = off (default: ${DEFAULT-VALUE})")
    double clip;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: runs/<task>-<yyyyMMdd-HHmmss>)")
    Path out;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--resume", paramLabel = "CHECKPOINT", description = "continue from a checkpoint written by train")
    Path resume;

    @Override
    public Integer call() throws Exception {
        PrintStream stdout = System.out;
        Device chosenDevice = device;
        requireRange("--epochs", epochs, MAX_EPOCHS);
        requireRange("--hidden", hidden, MAX_HIDDEN);
        requireRange("--layers", layers, MAX_LAYERS);
        requirePositive("--seq-len", seqLen);
        requirePositive("--batch", batch);
        requirePositive("--samples", samples);
        if (lr != null && !(lr > 0 && Double.isFinite(lr))) {
            throw bad("--lr must be a positive number, got " + lr);
        }
        if (!(clip >= 0) || !Double.isFinite(clip)) {
            throw bad("--clip must be 0 (off) or a positive number, got " + clip);
        }
        if (!optimizerName.equals("adam") && !optimizerName.equals("sgd")) {
            throw bad("unknown --optimizer '" + optimizerName + "' (expected adam or sgd)");
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw bad("--momentum must be in [0, 1), got " + momentum);
        }

        jlstm.EngineOptions options = precision.options();
        if (task != null && Tasks.isCellTask(task)) {
            if (options.precision() != jlstm.EngineOptions.Precision.FP32) {
                throw bad("--precision " + PrecisionOption.label(options.precision()) + ": the " + task + " task trains"
                        + " an LstmCell on the CPU, in fp32 only");
            }
            java.util.List<String> notApplicable = new ArrayList<>();
            for (Object[] option : new Object[][] {{"--resume", resume}, {"--layers", layers}, {"--seq-len", seqLen},
                    {"--samples", samples}}) {
                if (option[1] != null) {
                    notApplicable.add((String) option[0]);
                }
            }
            try {
                return DigitsTraining.run(task, new DigitsTraining.Request(chosenDevice, epochs, hidden, batch, lr, seed,
                        out, notApplicable, optimizerName), DEFAULTS.get(task), stdout);
            } catch (DigitsTraining.UsageError e) {
                throw bad(e.getMessage());
            }
        }
        Checkpoint checkpoint = resume == null ? null : Checkpoint.load(resume);
        Map<String, String> resumed = checkpoint == null ? Map.of() : checkpoint.metadata();
        String taskName = resolveTask(resumed);
        TaskDefaults defaults = DEFAULTS.get(taskName);
        int runSeqLen = pick("--seq-len", seqLen, resumed.get("task.seq_len"), defaults.seqLen());
        int runHidden = pick("--hidden", hidden, checkpoint == null ? null : Integer.toString(checkpoint.lstm().config().hiddenSize()), defaults.hidden());
        int runLayers = pick("--layers", layers, checkpoint == null ? null : Integer.toString(checkpoint.lstm().config().numLayers()), defaults.layers());
        long runSeed = seed != null ? seed : resumed.containsKey("seed") ? parseLong(resumed, "seed") : 1L;
        if (seed != null && resumed.containsKey("seed") && seed != parseLong(resumed, "seed")) {
            throw bad("--seed " + seed + " differs from the checkpoint's seed " + resumed.get("seed")
                    + " (the seed fixes the data; omit --seed when resuming)");
        }
        int runSamples = pick("--samples", samples, resumed.get("task.train_samples"), defaults.samples());
        int runEpochs = epochs != null ? epochs : defaults.epochs();
        int runBatch = batch != null ? batch : defaults.batch();
        double runLr = lr != null ? lr : defaults.lr();
        if (lr == null && optimizerName.equals(resumed.get("optimizer")) && resumed.containsKey("optimizer.lr")) {
            runLr = parseDouble(resumed, "optimizer.lr"); // keep the checkpoint's rate unless told otherwise
        }
        if (samples != null && !taskName.equals("adding")) {
            throw bad("--samples applies to the adding task only");
        }

        TrainingTask trainingTask;
        try {
            trainingTask = Tasks.create(taskName, runSeqLen, runSamples, runSeed);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage()); // a --seq-len or --samples out of the task's range
        }
        int inputSize = trainingTask.trainingSet().inputSize();
        int outputSize = trainingTask.trainingSet().outputSize();

        LstmParameters lstmParameters;
        LinearHead head;
        int startEpoch = 0;
        List<Double> trainHistory = new ArrayList<>();
        List<Double> evalHistory = new ArrayList<>();
        if (checkpoint != null) {
            LstmConfig c = checkpoint.lstm().config();
            if (c.inputSize() != inputSize || c.bidirectional() || !c.bias() || checkpoint.headWeight().dim(0) != outputSize
                    || checkpoint.headMode() != trainingTask.headMode()) {
                throw new IllegalArgumentException(resume + ": checkpoint holds " + c + " with a head of "
                        + checkpoint.headWeight().dim(0) + " output(s); task " + taskName + " needs a one-direction LSTM"
                        + " with bias, I=" + inputSize + " and " + outputSize + " output(s)");
            }
            lstmParameters = checkpoint.lstm();
            head = checkpoint.head();
            startEpoch = (int) parseLong(resumed, "epoch");
            trainHistory.addAll(parseHistory(resumed, "history.train_loss"));
            evalHistory.addAll(parseHistory(resumed, "history.heldout"));
        } else {
            lstmParameters = LstmParameters.initialize(LstmConfig.of(inputSize, runHidden).withLayers(runLayers), runSeed);
            head = LinearHead.initialize(runHidden, outputSize, trainingTask.headMode(), runSeed + 1);
        }

        Path outDir = out != null ? out : Path.of("runs", taskName + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw bad("--out " + outDir + " exists and is not a folder (train writes a checkpoint and charts into "
                    + "a folder)");
        }
        OutputGuard.refuseToReplace(outDir.resolve(CHECKPOINT_FILE), "--out " + outDir + ": the new checkpoint",
                java.util.Collections.singletonMap("--resume", resume), "choose another --out (or copy the checkpoint"
                        + " elsewhere first)");
        if (Files.isDirectory(outDir)) { // the checkpoint replaces only a regular file (no FIFO, device, dangling link)
            OutputGuard.requireWritableFile(outDir.resolve(CHECKPOINT_FILE), "--out " + outDir + ": the checkpoint");
        }
        boolean createdOutDir = !Files.exists(outDir);

        try (SequenceModel model = new SequenceModel(LstmLayer.create(lstmParameters, chosenDevice, options), head)) {
            Files.createDirectories(outDir); // only once the device is known to work
            Optimizer optimizer = optimizerName.equals("adam") ? new Adam(runLr) : new Sgd(runLr, momentum, 0);
            String optimizerNote = "";
            if (checkpoint != null) {
                if (optimizerName.equals(resumed.get("optimizer"))) {
                    optimizer.loadState(checkpoint.optimizerTensors(), resumed, model.parameters());
                    optimizer.setLearningRate(runLr);
                    optimizerNote = ", state restored at step " + optimizer.steps();
                } else {
                    optimizerNote = ", fresh state (the checkpoint's optimizer was " + resumed.get("optimizer") + ")";
                }
            }
            String deviceName = model.lstm().deviceName();
            long parameterCount = model.parameters().values().stream().mapToLong(t -> t.numel()).sum();
            stdout.printf(Locale.ROOT, "task %s: %s%n", taskName, trainingTask.description());
            stdout.printf(Locale.ROOT, "model %s + linear head -> %d, %d parameters, device %s, precision %s%n",
                    lstmParameters.config(), outputSize, parameterCount, deviceName,
                    PrecisionOption.label(options.precision()));
            stdout.printf(Locale.ROOT, "training: %s lr=%s batch=%d clip=%s epochs %d..%d%s%s%n", optimizer.name(),
                    number(runLr), runBatch, clip == 0 ? "off" : number(clip), startEpoch + 1, startEpoch + runEpochs,
                    checkpoint == null ? "" : ", resumed from " + resume, optimizerNote);
            if (deviceName.equals("cuda")) {
                stdout.println(model.trainsOnDevice(trainingTask.loss(), optimizer)
                        ? "note: head, loss, clipping and optimizer run on the GPU too; a step sends the batch and "
                                + "receives the loss"
                        : "note: the head, loss and optimizer run on the host; each step copies through host memory");
            }

            String monitorName = trainingTask.monitorName(); // held-out, or validation for stocks
            Path checkpointFile = outDir.resolve(CHECKPOINT_FILE);
            Evaluation[] lastMonitored = new Evaluation[1];
            int lastEpoch = startEpoch + runEpochs;
            FitCallback report = new FitCallback() {
                @Override
                public void epochDone(EpochRecord epoch) {
                    Evaluation evaluation = trainingTask.monitor(model);
                    lastMonitored[0] = evaluation;
                    trainHistory.add(epoch.trainLoss());
                    evalHistory.add(evaluation.value());
                    stdout.printf(Locale.ROOT, "epoch %3d/%d  loss %.6f  %s %s %s  %,.0f seq/s  %.1f s%n",
                            epoch.epoch(), lastEpoch, epoch.trainLoss(), monitorName, evaluation.metric(),
                            number(evaluation.value()), epoch.sequencesPerSecond(), epoch.seconds());
                    Map<String, String> meta = new LinkedHashMap<>();
                    meta.put("task", taskName);
                    meta.putAll(trainingTask.metadata());
                    meta.put("seed", Long.toString(runSeed));
                    meta.put("epoch", Integer.toString(epoch.epoch()));
                    meta.put("input_size", Integer.toString(inputSize));
                    meta.put("hidden", Integer.toString(lstmParameters.config().hiddenSize()));
                    meta.put("layers", Integer.toString(lstmParameters.config().numLayers()));
                    meta.put("batch", Integer.toString(runBatch));
                    meta.put("clip", Double.toString(clip));
                    meta.put("loss", trainingTask.loss().name());
                    meta.put("metric", evaluation.metric());
                    meta.put("history.train_loss", joinHistory(trainHistory));
                    meta.put("history.heldout", joinHistory(evalHistory));
                    try {
                        Checkpoint.save(checkpointFile, model, optimizer, meta);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            };
            try {
                model.fit(trainingTask.trainingSet(), FitOptions.epochs(runEpochs).initialEpoch(lastEpoch - runEpochs)
                        .batchSize(runBatch).loss(trainingTask.loss()).optimizer(optimizer).clipGradientNorm(clip)
                        .seed(runSeed).callbacks(TrainingProgress.onConsole(lastEpoch,
                                trainingTask.trainingSet().size()), report));
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
            Evaluation evaluation = lastMonitored[0];
            Evaluation monitored = evaluation != null ? evaluation : trainingTask.monitor(model);
            if (!monitorName.equals("held-out")) {
                stdout.printf(Locale.ROOT, "%s %s: %s (baseline %s: %s)%n", monitorName, monitored.metric(),
                        number(monitored.value()), monitored.baselineName(), number(monitored.baseline()));
            }
            evaluation = trainingTask.evaluate(model); // the held-out score, once training is done

            String noCharts = TrainingCharts.unavailableReason();
            Path curve = outDir.resolve("learning-curve.png");
            String metricLabel = evaluation.metric() + (trainingTask.metricUnit().isEmpty() ? ""
                    : " (" + trainingTask.metricUnit() + ")");
            if (noCharts == null) {
                TrainingCharts.learningCurve(curve, taskName + ": " + lstmParameters.config(),
                        trainingTask.loss().name(), trainHistory, monitorName, metricLabel, evalHistory,
                        trainingTask.loss().name().equals(evaluation.metric()), monitored.baselineName(),
                        monitored.baseline());
            }
            stdout.printf(Locale.ROOT, "held-out %s: %s (baseline %s: %s)%n", evaluation.metric(),
                    number(evaluation.value()), evaluation.baselineName(), number(evaluation.baseline()));
            if (noCharts != null) {
                stdout.println("no charts: " + noCharts);
                stdout.printf("wrote %s", checkpointFile);
            } else {
                stdout.printf("wrote %s, %s", checkpointFile, curve);
            }
            if (evaluation.forecast() != null && noCharts == null) {
                Path forecast = outDir.resolve("forecast.png");
                if (trainingTask.dailyForecast()) {
                    // A year of days reads as a window of the last ones plus the error over all of them.
                    Path error = outDir.resolve("forecast-error.png");
                    ExampleCharts.dailyForecast(forecast, taskName + ": the last " + FORECAST_WINDOW_DAYS
                            + " held-out days, one day ahead", trainingTask.forecastAxis(),
                            ExampleCharts.last(evaluation.forecast(), FORECAST_WINDOW_DAYS), evaluation.baselineName());
                    ExampleCharts.forecastError(error, taskName + ": one-day-ahead error on all "
                            + evaluation.forecast().labels().length + " held-out days", "prediction - actual, "
                            + trainingTask.forecastAxis(), evaluation.forecast(), evaluation.baselineName());
                    stdout.printf(", %s, %s", forecast, error);
                } else {
                    TrainingCharts.forecast(forecast, taskName + ": held-out months, one step ahead",
                            evaluation.forecast(), evaluation.baselineName(), trainingTask.forecastAxis());
                    stdout.printf(", %s", forecast);
                }
            }
            stdout.println();
            stdout.printf(Locale.ROOT, "result: task=%s device=%s metric=%s value=%s baseline=%s%n", taskName,
                    deviceName, evaluation.metric(), number(evaluation.value()), number(evaluation.baseline()));
            stdout.flush();
        } catch (Exception | Error e) {
            if (createdOutDir) {
                removeIfEmpty(outDir); // a run that failed before writing anything leaves no folder behind
            }
            throw e;
        }
        return 0;
    }

    private static void removeIfEmpty(Path dir) {
        try (java.util.stream.Stream<Path> entries = Files.list(dir)) {
            if (entries.findAny().isEmpty()) {
                Files.delete(dir);
            }
        } catch (IOException ignored) {
            // best effort: the run's own error is the one to report
        }
    }

    private String resolveTask(Map<String, String> resumed) {
        String fromCheckpoint = resumed.get("task");
        if (resume != null && fromCheckpoint == null) {
            throw new IllegalArgumentException(resume + ": checkpoint metadata has no 'task'; was it written by train?");
        }
        if (resume != null && !DEFAULTS.containsKey(fromCheckpoint)) {
            throw new IllegalArgumentException(resume + ": checkpoint is for unknown task '" + fromCheckpoint
                    + "' (known tasks: " + String.join(", ", new java.util.TreeSet<>(DEFAULTS.keySet())) + ")");
        }
        if (resume != null && Tasks.isCellTask(fromCheckpoint)) {
            throw bad(resume + ": a checkpoint of task " + fromCheckpoint + " cannot be resumed (the cell example"
                    + " trains from the start each time: run train --task " + fromCheckpoint + " without --resume)");
        }
        if (task != null && !DEFAULTS.containsKey(task)) {
            throw bad("unknown --task '" + task + "' (expected " + String.join(", ", Tasks.NAMES.subList(0,
                    Tasks.NAMES.size() - 1)) + " or " + Tasks.NAMES.get(Tasks.NAMES.size() - 1) + ")");
        }
        if (task != null && fromCheckpoint != null && !task.equals(fromCheckpoint)) {
            throw bad("--task " + task + " but the checkpoint " + resume + " was trained on " + fromCheckpoint);
        }
        return task != null ? task : fromCheckpoint != null ? fromCheckpoint : "adding";
    }

    /** The option's value, else the checkpoint's, else the default; an option contradicting the checkpoint is an error. */
    private int pick(String option, Integer given, String fromCheckpoint, int fallback) {
        if (fromCheckpoint != null) {
            int saved;
            try {
                saved = Integer.parseInt(fromCheckpoint);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(resume + ": checkpoint metadata for " + option + " is '"
                        + fromCheckpoint + "', not a number");
            }
            if (given != null && given != saved) {
                throw bad(option + " " + given + " does not match the checkpoint " + resume + ", which has " + saved
                        + " (a checkpoint of a different shape cannot be resumed; omit " + option + ")");
            }
            return saved;
        }
        return given != null ? given : fallback;
    }

    /** The defaults of every task, as the footer of {@code train --help}. */
    static String defaultsFooter() {
        StringBuilder sb = new StringBuilder("Defaults per task (an option given overrides them; on --resume the"
                + " checkpoint's sizes apply):%n");
        sb.append(String.format(Locale.ROOT, "  %-8s %7s %7s %7s %8s %6s %7s %8s%%n", "task", "epochs", "hidden",
                "layers", "seq-len", "batch", "lr", "samples"));
        for (String name : new java.util.TreeSet<>(DEFAULTS.keySet())) {
            TaskDefaults d = DEFAULTS.get(name);
            sb.append(String.format(Locale.ROOT, "  %-8s %7d %7d %7d %8d %6d %7s %8s%%n", name, d.epochs(), d.hidden(),
                    d.layers(), d.seqLen(), d.batch(), number(d.lr()), d.samples() == 0 ? "-" : d.samples()));
        }
        return sb.toString();
    }

    private void requireRange(String option, Integer value, int max) {
        if (value != null && (value < 1 || value > max)) {
            throw bad(option + " must be 1 to " + max + ", got " + value);
        }
    }

    private void requirePositive(String option, Integer value) {
        if (value != null && value < 1) {
            throw bad(option + " must be at least 1, got " + value);
        }
    }

    CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private long parseLong(Map<String, String> meta, String key) {
        try {
            return Long.parseLong(meta.getOrDefault(key, ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(resume + ": checkpoint metadata '" + key + "' is '" + meta.get(key)
                    + "', not a whole number");
        }
    }

    private double parseDouble(Map<String, String> meta, String key) {
        try {
            double v = Double.parseDouble(meta.getOrDefault(key, ""));
            if (!(v > 0) || !Double.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(resume + ": checkpoint metadata '" + key + "' is '" + meta.get(key)
                    + "', not a positive number");
        }
    }

    private List<Double> parseHistory(Map<String, String> meta, String key) {
        List<Double> values = new ArrayList<>();
        String text = meta.getOrDefault(key, "");
        for (String s : text.split(",")) {
            if (!s.isBlank()) {
                try {
                    values.add(Double.parseDouble(s));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(resume + ": checkpoint metadata '" + key + "' holds '" + s
                            + "', not a number");
                }
            }
        }
        return values;
    }

    private static String joinHistory(List<Double> values) {
        StringBuilder sb = new StringBuilder();
        for (double v : values) {
            sb.append(sb.length() == 0 ? "" : ",").append(v);
        }
        return sb.toString();
    }

    /** Five significant digits, plain notation: 0.00051234, 42.713. */
    static String number(double v) {
        if (!Double.isFinite(v)) {
            return Double.toString(v);
        }
        return new BigDecimal(v).round(new MathContext(5)).stripTrailingZeros().toPlainString();
    }
}
