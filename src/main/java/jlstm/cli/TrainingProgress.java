package jlstm.cli;

import java.util.Locale;

import jlstm.train.EpochRecord;
import jlstm.train.FitCallback;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar per epoch on stderr, when the console is interactive: sequences done, throughput
 * and the epoch's running mean loss (the per-epoch lines on stdout report the rest). Nothing on a
 * redirected console (CI) or with {@code -Djlstm.noProgress=true}.
 */
final class TrainingProgress implements FitCallback {
    private final int lastEpoch;
    private final long sequencesPerEpoch;
    private ProgressBar bar;
    private int epoch;
    private long epochStart;

    private final java.io.PrintStream console;

    /** A bar drawn on {@code console} (stderr; a test's stream). */
    TrainingProgress(int lastEpoch, long sequencesPerEpoch, java.io.PrintStream console) {
        this.lastEpoch = lastEpoch;
        this.sequencesPerEpoch = sequencesPerEpoch;
        this.console = console;
    }

    /**
     * A progress callback for a fit whose last epoch is {@code lastEpoch}, or one that does nothing
     * when the console is not interactive.
     */
    static FitCallback onConsole(int lastEpoch, long sequencesPerEpoch) {
        if (System.console() == null || Boolean.getBoolean("jlstm.noProgress")) {
            return new FitCallback() {
            };
        }
        return new TrainingProgress(lastEpoch, sequencesPerEpoch, System.err);
    }

    @Override
    public void epochStarted(int epoch, double learningRate) {
        this.epoch = epoch;
        epochStart = System.nanoTime();
        bar = new ProgressBarBuilder().setTaskName("epoch " + epoch + "/" + lastEpoch).setInitialMax(sequencesPerEpoch)
                .setUnit(" seq", 1).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(console)).clearDisplayOnFinish().build();
    }

    @Override
    public void batchDone(int sequences, double loss, double meanLoss, int epochSequences) {
        // Our own throughput (the bar's speed shows "?" until its first update interval has passed).
        double seconds = Math.max((System.nanoTime() - epochStart) / 1e9, 1e-9);
        bar.stepTo(epochSequences);
        bar.setExtraMessage(String.format(Locale.ROOT, " %,.0f seq/s, mean loss %.4f", epochSequences / seconds,
                meanLoss));
    }

    /** What the bar shows after its count: throughput and the running mean loss (null outside an epoch). */
    String extraMessage() {
        return bar == null ? null : bar.getExtraMessage();
    }

    @Override
    public void epochDone(EpochRecord record) {
        bar.close();
        bar = null;
    }
}
