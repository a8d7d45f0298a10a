package jlstm.internal.cpu;

import java.util.Arrays;

/**
 * The products of one {@code LstmCell} step on the CPU, on the arrays of rows that {@link Gemm}'s
 * fast products need ({@link Gemm#nnRows}, {@link Gemm#tnRows}), over an immutable snapshot of the
 * cell's W_ih [4H, I] and W_hh [4H, H].
 *
 * <p>The two weights are kept side by side, W = [W_ih | W_hh] [4H, I + H], in two layouts made
 * once per change of the weights: W itself (one row per gate unit, for the backward's
 * d[x | h] = dG · W) and Wᵀ [I + H, 4H] (for the forward's G += [x | h] · Wᵀ). The step's inputs
 * side by side, [x_t | h_{t-1}] [B, I + H], make each product one call; without h_{t-1} (zeros)
 * the products stop after the first I columns.
 *
 * <p>Threads: an instance is never changed after its constructor (final fields; the arrays are
 * written only there), so it may be shared by any number of threads and steps; every method
 * writes only into the arrays it is given, and allocates its own scratch.
 */
public final class CellWeights {
    /** Rows of dW updated per pass of {@link #addWeightGradients}: the scratch those rows are copied into. */
    private static final int GRADIENT_ROWS = 32;
    /** Side of the tiles of the transpose. */
    private static final int TILE = 16;

    private final int inputSize;
    private final int hiddenSize;
    /** [4H][I + H]: row n is W_ih row n, then W_hh row n (copies). */
    private final float[][] byUnit;
    /** [I + H][4H]: the transpose of {@link #byUnit}. */
    private final float[][] transposed;

    /**
     * A snapshot of the weights (copied).
     *
     * @param inputSize  I ≥ 1
     * @param hiddenSize H ≥ 1
     * @param weightIh   W_ih [4H, I], row-major (read only)
     * @param weightHh   W_hh [4H, H], row-major (read only)
     */
    public CellWeights(int inputSize, int hiddenSize, float[] weightIh, float[] weightHh) {
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        int gates = 4 * hiddenSize, width = inputSize + hiddenSize;
        byUnit = new float[gates][width];
        for (int n = 0; n < gates; n++) {
            System.arraycopy(weightIh, n * inputSize, byUnit[n], 0, inputSize);
            System.arraycopy(weightHh, n * hiddenSize, byUnit[n], inputSize, hiddenSize);
        }
        transposed = new float[width][gates];
        for (int n0 = 0; n0 < gates; n0 += TILE) {
            for (int k0 = 0; k0 < width; k0 += TILE) {
                for (int n = n0; n < Math.min(gates, n0 + TILE); n++) {
                    float[] row = byUnit[n];
                    for (int k = k0; k < Math.min(width, k0 + TILE); k++) {
                        transposed[k][n] = row[k];
                    }
                }
            }
        }
    }

