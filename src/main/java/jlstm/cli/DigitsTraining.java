package jlstm.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import jlstm.Device;
import jlstm.Tensor;
import jlstm.io.Safetensors;
import jlstm.examples.DigitImages;
import jlstm.examples.DigitsExample;
import jlstm.examples.Tasks;

/**
 * {@code train --task digits} and {@code --task mnist}, the cell tasks: the seed's cell example
 * ({@link DigitsExample}) on the task's {@link DigitImages}. It steps an {@code LstmCell} on the CPU
 * (a GPU cell would move each row's step to the device and back) and writes no resumable
 * checkpoint; the options of {@code train} that do not apply are refused. It gets the command
 * line's values as a {@link Request}, not the command itself.
 */
final class DigitsTraining {
    private DigitsTraining() {
    }

    /**
     * What the command line asked for: epochs, hidden, batch, lr, seed and out as given, or null for
     * the defaults.
     *
     * @param notApplicable the names of options given that do not apply to this task (--resume, --layers …)
     * @param optimizer     the --optimizer value
     */
    record Request(Device device, Integer epochs, Integer hidden, Integer batch, Double lr, Long seed, Path out,
                   java.util.List<String> notApplicable, String optimizer) {
    }

    /** A bad command line for this task: the caller reports it as a usage error (exit 2). */
    static final class UsageError extends IllegalArgumentException {
        UsageError(String message) {
            super(message);
        }
    }

    /**
     * Runs the cell task {@code task} ({@link jlstm.examples.Tasks#CELL_TASKS}); its images are read
     * once the command line has been checked.
     */
    static int run(String task, Request request, TrainCommand.TaskDefaults defaults, PrintStream stdout)
            throws IOException {
        if (request.device().kind() == Device.Kind.CUDA) {
            throw new UsageError("--task " + task + " runs on the CPU: its LstmCell loop steps one row of pixels at a"
                    + " time, and on a GPU every step would cross to the device and back (LstmCell.on(Device.CUDA) runs"
                    + " a cell there); use --device cpu or auto");
        }
        if (!request.notApplicable().isEmpty()) {
            throw new UsageError(request.notApplicable().get(0) + " does not apply to --task " + task + " (one cell,"
                    + " one step per row of an image, fixed data)");
        }
        if (!request.optimizer().equals("adam")) {
            throw new UsageError("--task " + task + " trains with Adam only");
        }
        DigitImages data = Tasks.cellTask(task);
        DigitsExample.Options options = new DigitsExample.Options(
                request.epochs() != null ? request.epochs() : defaults.epochs(),
                request.hidden() != null ? request.hidden() : defaults.hidden(),
                request.batch() != null ? request.batch() : defaults.batch(),
                request.lr() != null ? request.lr() : defaults.lr(),
                request.seed() != null ? request.seed() : 1L, data.inputNoise(), 0);
        Path outDir = request.out() != null ? request.out() : Path.of("runs", task + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UsageError("--out " + outDir + " exists and is not a folder (train writes a checkpoint and"
                    + " charts into a folder)");
        }
        int trainingImages = data.training().size();
        int parameters = 4 * options.hidden() * (data.pixels() + options.hidden() + 2)
                + DigitImages.CLASSES * (options.hidden() + 1);
        String cell = String.format(Locale.ROOT, "LstmCell(I=%d, H=%d)", data.pixels(), options.hidden());
        stdout.printf(Locale.ROOT, "task %s: %s%n", task, data.description());
        stdout.printf(Locale.ROOT, "model %s stepped over %d rows + linear head -> %d, %d parameters, device cpu%n",
                cell, data.rows(), DigitImages.CLASSES, parameters);
        stdout.printf(Locale.ROOT, "training: adam lr=%s (cosine decay) batch=%d input noise sd=%s epochs 1..%d%n",
                TrainCommand.number(options.lr()), options.batch(), TrainCommand.number(options.noise()),
                options.epochs());
        DigitsExample.Result r = DigitsExample.run(data, options, (epoch, loss, accuracy, seconds) -> stdout.printf(
                Locale.ROOT, "epoch %3d/%d  loss %.6f  held-out accuracy %s  %,.0f seq/s  %.1f s%n", epoch,
                options.epochs(), loss, TrainCommand.number(accuracy), trainingImages / seconds, seconds),
                TrainingProgress.onConsole(options.epochs(), trainingImages));

        Files.createDirectories(outDir);
        Path checkpointFile = outDir.resolve(TrainCommand.CHECKPOINT_FILE);
        Map<String, Tensor> tensors = new LinkedHashMap<>(r.model().parameters());
        tensors.putAll(r.model().optimizer().stateTensors());
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("task", task);
        meta.put("model", "nn.LSTMCell(" + data.pixels() + ", " + options.hidden() + ") stepped over the "
                + data.rows() + " rows, head nn.Linear(" + options.hidden() + ", " + DigitImages.CLASSES
                + ") on the last h");
        meta.put("seed", Long.toString(options.seed()));
        meta.put("epochs", Integer.toString(options.epochs()));
        meta.putAll(r.model().optimizer().stateMetadata());
        Safetensors.write(checkpointFile, tensors, meta);
        String noCharts = TrainingCharts.unavailableReason();
        Path curve = outDir.resolve("learning-curve.png");
        Path confusion = outDir.resolve("confusion-matrix.png");
        if (noCharts == null) {
            TrainingCharts.learningCurve(curve, task + ": " + cell + " + linear head",
                    "cross_entropy", r.trainLoss(), "accuracy", r.accuracyCurve(), false, "majority-class",
                    r.baseline());
            ExampleCharts.confusionMatrix(confusion, String.format(Locale.ROOT,
                    "%s: held-out confusion matrix, accuracy %s (%d images)", task, TrainCommand.number(r.accuracy()),
                    r.scored()), r.confusion());
        }
        stdout.printf(Locale.ROOT, "held-out accuracy: %s (baseline majority-class: %s), training %.1f s%n",
                TrainCommand.number(r.accuracy()), TrainCommand.number(r.baseline()), r.seconds());
        if (noCharts == null) {
            stdout.printf("wrote %s, %s, %s%n", checkpointFile, curve, confusion);
        } else {
            stdout.println("no charts: " + noCharts);
            stdout.printf("wrote %s%n", checkpointFile);
        }
        stdout.printf(Locale.ROOT, "result: task=%s device=cpu metric=accuracy value=%s baseline=%s%n", task,
                TrainCommand.number(r.accuracy()), TrainCommand.number(r.baseline()));
        stdout.flush();
        return 0;
    }
}
