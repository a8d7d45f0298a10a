package jlstm.train;

import java.util.SplittableRandom;

import jlstm.LstmConfig;
import jlstm.LstmOutput;
import jlstm.Tensor;

import org.jspecify.annotations.Nullable;

/**
 * A linear layer on the LSTM's output, as {@code torch.nn.Linear(F, O)}: out = y · Wᵀ + b, with
 * weight W [O, F] and bias b [O] (checkpoint names {@code head.weight}, {@code head.bias}).
 *
 * <p>In {@link Mode#LAST_STEP} mode it reads only the last time step, y[T−1] → [B, O] (sequence
 * regression or classification); in {@link Mode#EVERY_STEP} mode every step, y → [T, B, O].
 * For a bidirectional LSTM the last step holds the reverse direction's state after one step
 * only, exactly as {@code y[-1]} in PyTorch. With lengths, the last-step head reads each sequence's
 * own last step, y[len_b − 1, b].
 *
 * <p>y is time-major here. Given an {@link LstmOutput} ({@link #apply(LstmOutput)}), the head
 * checks y against the batch size that hn shows and refuses a batch-first y with the shape it
 * expected; {@link SequenceModel} converts a batch-first LSTM's output itself.
 */
public final class LinearHead {
    /** Checkpoint name of the weight. */
    public static final String WEIGHT = "head.weight";
    /** Checkpoint name of the bias. */
    public static final String BIAS = "head.bias";

    /** Which LSTM output steps the head reads. */
    public enum Mode {
        /** y[T−1] only: one prediction per sequence, [B, O]. */
        LAST_STEP,
        /** Every step: one prediction per step, [T, B, O]. */
        EVERY_STEP
    }

    private final Tensor weight; // [O, F]
    private final Tensor bias;   // [O]
    private final Mode mode;
    private @Nullable Tensor lastInput;    // rows the last forward read: [R, F], R = B or T·B
    private int @Nullable [] lastYShape;    // shape of the y of the last forward
    private int @Nullable [] lastSteps;     // last-step mode: the step read per batch row, [B]

    /**
     * A head with the given tensors, kept, not copied (optimizers update them in place; a view
     * over a slice or a buffer is copied once, here).
     *
     * @param weight W [O, F], O, F ≥ 1
     * @param bias   b [O]
     * @param mode   which steps of y the head reads
     * @throws IllegalArgumentException if the shapes disagree
     * @throws NullPointerException     if an argument is null
     */
    public LinearHead(Tensor weight, Tensor bias, Mode mode) {
        java.util.Objects.requireNonNull(weight, "weight");
        java.util.Objects.requireNonNull(bias, "bias");
        java.util.Objects.requireNonNull(mode, "mode");
        weight = weight.dense();
        bias = bias.dense();
        if (weight.rank() != 2 || bias.rank() != 1 || bias.dim(0) != weight.dim(0) || weight.numel() == 0) {
            throw new IllegalArgumentException("head: expected weight [O, F] and bias [O], got " + weight.shapeString()
                    + " and " + bias.shapeString());
        }
        this.weight = weight;
        this.bias = bias;
        this.mode = mode;
    }