    /**
     * Whether this snapshot holds exactly these weights (bit for bit, as {@link Arrays#equals(float[], float[])}).
     *
     * @param weightIh W_ih [4H, I] (read only)
     * @param weightHh W_hh [4H, H] (read only)
     * @return true if every value is the same
     */
    public boolean holds(float[] weightIh, float[] weightHh) {
        int in = inputSize, hidden = hiddenSize;
        for (int n = 0; n < byUnit.length; n++) {
            float[] row = byUnit[n];
            if (!Arrays.equals(row, 0, in, weightIh, n * in, (n + 1) * in)
                    || !Arrays.equals(row, in, in + hidden, weightHh, n * hidden, (n + 1) * hidden)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The step's inputs side by side.
     *
     * @param batch B ≥ 1
     * @param x     x_t [B, I], row-major (read only)
     * @param h     h_{t-1} [B, H], row-major (read only), or null for zeros
     * @return [B][I + H]: row b is x_t row b, then h_{t-1} row b (zeros without h)
     */
    public float[][] inputs(int batch, float[] x, float[] h) {
        float[][] xh = new float[batch][inputSize + hiddenSize];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(x, b * inputSize, xh[b], 0, inputSize);
            if (h != null) {
                System.arraycopy(h, b * hiddenSize, xh[b], inputSize, hiddenSize);
            }
        }
        return xh;
    }

    /**
     * G += [x_t | h_{t-1}] · Wᵀ = x_t · W_ihᵀ + h_{t-1} · W_hhᵀ.
     *
     * @param batch   B ≥ 1
     * @param xh      [B][I + H], from {@link #inputs} (read only)
     * @param withH   false when h_{t-1} is zeros (only x_t's I columns are read)
     * @param g       G [B, 4H], row-major (the biases, say); added to
     */
    public void addGates(int batch, float[][] xh, boolean withH, float[] g) {
        int gates = 4 * hiddenSize;
        float[][] rows = rows(g, batch, gates);
        int depth = withH ? inputSize + hiddenSize : inputSize;
        Gemm.nnRows(batch, depth, 0, gates, xh, 0, 0, transposed, 0, rows, 0);
        for (int b = 0; b < batch; b++) {
            System.arraycopy(rows[b], 0, g, b * gates, gates);
        }
    }

    /**
     * dx_t += dG · W_ih and dh_{t-1} += dG · W_hh.
     *
     * @param batch B ≥ 1
     * @param dG    gate pre-activation gradients [B][4H] (read only)
     * @param dx    d loss / d x_t [B, I], row-major; added to
     * @param dh    d loss / d h_{t-1} [B, H], row-major; added to
     */
    public void addInputGradients(int batch, float[][] dG, float[] dx, float[] dh) {
        int in = inputSize, hidden = hiddenSize, width = in + hidden;
        float[][] dxh = new float[batch][width];
        Gemm.nnRows(batch, 4 * hidden, 0, width, dG, 0, 0, byUnit, 0, dxh, 0);
        for (int b = 0; b < batch; b++) {
            float[] row = dxh[b];
            for (int j = 0; j < in; j++) {
                dx[b * in + j] += row[j];
            }
            for (int j = 0; j < hidden; j++) {
                dh[b * hidden + j] += row[in + j];
            }
        }
    }

    /**
     * dW_ih += dGᵀ · x_t and, with h, dW_hh += dGᵀ · h_{t-1}. The accumulators are flat arrays
     * (the caller's), so their rows are copied, {@value #GRADIENT_ROWS} at a time, into arrays of
     * rows for the fast product, and back.
     *
     * @param batch B ≥ 1
     * @param dG    gate pre-activation gradients [B][4H] (read only)
     * @param xh    [B][I + H], from {@link #inputs} (read only)
     * @param withH false when h_{t-1} was zeros (dW_hh gets nothing)
     * @param dWih  dW_ih [4H, I], row-major; added to
     * @param dWhh  dW_hh [4H, H], row-major; added to
     */
    public void addWeightGradients(int batch, float[][] dG, float[][] xh, boolean withH, float[] dWih, float[] dWhh) {
        int in = inputSize, hidden = hiddenSize, gates = 4 * hidden;
        int width = withH ? in + hidden : in;
        float[][] rows = new float[GRADIENT_ROWS][width];
        for (int n0 = 0; n0 < gates; n0 += GRADIENT_ROWS) {
            int m = Math.min(GRADIENT_ROWS, gates - n0);
            for (int r = 0; r < m; r++) {
                System.arraycopy(dWih, (n0 + r) * in, rows[r], 0, in);
                if (withH) {
                    System.arraycopy(dWhh, (n0 + r) * hidden, rows[r], in, hidden);
                }
            }
            Gemm.tnRows(m, batch, 0, width, dG, 0, n0, xh, 0, rows, 0);
            for (int r = 0; r < m; r++) {
                System.arraycopy(rows[r], 0, dWih, (n0 + r) * in, in);
                if (withH) {
                    System.arraycopy(rows[r], in, dWhh, (n0 + r) * hidden, hidden);
                }
            }
        }
    }

    /**
     * A flat row-major matrix as an array of rows (copied).
     *
     * @param flat [rows, cols] (read only)
     * @return [rows][cols]
     */
    public static float[][] rows(float[] flat, int rows, int cols) {
        float[][] out = new float[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = Arrays.copyOfRange(flat, r * cols, (r + 1) * cols);
        }
        return out;
    }
}
