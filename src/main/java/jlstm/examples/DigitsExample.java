package jlstm.examples;

import jlstm.train.Adam;
import jlstm.train.EpochRecord;
import jlstm.train.FitCallback;
import jlstm.train.FitOptions;
import jlstm.train.History;
import jlstm.train.LearningRateSchedule;
import jlstm.train.SequenceDataset;
import jlstm.train.Trainer;

import java.util.ArrayList;
import java.util.List;

import jlstm.Tensor;

import org.jspecify.annotations.Nullable;

/**
 * {@code train --task digits} and {@code --task mnist}: trains a {@link DigitsClassifier} on
 * {@link DigitImages} ({@link HandwrittenDigits} or {@link MnistDigits}) and scores it on the
 * held-out images, beside the majority-class baseline.
 */
public final class DigitsExample {
    private DigitsExample() {
    }

    /**
     * The run's settings.
     *
     * @param epochs     passes over the training images
     * @param hidden     H of the cell
     * @param batch      images per Adam step
     * @param lr         Adam's learning rate
     * @param seed       initialisation, shuffling and noise
     * @param noise      standard deviation of the Gaussian noise added to every training pixel (pixels
     *                   are in [0, 1]): a regulariser, 0 for none
     * @param validation when &gt; 0, the last this many training images are kept out of training and
     *                   scored instead of the held-out ones (for choosing settings without looking at
     *                   the held-out images)
     */
    public record Options(int epochs, int hidden, int batch, double lr, long seed, double noise, int validation) {
        /**
         * The defaults of {@code train --task digits}, chosen on a validation split (docs/TRAINING.md).
         *
         * @return 25 epochs, H = 64, batch 32, lr 0.01, seed 1, noise 0.3, no validation split
         */
        public static Options defaults() {
            return new Options(25, 64, 32, 0.01, 1, HandwrittenDigits.INPUT_NOISE, 0);
        }
    }

    /** Called after each epoch with its number (from 1), mean training loss and score. */
    @FunctionalInterface
    public interface EpochListener {
        /**
         * An epoch is done.
         *
         * @param epoch    from 1
         * @param loss     its mean training loss
         * @param accuracy the fraction of scored images classified right after it
         * @param seconds  its training time
         */
        void epochDone(int epoch, double loss, double accuracy, double seconds);
    }

    /**
     * What a run gave.
     *
     * @param accuracy       the fraction of scored images classified right (held-out, or validation)
     * @param baseline       the same for always answering the training set's most frequent digit
     * @param scored         how many images were scored
     * @param confusion      [actual][predicted] counts over the scored images
     * @param trainLoss      mean training loss per epoch
     * @param accuracyCurve  accuracy per epoch
     * @param seconds        training time
     * @param model          the trained model
     */
    public record Result(double accuracy, double baseline, int scored, int[][] confusion, List<Double> trainLoss,
                         List<Double> accuracyCurve, double seconds, DigitsClassifier model) {
    }

    /**
     * Trains on {@code data}'s training images and scores the held-out ones (or a validation split).
     *
     * @param data     the digit images (training and held out)
     * @param options  the run's settings
     * @param listener told about each epoch, or null
     * @param progress more callbacks for the fit (a progress bar), none for none
     * @return the accuracy, the baseline, the confusion matrix and the curves
     */
    public static Result run(DigitImages data, Options options, @Nullable EpochListener listener, FitCallback... progress) {
        SequenceDataset training = data.training();
        SequenceDataset scored = data.heldOut();
        if (options.validation() > 0) {
            if (options.validation() >= training.size()) {
                throw new IllegalArgumentException("validation: " + options.validation() + " of "
                        + training.size() + " training images leaves none to train on");
            }
            int keep = training.size() - options.validation();
            scored = training.slice(keep, training.size());
            training = training.slice(0, keep);
        }
        SequenceDataset evaluated = scored;
        List<Double> accuracies = new ArrayList<>();
        List<int[][]> confusions = new ArrayList<>();
        long start = System.nanoTime();
        // [example digits-loop]
        DigitsClassifier model = new DigitsClassifier(data.pixels(), options.hidden(), options.lr(), options.seed());
        FitCallback scoring = new FitCallback() {
            @Override
            public void epochDone(EpochRecord epoch) {
                int[][] confusion = confusion(model, evaluated);               // [actual][predicted] counts
                confusions.add(confusion);
                accuracies.add(accuracy(confusion));
                if (listener != null) {
                    listener.epochDone(epoch.epoch(), epoch.trainLoss(), accuracy(confusion), epoch.seconds());
                }
            }
        };
        History history = Trainer.fit(model, training, FitOptions.epochs(options.epochs())
                .batchSize(options.batch())
                .seed(options.seed())
                .schedule(LearningRateSchedule.cosine())   // large steps first, small ones to settle
                .inputNoise(options.noise())               // digits: a fresh N(0, 0.3²) on every pixel each epoch
                .callbacks(scoring)
                .callbacks(progress));
        // [end]
        int[][] confusion = confusions.get(confusions.size() - 1);
        List<Double> losses = history.trainLoss();
        return new Result(accuracy(confusion), majorityBaseline(training, scored), scored.size(), confusion, losses,
                accuracies, (System.nanoTime() - start) / 1e9, model);
    }

    /**
     * The confusion matrix of a model on a dataset.
     *
     * @param model a digits model
     * @param data  images [N, 8, 8] and labels [N] or [N, 1]
     * @return [actual][predicted] counts, 10 × 10
     */
    public static int[][] confusion(DigitsClassifier model, SequenceDataset data) {
        SequenceDataset.Batch all = data.all();
        int[] predicted = model.predict(all.x());
        int[][] counts = new int[DigitImages.CLASSES][DigitImages.CLASSES];
        float[] labels = all.target().data();
        for (int n = 0; n < predicted.length; n++) {
            counts[(int) labels[n]][predicted[n]]++;
        }
        return counts;
    }

    static double accuracy(int[][] confusion) {
        int right = 0, total = 0;
        for (int a = 0; a < confusion.length; a++) {
            for (int p = 0; p < confusion[a].length; p++) {
                total += confusion[a][p];
                right += a == p ? confusion[a][p] : 0;
            }
        }
        return right / (double) total;
    }

    /** Accuracy on {@code scored} of always answering the most frequent digit of {@code training}. */
    static double majorityBaseline(SequenceDataset training, SequenceDataset scored) {
        int[] counts = new int[DigitImages.CLASSES];
        for (float label : training.targets().data()) {
            counts[(int) label]++;
        }
        int majority = 0;
        for (int k = 1; k < counts.length; k++) {
            majority = counts[k] > counts[majority] ? k : majority;
        }
        int hits = 0;
        for (float label : scored.targets().data()) {
            hits += (int) label == majority ? 1 : 0;
        }
        return hits / (double) scored.size();
    }
}
