package jlstm.cli;

import jlstm.train.Adam;

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
import jlstm.examples.DigitsExample;
import jlstm.examples.HandwrittenDigits;

/**
 * {@code train --task digits}: the seed's cell example ({@link DigitsExample}). It steps an
 * {@code LstmCell} on the CPU (a GPU cell would move each 8-pixel step to the device and back) and
 * writes no resumable checkpoint; the options of {@code train} that do not apply are refused. It
 * gets the command line's values as a {@link Request}, not the command itself.
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

    static int run(Request request, TrainCommand.TaskDefaults defaults, PrintStream stdout) throws IOException {
        if (request.device().kind() == Device.Kind.CUDA) {
            throw new UsageError("--task digits runs on the CPU: its LstmCell loop steps one row of 8 pixels at a time,"
                    + " and on a GPU every step would cross to the device and back (LstmCell.on(Device.CUDA) runs a"
                    + " cell there); use --device cpu or auto");
        }
        if (!request.notApplicable().isEmpty()) {
            throw new UsageError(request.notApplicable().get(0) + " does not apply to --task digits (one cell, 8 rows"
                    + " per image, fixed data)");
        }
        if (!request.optimizer().equals("adam")) {
            throw new UsageError("--task digits trains with Adam only");
        }
        DigitsExample.Options options = new DigitsExample.Options(
                request.epochs() != null ? request.epochs() : defaults.epochs(),
                request.hidden() != null ? request.hidden() : defaults.hidden(),
                request.batch() != null ? request.batch() : defaults.batch(),
                request.lr() != null ? request.lr() : defaults.lr(),
                request.seed() != null ? request.seed() : 1L, DigitsExample.Options.defaults().noise(), 0);
        Path outDir = request.out() != null ? request.out() : Path.of("runs", "digits-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UsageError("--out " + outDir + " exists and is not a folder (train writes a checkpoint and"
                    + " charts into a folder)");
        }
        int trainingImages = HandwrittenDigits.load().training().size();
        int parameters = 4 * options.hidden() * (HandwrittenDigits.PIXELS + options.hidden() + 2)
                + HandwrittenDigits.CLASSES * (options.hidden() + 1);
        stdout.printf(Locale.ROOT, "task digits: 8x8 handwritten digits (UCI, CC BY 4.0), each image read row by row "
                + "(T=8 steps of 8 pixels) by an LstmCell loop; %d training and %d held-out images (the last %d "
                + "of the file), loss cross-entropy%n", trainingImages, HandwrittenDigits.HELD_OUT,
                HandwrittenDigits.HELD_OUT);
        stdout.printf(Locale.ROOT, "model LstmCell(I=8, H=%d) stepped over 8 rows + linear head -> 10, %d parameters, "
                + "device cpu%n", options.hidden(), parameters);
        stdout.printf(Locale.ROOT, "training: adam lr=%s (cosine decay) batch=%d input noise sd=%s epochs 1..%d%n",
                TrainCommand.number(options.lr()), options.batch(), TrainCommand.number(options.noise()),
                options.epochs());
        DigitsExample.Result r = DigitsExample.run(options, (epoch, loss, accuracy, seconds) -> stdout.printf(
                Locale.ROOT, "epoch %3d/%d  loss %.6f  held-out accuracy %s  %,.0f seq/s  %.1f s%n", epoch,
                options.epochs(), loss, TrainCommand.number(accuracy), trainingImages / seconds, seconds));

        Files.createDirectories(outDir);
        Path checkpointFile = outDir.resolve(TrainCommand.CHECKPOINT_FILE);
        Map<String, Tensor> tensors = new LinkedHashMap<>(r.model().parameters());
        tensors.putAll(r.model().optimizer().stateTensors());
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("task", "digits");
        meta.put("model", "nn.LSTMCell(8, " + options.hidden() + ") stepped over the 8 rows, head nn.Linear("
                + options.hidden() + ", 10) on the last h");
        meta.put("seed", Long.toString(options.seed()));
        meta.put("epochs", Integer.toString(options.epochs()));
        meta.putAll(r.model().optimizer().stateMetadata());
        Safetensors.write(checkpointFile, tensors, meta);
        String noCharts = TrainingCharts.unavailableReason();
        Path curve = outDir.resolve("learning-curve.png");
        Path confusion = outDir.resolve("confusion-matrix.png");
        if (noCharts == null) {
            TrainingCharts.learningCurve(curve, "digits: LstmCell(I=8, H=" + options.hidden() + ") + linear head",
                    "cross_entropy", r.trainLoss(), "accuracy", r.accuracyCurve(), false, "majority-class",
                    r.baseline());
            ExampleCharts.confusionMatrix(confusion, String.format(Locale.ROOT,
                    "digits: held-out confusion matrix, accuracy %s (%d images)", TrainCommand.number(r.accuracy()),
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
        stdout.printf(Locale.ROOT, "result: task=digits device=cpu metric=accuracy value=%s baseline=%s%n",
                TrainCommand.number(r.accuracy()), TrainCommand.number(r.baseline()));
        stdout.flush();
        return 0;
    }
}