    /**
     * PyTorch's default initialisation of {@code nn.Linear}: weight and bias from U(−1/√F, 1/√F),
     * seeded (not PyTorch's RNG stream).
     *
     * @param features F, the width of the LSTM output read, ≥ 1
     * @param outputs  O, ≥ 1
     * @param mode     which steps the head reads
     * @param seed     seed of the draw
     * @return a new head
     * @throws IllegalArgumentException if a size is below 1
     */
    public static LinearHead initialize(int features, int outputs, Mode mode, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double bound = 1.0 / Math.sqrt(features);
        Tensor w = Tensor.zeros(outputs, features);
        Tensor b = Tensor.zeros(outputs);
        for (float[] a : new float[][] {w.data(), b.data()}) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) random.nextDouble(-bound, bound);
            }
        }
        return new LinearHead(w, b, mode);
    }

    /**
     * A new head for an LSTM's output: F is the LSTM's output width (H, 2·H bidirectional, or the
     * projection size), so it need not be worked out by hand.
     *
     * @param lstm    the config of the LSTM the head reads
     * @param outputs O, ≥ 1
     * @param mode    which steps the head reads
     * @param seed    seed of the draw
     * @return a new head of F = {@link LstmConfig#outputSize()}
     * @throws IllegalArgumentException if {@code outputs} is below 1
     */
    public static LinearHead initialize(LstmConfig lstm, int outputs, Mode mode, long seed) {
        java.util.Objects.requireNonNull(lstm, "lstm");
        return initialize(lstm.outputSize(), outputs, mode, seed);
    }

    /**
     * The weight; its data is live (optimizers update it in place).
     *
     * @return W [O, F]
     */
    public Tensor weight() {
        return weight;
    }

    /**
     * The bias; live.
     *
     * @return b [O]
     */
    public Tensor bias() {
        return bias;
    }

    /**
     * Which steps the head reads.
     *
     * @return the mode
     */
    public Mode mode() {
        return mode;
    }

    /**
     * The width of the LSTM output the head reads.
     *
     * @return F
     */
    public int features() {
        return weight.dim(1);
    }

    /**
     * The width of the head's output.
     *
     * @return O
     */
    public int outputs() {
        return weight.dim(0);
    }

    /**
     * Applies the head and remembers its input for {@link #backward} (training: one thread at a time).
     *
     * @param y the LSTM's output, time-major [T, B, F]
     * @return [B, O] in last-step mode, [T, B, O] in every-step mode
     * @throws IllegalArgumentException if y is not [T, B, F]
     */
    public Tensor forward(Tensor y) {
        return forward(y, null);
    }

    /**
     * As {@link #forward(Tensor)} for sequences of different lengths.
     *
     * @param y       time-major [T, B, F]
     * @param lengths [B], each in [1, T], or null for all T: the last-step head reads y[len_b − 1, b]
     * @return [B, O] in last-step mode, [T, B, O] in every-step mode
     * @throws IllegalArgumentException if y is not [T, B, F] or a length is out of range
     */
    public Tensor forward(Tensor y, int @Nullable [] lengths) {
        y = java.util.Objects.requireNonNull(y, "y").dense();
        int[] steps = stepsRead(y, lengths);
        Tensor rows = rowsRead(y, steps);
        lastInput = rows;
        lastYShape = y.shape();
        lastSteps = steps;
        return affine(rows, y);
    }

    /**
     * Applies the head without remembering anything: inference, safe from many threads at once
     * (as long as no optimizer changes the weights meanwhile).
     *
     * @param y the LSTM's output, time-major [T, B, F]
     * @return [B, O] in last-step mode, [T, B, O] in every-step mode
     * @throws IllegalArgumentException if y is not [T, B, F]
     */
    public Tensor apply(Tensor y) {
        return apply(y, null);
    }

    /**
     * As {@link #apply(Tensor)} for sequences of different lengths.
     *
     * @param y       time-major [T, B, F]
     * @param lengths [B], each in [1, T], or null for all T
     * @return [B, O] in last-step mode, [T, B, O] in every-step mode
     * @throws IllegalArgumentException if y is not [T, B, F] or a length is out of range
     */
    public Tensor apply(Tensor y, int @Nullable [] lengths) {
        y = java.util.Objects.requireNonNull(y, "y").dense();
        return affine(rowsRead(y, stepsRead(y, lengths)), y);
    }

    /**
     * Applies the head to an LSTM's output, checking its layout: y must be time-major [T, B, F]
     * with the B of hn [L·D, B, R]. A batch-first y [B, T, F] is refused with the shape expected
     * (convert it with {@code y.swapFirstTwoAxes()}), except when T = B, where the shapes alone
     * cannot tell.
     *
     * @param out an LSTM's output
     * @return [B, O] in last-step mode, [T, B, O] in every-step mode
     * @throws IllegalArgumentException if y is batch-first or not [T, B, F]
     */
    public Tensor apply(LstmOutput out) {
        java.util.Objects.requireNonNull(out, "out");
        requireTimeMajor(out);
        return apply(out.y());
    }

    private void requireTimeMajor(LstmOutput out) {
        Tensor y = out.y();
        int batch = out.hn().dim(1);
        if (y.rank() == 3 && y.dim(1) != batch) {
            throw new IllegalArgumentException("head: LSTM output y has shape " + y.shapeString() + " but hn shows B = "
                    + batch + "; the head reads time-major y [T, B, F] = [" + (y.dim(0) == batch ? y.dim(1) : "T")
                    + ", " + batch + ", " + features() + "]" + (y.dim(0) == batch
                    ? " (this y is batch-first: pass y.swapFirstTwoAxes(), or use a SequenceModel)" : ""));
        }
    }

    /** Last-step mode: the step read in each batch row (len_b − 1, or T − 1); null in every-step mode. */
    private int @Nullable [] stepsRead(Tensor y, int @Nullable [] lengths) {
        if (y.rank() != 3 || y.dim(2) != features()) {
            throw new IllegalArgumentException("head: LSTM output has shape " + y.shapeString() + ", expected [T, B, "
                    + features() + "]");
        }
        int steps = y.dim(0), batch = y.dim(1);
        if (lengths != null && lengths.length != batch) {
            throw new IllegalArgumentException("head: " + lengths.length + " lengths for a batch of " + batch);
        }
        if (mode != Mode.LAST_STEP) {
            return null;
        }
        int[] read = new int[batch];
        for (int b = 0; b < batch; b++) {
            int length = lengths == null ? steps : lengths[b];
            if (length < 1 || length > steps) {
                throw new IllegalArgumentException("head: lengths[" + b + "] = " + length + ", expected 1 to T = "
                        + steps);
            }
            read[b] = length - 1;
        }
        return read;
    }

    /** The rows of y the head reads: [B, F] (y[steps[b], b] in last-step mode) or [T·B, F]. */
    private Tensor rowsRead(Tensor y, int @Nullable [] steps) {
        int batch = y.dim(1), f = features();
        if (mode == Mode.LAST_STEP) {
            float[] rows = new float[batch * f];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(y.data(), (steps[b] * batch + b) * f, rows, b * f, f);
            }
            return Tensor.of(rows, batch, f);
        }
        return y.reshape(y.dim(0) * batch, f);
    }

    private Tensor affine(Tensor rows, Tensor y) {
        int steps = y.dim(0), batch = y.dim(1);
        float[] out = affine(rows.data(), rows.dim(0));
        return mode == Mode.LAST_STEP ? Tensor.of(out, batch, outputs()) : Tensor.of(out, steps, batch, outputs());
    }

    /** out[r, o] = Σ_f x[r, f]·W[o, f] + b[o] for rows r. x: [rows, F]; returns [rows, O]. */
    private float[] affine(float[] x, int rows) {
        int f = features(), o = outputs();
        float[] w = weight.data(), b = bias.data();
        float[] out = new float[rows * o];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < o; j++) {
                double sum = b[j];
                for (int k = 0; k < f; k++) {
                    sum += (double) x[r * f + k] * w[j * f + k];
                }
                out[r * o + j] = (float) sum;
            }
        }
        return out;
    }

    /**
     * Gradients of the last {@link #forward}.
     *
     * @param dOut d loss / d output: [B, O] or [T, B, O] as forward returned
     * @return the gradients of W, b and y (new tensors)
     * @throws IllegalStateException    if no {@link #forward} came first
     * @throws IllegalArgumentException if dOut's size is not the output's
     */
    public Gradients backward(Tensor dOut) {
        dOut = java.util.Objects.requireNonNull(dOut, "dOut").dense();
        if (lastInput == null) {
            throw new IllegalStateException("head: backward needs a forward first");
        }
        int rows = lastInput.dim(0), f = features(), o = outputs();
        if (dOut.numel() != rows * o) {
            throw new IllegalArgumentException("head: output gradient has shape " + dOut.shapeString() + ", expected "
                    + rows + "×" + o + " elements");
        }
        float[] x = lastInput.data(), g = dOut.data(), w = weight.data();
        float[] dw = new float[o * f];
        float[] db = new float[o];
        float[] dRows = new float[rows * f];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < o; j++) {
                float gj = g[r * o + j];
                db[j] += gj;
                for (int k = 0; k < f; k++) {
                    dw[j * f + k] += gj * x[r * f + k];
                    dRows[r * f + k] += gj * w[j * f + k];
                }
            }
        }
        // d loss / d y: zeros except where the head read (only y[len_b − 1, b] in last-step mode).
        Tensor dy = Tensor.zeros(lastYShape);
        if (lastSteps == null) {
            System.arraycopy(dRows, 0, dy.data(), 0, dRows.length);
        } else {
            int batch = lastYShape[1];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(dRows, b * f, dy.data(), (lastSteps[b] * batch + b) * f, f);
            }
        }
        return new Gradients(Tensor.of(dw, o, f), Tensor.of(db, o), dy);
    }

    /**
     * Gradients of the head.
     *
     * @param weight d loss / d W: [O, F]
     * @param bias   d loss / d b: [O]
     * @param y      d loss / d (LSTM output): [T, B, F], the LSTM's time-major y shape
     */
    public record Gradients(Tensor weight, Tensor bias, Tensor y) {
    }
}
