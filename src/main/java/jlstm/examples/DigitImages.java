package jlstm.examples;

import java.util.Locale;

import jlstm.train.SequenceDataset;

/**
 * Images of handwritten digits as sequences for an {@code LstmCell} stepped over their rows: the
 * data of the cell tasks of {@code train} ({@link HandwrittenDigits} for {@code digits},
 * {@link MnistDigits} for {@code mnist}). Inputs are [N, rows, pixels] with pixels in [0, 1],
 * targets [N, 1] the digit 0–9.
 */
public interface DigitImages {
    /** Digits 0–9. */
    int CLASSES = 10;

    /** The task's name in {@link Tasks}: {@code digits} or {@code mnist}. */
    String name();

    /** What the images are, with their source and licence, e.g. {@code 8x8 handwritten digits (UCI, CC BY 4.0)}. */
    String source();

    /** One line on the data, its source and licence, and the split (printed by {@code train}). */
    default String description() {
        return String.format(Locale.ROOT, "%s, each image read row by row (T=%d steps of %d pixels) by an LstmCell"
                + " loop; %d training and %d held-out images (the last %d of the file), loss cross-entropy",
                source(), rows(), pixels(), training().size(), heldOut().size(), heldOut().size());
    }

    /** Rows of an image: the sequence length T, the steps of the cell. */
    int rows();

    /** Pixels of a row: the cell's input size I. */
    int pixels();

    /** The training images. */
    SequenceDataset training();

    /** The held-out images, scored once training is done (and after each epoch, for the curve). */
    SequenceDataset heldOut();

    /**
     * The standard deviation of the Gaussian noise that the task's recipe adds to every training
     * pixel in every epoch (a regulariser; 0 for none).
     */
    double inputNoise();
}
