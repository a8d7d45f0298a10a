package jlstm.train;

import java.util.SplittableRandom;

import jlstm.Tensor;

/**
 * A linear layer on the LSTM's output, as {@code torch.nn.Linear(F, O)}: out = y · Wᵀ + b, with
 * weight W [O, F] and bias b [O] (checkpoint names {@code head.weight}, {@code head.bias}).
 *
 * <p>In {@link Mode#LAST_STEP} mode it reads only the last time step, y[T−1] → [B, O] (sequence
 * regression or classification); in {@link Mode#EVERY_STEP} mode every step, y → [T, B, O].
 * For a bidirectional LSTM the last step holds the reverse direction's state after one step
 * only, exactly as {@code y[-1]} in PyTorch.
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
    private Tensor lastInput;    // rows the last forward read: [R, F], R = B or T·B
    private int[] lastYShape;    // shape of the y of the last forward

    /** A head with the given tensors (kept, not copied): weight [O, F], bias [O]. */
    public LinearHead(Tensor weight, Tensor bias, Mode mode) {
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

    /** W [O, F]; its data is live (optimizers update it in place). */
    public Tensor weight() {
        return weight;
    }

    /** b [O]; live. */
    public Tensor bias() {
        return bias;
    }

    public Mode mode() {
        return mode;
    }

    public int features() {
        return weight.dim(1);
    }

    public int outputs() {
        return weight.dim(0);
    }

    /**
     * Applies the head and remembers its input for {@link #backward} (training: one thread at a time).
     *
     * @param y the LSTM's output, time-major [T, B, F]
     * @return [B, O] in last-step mode, [T, B, O] in every-step mode
     */
    public Tensor forward(Tensor y) {
        Tensor rows = rowsRead(y);
        lastInput = rows;
        lastYShape = y.shape();
        return affine(rows, y);
    }

    /**
     * Applies the head without remembering anything: inference, safe from many threads at once
     * (as long as no optimizer changes the weights meanwhile).
     *
     * @param y the LSTM's output, time-major [T, B, F]
     * @return [B, O] in last-step mode, [T, B, O] in every-step mode
     */
    public Tensor apply(Tensor y) {
        return affine(rowsRead(y), y);
    }

    /** The rows of y the head reads: [B, F] (last step) or [T·B, F]. */
    private Tensor rowsRead(Tensor y) {
        if (y.rank() != 3 || y.dim(2) != features()) {
            throw new IllegalArgumentException("head: LSTM output has shape " + y.shapeString() + ", expected [T, B, "
                    + features() + "]");
        }
        int steps = y.dim(0), batch = y.dim(1), f = features();
        if (mode == Mode.LAST_STEP) {
            float[] rows = new float[batch * f];
            System.arraycopy(y.data(), (steps - 1) * batch * f, rows, 0, rows.length);
            return Tensor.of(rows, batch, f);
        }
        return y.reshape(steps * batch, f);
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
     */
    public Gradients backward(Tensor dOut) {
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
        // d loss / d y: zeros except where the head read (only y[T−1] in last-step mode).
        Tensor dy = Tensor.zeros(lastYShape);
        System.arraycopy(dRows, 0, dy.data(), dy.numel() - dRows.length, dRows.length);
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
