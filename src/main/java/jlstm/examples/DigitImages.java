package jlstm.examples;

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

    /** One line on the data, its source and licence, and the split (printed by {@code train}). */
    String description();

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
