package jlstm.examples;

import jlstm.train.SequenceDataset;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import jlstm.Tensor;

/**
 * 1,797 handwritten digits of 8×8 pixels, the test set of the UCI "Optical Recognition of
 * Handwritten Digits" data (E. Alpaydin, C. Kaynak, 1998; UCI Machine Learning Repository,
 * CC BY 4.0), as scikit-learn ships it; bundled as {@code /jlstm/data/digits.csv.gz}, one image a
 * line: 64 pixel values 0–16, row by row, then the label 0–9. A small offline stand-in for MNIST.
 *
 * <p>As sequences: each image is 8 steps (its rows) of 8 inputs (a row's pixels, divided by 16).
 * The last {@value #HELD_OUT} images of the file are held out; the others are for training.
 */
public final class HandwrittenDigits implements DigitImages {
    /** Classpath location of the data. */
    public static final String RESOURCE = "/jlstm/data/digits.csv.gz";
    /** Images held out for the final score: the last ones of the file. */
    public static final int HELD_OUT = 400;
    /** Rows of an image: the sequence length T. */
    public static final int ROWS = 8;
    /** Pixels of a row: the input size I. */
    public static final int PIXELS = 8;
    /** The standard deviation of the noise of the task's recipe, chosen on a validation split (docs/EXAMPLES.md). */
    public static final double INPUT_NOISE = 0.3;

    private final SequenceDataset training;
    private final SequenceDataset heldOut;

    private HandwrittenDigits(SequenceDataset training, SequenceDataset heldOut) {
        this.training = training;
        this.heldOut = heldOut;
    }

    /**
     * Reads the bundled file and splits it.
     *
     * @return the training and held-out images
     * @throws java.io.UncheckedIOException if the resource cannot be read
     * @throws IllegalStateException        if the resource is missing or malformed
     */
    public static HandwrittenDigits load() {
        List<float[]> images = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        try (InputStream raw = HandwrittenDigits.class.getResourceAsStream(RESOURCE)) {
            if (raw == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the classpath");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw),
                    StandardCharsets.UTF_8));
            String line;
            int lineNumber = 0;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.split(",");
                if (parts.length != ROWS * PIXELS + 1) {
                    throw new IllegalStateException(RESOURCE + " line " + lineNumber + ": expected 65 values, found "
                            + parts.length);
                }
                float[] image = new float[ROWS * PIXELS];
                for (int p = 0; p < image.length; p++) {
                    image[p] = value(parts[p], 0, 16, lineNumber) / 16f; // pixels 0–16 → [0, 1]
                }
                images.add(image);
                labels.add((int) value(parts[ROWS * PIXELS], 0, CLASSES - 1, lineNumber));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        if (images.size() <= HELD_OUT) {
            throw new IllegalStateException(RESOURCE + ": expected more than " + HELD_OUT + " images, found "
                    + images.size());
        }
        int split = images.size() - HELD_OUT;
        return new HandwrittenDigits(dataset(images, labels, 0, split), dataset(images, labels, split, images.size()));
    }

    private static float value(String text, int min, int max, int lineNumber) {
        try {
            int v = Integer.parseInt(text.trim());
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalStateException(RESOURCE + " line " + lineNumber + ": '" + text + "' is not a whole number in ["
                + min + ", " + max + "]");
    }

    /** Images [from, to) as sequences: inputs [N, 8 rows, 8 pixels], targets [N, 1] (the label). */
    private static SequenceDataset dataset(List<float[]> images, List<Integer> labels, int from, int to) {
        int n = to - from;
        float[] x = new float[n * ROWS * PIXELS];
        float[] y = new float[n];
        for (int s = 0; s < n; s++) {
            System.arraycopy(images.get(from + s), 0, x, s * ROWS * PIXELS, ROWS * PIXELS);
            y[s] = labels.get(from + s);
        }
        return new SequenceDataset(Tensor.of(x, n, ROWS, PIXELS), Tensor.of(y, n, 1));
    }

    /** {@code digits}. */
    @Override
    public String name() {
        return "digits";
    }

    @Override
    public String source() {
        return "8x8 handwritten digits (UCI, CC BY 4.0)";
    }

    /** {@value #ROWS}. */
    @Override
    public int rows() {
        return ROWS;
    }

    /** {@value #PIXELS}. */
    @Override
    public int pixels() {
        return PIXELS;
    }

    /** {@value #INPUT_NOISE}: without noise the cell memorises the 1,397 training images. */
    @Override
    public double inputNoise() {
        return INPUT_NOISE;
    }

    /** The training images (all but the last {@value #HELD_OUT}). */
    @Override
    public SequenceDataset training() {
        return training;
    }

    /** The held-out images (the last {@value #HELD_OUT} of the file). */
    @Override
    public SequenceDataset heldOut() {
        return heldOut;
    }
}
