package jlstm.internal.cpu;

/**
 * The per-element math of an LSTM cell, shared by the layer engine and {@link jlstm.LstmCell}.
 * The CUDA kernels mirror these functions in {@code cuda/lstm_cell_math.cuh}.
 *
 * <p>Gate rows are [i | f | g | o], each H wide; a batch row of gates is 4H floats.
 */
public final class CellMath {
    private CellMath() {
    }

    /** The logistic function 1 / (1 + e^(−x)), in double (Math.exp is a JIT intrinsic), then rounded. */
    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-(double) x)));
    }

    /**
     * tanh through one exp: (1 − e^(−2|x|)) / (1 + e^(−2|x|)) with the sign of x, in double
     * (Math.tanh is not an intrinsic on JDK 17 and costs several times more). Below |x| = 1e-4 the
     * Taylor term x − x³/3 avoids the cancellation in 1 − e; both are within 1 ulp of float tanh.
     */
    public static float tanh(float x) {
        double magnitude = Math.abs((double) x);
        if (magnitude < 1e-4) {
            return (float) (x - (double) x * x * x / 3.0);
        }
        double e = Math.exp(-2.0 * magnitude);
        return (float) Math.copySign((1.0 - e) / (1.0 + e), x);
    }

    // ------------------------------------------------------------------------------------------
    // Activations over array ranges, for the engine's hot loop. Math.exp is a scalar call that C2
    // cannot vectorise (about 6 ns an element here, 5 per hidden unit and step: as much time as the
    // recurrent product at small sizes). These use only +, −, ×, ÷, min and max, which C2 turns into
    // vector instructions when a loop reads and writes one index (under 1 ns an element):
    //   tanh(y) for |y| ≤ 10/8 by its Padé approximant [7/6],
    //     tanh(y) ≈ y(135135 + 17325y² + 378y⁴ + y⁶) / (135135 + 62370y² + 3150y⁴ + 28y⁶),
    //   then three doublings tanh(2y) = 2t / (1 + t²) give tanh(x) for |x| ≤ 10 (beyond, tanh is
    //   ±1 to within 4e-9); σ(x) = 1/2 + tanh(x/2)/2.
    // Measured against double-precision references over [−40, 40]: tanh within 4e-7 relative;
    // σ within 1.2e-7 absolute (the error is absolute where σ is small), far inside the 1e-4
    // contract. The scalar sigmoid and tanh above stay the exact-rounding versions for LstmCell.
    // ------------------------------------------------------------------------------------------

    /** tanh for any float: clamp to ±10, Padé [7/6] at x/8, three doublings. */
    private static float tanhFast(float x) {
        float y = Math.max(-10f, Math.min(10f, x)) * 0.125f;
        float y2 = y * y;
        float t = y * (135135f + y2 * (17325f + y2 * (378f + y2)))
                / (135135f + y2 * (62370f + y2 * (3150f + 28f * y2)));
        t = 2f * t / (1f + t * t);
        t = 2f * t / (1f + t * t);
        return 2f * t / (1f + t * t);
    }

    /** v[j] = tanh(v[j]) for j in [from, to). */
    static void tanhInPlace(float[] v, int from, int to) {
        for (int j = from; j < to; j++) {
            v[j] = tanhFast(v[j]);
        }
    }

    /** out[j] = tanh(in[j]) for j in [from, to); out must not overlap in at another index. */
    static void tanhInto(float[] in, float[] out, int from, int to) {
        for (int j = from; j < to; j++) {
            out[j] = tanhFast(in[j]);
        }
    }

    /** v[j] = σ(v[j]) for j in [from, to). */
    static void sigmoidInPlace(float[] v, int from, int to) {
        for (int j = from; j < to; j++) {
            v[j] = 0.5f + 0.5f * tanhFast(0.5f * v[j]);
        }
    }

    /**
     * Sets every gate row to b_ih + b_hh (or zeros without bias), ready for products to add into.
     *
     * @param g      [rows, gates], overwritten
     * @param biasIh [gates] or null
     * @param biasHh [gates] or null
     */
    public static void addBiases(float[] g, int rows, int gates, float[] biasIh, float[] biasHh) {
        if (biasIh == null) {
            java.util.Arrays.fill(g, 0, rows * gates, 0f);
            return;
        }
        for (int r = 0; r < rows; r++) {
            int row = r * gates;
            for (int j = 0; j < gates; j++) {
                g[row + j] = biasIh[j] + biasHh[j];
            }
        }
    }

    /**
     * The fused forward cell update of one step for B rows.
     *
     * @param g     in: pre-activations [B, 4H] at gOff; out: activated gates i, f, g, o (same place)
     * @param cPrev c_{t-1}: row b at cPrevOff + b·cPrevLd, H values; null for zeros
     * @param c     c_t out: [B, H] contiguous at cOff (may be the same storage as cPrev, same offset)
     * @param h     h_t out: row b at hOff + b·hLd, H values
     */
    public static void forwardPointwise(int batch, int hidden, float[] g, int gOff, float[] cPrev, int cPrevOff,
                                        int cPrevLd, float[] c, int cOff, float[] h, int hOff, int hLd) {
        int gates = 4 * hidden;
        for (int b = 0; b < batch; b++) {
            int gi = gOff + b * gates, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
            int cp = cPrevOff + b * cPrevLd, co = cOff + b * hidden, ho = hOff + b * hLd;
            for (int j = 0; j < hidden; j++) {
                float i = sigmoid(g[gi + j]);
                float f = sigmoid(g[gf + j]);
                float cand = tanh(g[gg + j]);
                float o = sigmoid(g[go + j]);
                float previous = cPrev == null ? 0f : cPrev[cp + j];
                float cell = f * previous + i * cand;
                g[gi + j] = i;
                g[gf + j] = f;
                g[gg + j] = cand;
                g[go + j] = o;
                c[co + j] = cell;
                h[ho + j] = o * tanh(cell);
            }
        }
    }

    /**
     * The fused forward cell update of one step for B rows and the hidden units [from, to), on
     * row-stored arrays (the engine's layout; the units split the work across threads). The gates
     * of these units sit in one block at gateBase: i, f, g, o each n = to − from wide, so gate q of
     * unit j is at gateBase + q·n + (j − from); with from = 0, to = H, gateBase = 0 that is
     * PyTorch's [i | f | g | o].
     *
     * @param g     rows g0 … g0+B-1 of [·, 4H]: in pre-activations, out activated gates (same place)
     * @param cPrev c_{t-1}: rows cPrev0 … of [·, H]
     * @param c     c_t out: rows c0 … of [·, H]
     * @param h     h_t out: rows h0 … of [·, H]
     * @param scratch [≥ to] work row (tanh(c_t) of these units)
     */
    static void forwardPointwiseRows(int batch, int from, int to, int gateBase, float[][] g, int g0,
                                     float[][] cPrev, int cPrev0, float[][] c, int c0, float[][] h, int h0,
                                     float[] scratch) {
        int n = to - from;
        int gi = gateBase - from, gf = gi + n, gg = gf + n, go = gg + n; // gate q of unit j at gq + j
        for (int b = 0; b < batch; b++) {
            float[] gates = g[g0 + b], previousRow = cPrev[cPrev0 + b], cellRow = c[c0 + b], hRow = h[h0 + b];
            // The activations in place, one vectorised pass per contiguous block: [i f], [g], [o].
            sigmoidInPlace(gates, gateBase, gateBase + 2 * n);
            tanhInPlace(gates, gateBase + 2 * n, gateBase + 3 * n);
            sigmoidInPlace(gates, gateBase + 3 * n, gateBase + 4 * n);
            for (int j = from; j < to; j++) {
                cellRow[j] = gates[gf + j] * previousRow[j] + gates[gi + j] * gates[gg + j];
            }
            tanhInto(cellRow, scratch, from, to);
            for (int j = from; j < to; j++) {
                hRow[j] = gates[go + j] * scratch[j];
            }
        }
    }

    /**
     * The fused backward cell update of one step for B rows and the hidden units [from, to), on
     * row-stored arrays; gates and dG use the block layout of {@link #forwardPointwiseRows}.
     *
     * @param gates  activated gates, rows g0 … of [·, 4H]
     * @param c      c_t, rows c0 … of [·, H]
     * @param cPrev  c_{t-1}, rows cPrev0 … of [·, H]
     * @param dy     gradient from above, rows dy0 … of [·, ≥ dyCol0 + H]; this direction's H values from dyCol0
     * @param dhNext in: dh carried from step t+1, rows carry0 … of [B][H]; read only
     * @param dcNext in: dc carried from step t+1, rows carry0 … of [B][H]; out: dc for the step before (dc ⊙ f)
     * @param dG     out: gate pre-activation gradients, rows dG0 … of [·, 4H]
     * @param scratch [≥ to] work row (tanh(c_t) of these units)
     */
    static void backwardPointwiseRows(int batch, int from, int to, int gateBase, float[][] gates, int g0,
                                      float[][] c, int c0, float[][] cPrev, int cPrev0, float[][] dy, int dy0,
                                      int dyCol0, float[][] dhNext, float[][] dcNext, int carry0, float[][] dG,
                                      int dG0, float[] scratch) {
        int n = to - from;
        int gi = gateBase - from, gf = gi + n, gg = gf + n, go = gg + n;
        for (int b = 0; b < batch; b++) {
            float[] gateRow = gates[g0 + b], cellRow = c[c0 + b], previousRow = cPrev[cPrev0 + b];
            float[] dyRow = dy[dy0 + b], dhRow = dhNext[carry0 + b], dcRow = dcNext[carry0 + b];
            float[] dGRow = dG[dG0 + b];
            tanhInto(cellRow, scratch, from, to);
            for (int j = from; j < to; j++) {
                float i = gateRow[gi + j], f = gateRow[gf + j], cand = gateRow[gg + j], o = gateRow[go + j];
                float tc = scratch[j];
                float dh = dyRow[dyCol0 + j] + dhRow[j];
                float dc = dcRow[j] + dh * o * (1f - tc * tc);
                dGRow[gi + j] = dc * cand * i * (1f - i);
                dGRow[gf + j] = dc * previousRow[j] * f * (1f - f);
                dGRow[gg + j] = dc * i * (1f - cand * cand);
                dGRow[go + j] = dh * tc * o * (1f - o);
                dcRow[j] = dc * f;
            }
        }
    }

    /**
     * The fused backward cell update of one step for B rows.
     *
     * @param gates   activated gates i, f, g, o of this step [B, 4H] at gatesOff
     * @param c       c_t [B, H] contiguous at cOff
     * @param cPrev   c_{t-1}: row b at cPrevOff + b·H; null for zeros
     * @param dy      gradient from above: row b at dyOff + b·dyLd, H values
     * @param dhNext  in: dh carried from step t+1 [B, H]; read only
     * @param dcNext  in: dc carried from step t+1 [B, H]; out: dc for step t-1 (dc ⊙ f)
     * @param dG      out: gate pre-activation gradients [B, 4H] at dGOff
     */
    public static void backwardPointwise(int batch, int hidden, float[] gates, int gatesOff, float[] c, int cOff,
                                         float[] cPrev, int cPrevOff, float[] dy, int dyOff, int dyLd,
                                         float[] dhNext, float[] dcNext, float[] dG, int dGOff) {
        int width = 4 * hidden;
        for (int b = 0; b < batch; b++) {
            int gi = gatesOff + b * width, gf = gi + hidden, gg = gf + hidden, go = gg + hidden;
            int di = dGOff + b * width, df = di + hidden, dg = df + hidden, dout = dg + hidden;
            int s = b * hidden;
            for (int j = 0; j < hidden; j++) {
                float i = gates[gi + j], f = gates[gf + j], cand = gates[gg + j], o = gates[go + j];
                float cell = c[cOff + s + j];
                float tc = tanh(cell);
                float previous = cPrev == null ? 0f : cPrev[cPrevOff + s + j];
                float dh = dy[dyOff + b * dyLd + j] + dhNext[s + j];
                float dc = dcNext[s + j] + dh * o * (1f - tc * tc);
                dG[di + j] = dc * cand * i * (1f - i);
                dG[df + j] = dc * previous * f * (1f - f);
                dG[dg + j] = dc * i * (1f - cand * cand);
                dG[dout + j] = dh * tc * o * (1f - o);
                dcNext[s + j] = dc * f;
            }
        }
    }
}
