package jlstm;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tiny double-precision LSTM kept in the tests, written straight from the equations of
 * ARCHITECTURE.md ("The math") with plain loops and no shared code with the engines: the
 * yardstick for finite-difference gradient checks, and for the float32 engines' gradients.
 * It covers PyTorch's extensions too, each the plainest way: per-sequence lengths (each sequence
 * simply runs its own steps, one at a time), projections (h = W_hr · (o ⊙ tanh c)) and dropout
 * masks between layers (the next layer reads mask ⊙ output).
 *
 * <p>All arrays are time-major and row-major: x [T, B, I], y [T, B, D·R], h0/hn [L·D, B, R],
 * c0/cn [L·D, B, H] with index k·D + d (R = P with a projection, else H). Parameters use PyTorch
 * names and shapes (see {@link LstmConfig#parameterShape}). Gate order i, f, g, o.
 */
final class DoubleLstmReference {
    private final LstmConfig config;
    private final Map<String, double[]> parameters;
    private final int hidden;
    private final int real;
    private final int proj;
    private final int dirs;

    /** @param parameters name → values, each with the shape {@code config.parameterShape(name)} (not copied) */
    DoubleLstmReference(LstmConfig config, Map<String, double[]> parameters) {
        this.config = config;
        this.parameters = parameters;
        this.hidden = config.hiddenSize();
        this.real = config.realHiddenSize();
        this.proj = config.projSize();
        this.dirs = config.directions();
        for (String name : config.parameterNames()) {
            double[] p = parameters.get(name);
            if (p == null || p.length != Tensor.numel(config.parameterShape(name))) {
                throw new IllegalArgumentException("parameter " + name + " missing or of the wrong size");
            }
        }
    }

    /** The same numbers as float parameters, widened exactly to double (copied). */
    static DoubleLstmReference of(LstmParameters p) {
        Map<String, double[]> values = new LinkedHashMap<>();
        p.asMap().forEach((name, t) -> values.put(name, TensorAssert.toDoubles(t.data())));
        return new DoubleLstmReference(p.config(), values);
    }

    LstmConfig config() {
        return config;
    }

    /** The live parameter arrays, by PyTorch name (finite differences nudge them in place). */
    Map<String, double[]> parameters() {
        return parameters;
    }

    /** A forward pass and everything backward needs. */
    static final class Pass {
        final int steps;
        final int batch;
        final int[] lengths;       // [B]: steps of each sequence
        final double[][] masks;    // [k] → [T, B, D·R] for k < L−1, or null
        final double[] y;          // [T, B, D·R]
        final double[] hn;         // [L·D, B, R]
        final double[] cn;         // [L·D, B, H]
        final double[] h0;         // [L·D, B, R] (zeros when not given)
        final double[] c0;         // [L·D, B, H]
        final double[][] inputs;   // [k] → layer k's input [T, B, I_k] (masked for k > 0 with dropout)
        final double[][] outputs;  // [k] → layer k's output [T, B, D·R]
        final double[][][] gates;  // [k][d] → activated gates [T, B, 4H]: i, f, g, o
        final double[][][] cells;  // [k][d] → c_t [T, B, H]
        final double[][][] cellOut; // [k][d] → m_t = o ⊙ tanh(c_t) [T, B, H]

        Pass(LstmConfig config, int steps, int batch, int[] lengths, double[][] masks) {
            this.steps = steps;
            this.batch = batch;
            this.lengths = lengths;
            this.masks = masks;
            int layers = config.numLayers(), dirs = config.directions(), h = config.hiddenSize();
            int r = config.realHiddenSize();
            y = new double[steps * batch * dirs * r];
            hn = new double[layers * dirs * batch * r];
            cn = new double[layers * dirs * batch * h];
            h0 = new double[hn.length];
            c0 = new double[cn.length];
            inputs = new double[layers][];
            outputs = new double[layers][steps * batch * dirs * r];
            gates = new double[layers][dirs][steps * batch * 4 * h];
            cells = new double[layers][dirs][steps * batch * h];
            cellOut = new double[layers][dirs][steps * batch * h];
        }

        /** The step processed n-th by direction d of sequence b: forward t = n, reverse t = len − 1 − n. */
        int time(int d, int b, int n) {
            return d == 0 ? n : lengths[b] - 1 - n;
        }
    }

    /** Gradients of a loss with respect to x, h0, c0 and every parameter (PyTorch names). */
    record Gradients(double[] dx, double[] dh0, double[] dc0, Map<String, double[]> parameters) {
    }

    /** Runs every layer and direction over full-length sequences, without dropout. */
    Pass forward(int steps, int batch, double[] x, double[] h0, double[] c0) {
        return forward(steps, batch, x, h0, c0, null, null);
    }

    /**
     * Runs every layer and direction.
     *
     * @param x       [T, B, I]
     * @param h0      [L·D, B, R] or null for zeros
     * @param c0      [L·D, B, H] or null for zeros
     * @param lengths [B] or null for all T: sequence b runs steps [0, lengths[b]) only
     * @param masks   L − 1 arrays [T, B, D·R] multiplying layer k's output before layer k + 1, or null
     */
    Pass forward(int steps, int batch, double[] x, double[] h0, double[] c0, int[] lengths, double[][] masks) {
        int[] len = lengths != null ? lengths : java.util.Collections.nCopies(batch, steps).stream()
                .mapToInt(Integer::intValue).toArray();
        Pass p = new Pass(config, steps, batch, len, masks);
        if (h0 != null) {
            System.arraycopy(h0, 0, p.h0, 0, p.h0.length);
        }
        if (c0 != null) {
            System.arraycopy(c0, 0, p.c0, 0, p.c0.length);
        }
        int width = dirs * real, gates4 = 4 * hidden;
        for (int k = 0; k < config.numLayers(); k++) {
            if (k == 0) {
                p.inputs[k] = x.clone();
            } else {
                p.inputs[k] = p.outputs[k - 1].clone();
                if (masks != null) {
                    for (int i = 0; i < p.inputs[k].length; i++) {
                        p.inputs[k][i] *= masks[k - 1][i];
                    }
                }
            }
            int in = config.layerInputSize(k);
            for (int d = 0; d < dirs; d++) {
                String s = LstmConfig.suffix(k, d);
                double[] wIh = parameters.get("weight_ih_" + s), wHh = parameters.get("weight_hh_" + s);
                double[] wHr = proj > 0 ? parameters.get("weight_hr_" + s) : null;
                double[] bIh = config.bias() ? parameters.get("bias_ih_" + s) : null;
                double[] bHh = config.bias() ? parameters.get("bias_hh_" + s) : null;
                int slot = k * dirs + d;
                for (int b = 0; b < batch; b++) {
                    for (int n = 0; n < len[b]; n++) {
                        int t = p.time(d, b, n);
                        double[] hPrev = previousH(p, k, d, b, n);
                        double[] g = new double[gates4];
                        for (int j = 0; j < gates4; j++) {
                            double sum = config.bias() ? bIh[j] + bHh[j] : 0;
                            for (int i = 0; i < in; i++) {
                                sum += p.inputs[k][(t * batch + b) * in + i] * wIh[j * in + i];
                            }
                            for (int m = 0; m < real; m++) {
                                sum += hPrev[m] * wHh[j * real + m];
                            }
                            g[j] = sum;
                        }
                        int row = t * batch + b;
                        for (int m = 0; m < hidden; m++) {
                            double ig = sigmoid(g[m]);
                            double fg = sigmoid(g[hidden + m]);
                            double gg = Math.tanh(g[2 * hidden + m]);
                            double og = sigmoid(g[3 * hidden + m]);
                            double c = fg * previousC(p, k, d, b, n, m) + ig * gg;
                            p.gates[k][d][row * gates4 + m] = ig;
                            p.gates[k][d][row * gates4 + hidden + m] = fg;
                            p.gates[k][d][row * gates4 + 2 * hidden + m] = gg;
                            p.gates[k][d][row * gates4 + 3 * hidden + m] = og;
                            p.cells[k][d][row * hidden + m] = c;
                            p.cellOut[k][d][row * hidden + m] = og * Math.tanh(c);
                        }
                        for (int r = 0; r < real; r++) {
                            double h = 0;
                            if (proj > 0) {
                                for (int m = 0; m < hidden; m++) {
                                    h += wHr[r * hidden + m] * p.cellOut[k][d][row * hidden + m];
                                }
                            } else {
                                h = p.cellOut[k][d][row * hidden + r];
                            }
                            p.outputs[k][row * width + d * real + r] = h;
                        }
                    }
                    // The final state: the last step this direction processed for this sequence.
                    int last = p.time(d, b, len[b] - 1);
                    for (int r = 0; r < real; r++) {
                        p.hn[(slot * batch + b) * real + r] = p.outputs[k][(last * batch + b) * width + d * real + r];
                    }
                    for (int m = 0; m < hidden; m++) {
                        p.cn[(slot * batch + b) * hidden + m] = p.cells[k][d][(last * batch + b) * hidden + m];
                    }
                }
            }
        }
        System.arraycopy(p.outputs[config.numLayers() - 1], 0, p.y, 0, p.y.length);
        return p;
    }

    /** h_prev [R] of layer k, direction d, sequence b at its n-th processed step (h0 at n = 0). */
    private double[] previousH(Pass p, int k, int d, int b, int n) {
        double[] out = new double[real];
        int width = dirs * real;
        for (int r = 0; r < real; r++) {
            out[r] = n == 0 ? p.h0[((k * dirs + d) * p.batch + b) * real + r]
                    : p.outputs[k][(p.time(d, b, n - 1) * p.batch + b) * width + d * real + r];
        }
        return out;
    }

    /** c_prev of unit m of layer k, direction d, sequence b at its n-th processed step (c0 at n = 0). */
    private double previousC(Pass p, int k, int d, int b, int n, int m) {
        return n == 0 ? p.c0[((k * dirs + d) * p.batch + b) * hidden + m]
                : p.cells[k][d][(p.time(d, b, n - 1) * p.batch + b) * hidden + m];
    }

    /**
     * Back-propagation through time of the loss Σ y·dy + Σ hn·dhn + Σ cn·dcn.
     *
     * @param dy  [T, B, D·R] (entries past a sequence's length do not matter: y is constant zero there)
     * @param dhn [L·D, B, R] or null for zeros
     * @param dcn [L·D, B, H] or null for zeros
     */
    Gradients backward(Pass p, double[] dy, double[] dhn, double[] dcn) {
        int steps = p.steps, batch = p.batch, width = dirs * real, gates4 = 4 * hidden;
        Map<String, double[]> grads = new LinkedHashMap<>();
        for (String name : config.parameterNames()) {
            grads.put(name, new double[parameters.get(name).length]);
        }
        double[] dh0 = new double[p.h0.length];
        double[] dc0 = new double[p.c0.length];
        double[] dOut = dy.clone();
        double[] dIn = null;
        for (int k = config.numLayers() - 1; k >= 0; k--) {
            if (k < config.numLayers() - 1 && p.masks != null) {
                for (int i = 0; i < dOut.length; i++) {
                    dOut[i] *= p.masks[k][i]; // d(output) = mask ⊙ d(masked input of the layer above)
                }
            }
            int in = config.layerInputSize(k);
            dIn = new double[steps * batch * in];
            for (int d = 0; d < dirs; d++) {
                String s = LstmConfig.suffix(k, d);
                double[] wIh = parameters.get("weight_ih_" + s), wHh = parameters.get("weight_hh_" + s);
                double[] wHr = proj > 0 ? parameters.get("weight_hr_" + s) : null;
                double[] gWih = grads.get("weight_ih_" + s), gWhh = grads.get("weight_hh_" + s);
                double[] gWhr = proj > 0 ? grads.get("weight_hr_" + s) : null;
                int slot = k * dirs + d;
                for (int b = 0; b < batch; b++) {
                    double[] dhNext = new double[real];
                    double[] dcNext = new double[hidden];
                    for (int r = 0; r < real; r++) {
                        dhNext[r] = dhn == null ? 0 : dhn[(slot * batch + b) * real + r];
                    }
                    for (int m = 0; m < hidden; m++) {
                        dcNext[m] = dcn == null ? 0 : dcn[(slot * batch + b) * hidden + m];
                    }
                    for (int n = p.lengths[b] - 1; n >= 0; n--) {
                        int t = p.time(d, b, n);
                        int row = t * batch + b;
                        double[] dh = new double[real];
                        for (int r = 0; r < real; r++) {
                            dh[r] = dOut[row * width + d * real + r] + dhNext[r];
                        }
                        double[] dm = new double[hidden]; // d loss / d m_t, m_t = o ⊙ tanh(c_t)
                        for (int m = 0; m < hidden; m++) {
                            if (proj > 0) {
                                for (int r = 0; r < real; r++) {
                                    dm[m] += dh[r] * wHr[r * hidden + m];
                                    gWhr[r * hidden + m] += dh[r] * p.cellOut[k][d][row * hidden + m];
                                }
                            } else {
                                dm[m] = dh[m];
                            }
                        }
                        double[] dG = new double[gates4];
                        for (int m = 0; m < hidden; m++) {
                            int gi = row * gates4;
                            double ig = p.gates[k][d][gi + m];
                            double fg = p.gates[k][d][gi + hidden + m];
                            double gg = p.gates[k][d][gi + 2 * hidden + m];
                            double og = p.gates[k][d][gi + 3 * hidden + m];
                            double tc = Math.tanh(p.cells[k][d][row * hidden + m]);
                            double dc = dcNext[m] + dm[m] * og * (1 - tc * tc);
                            dG[m] = dc * gg * ig * (1 - ig);
                            dG[hidden + m] = dc * previousC(p, k, d, b, n, m) * fg * (1 - fg);
                            dG[2 * hidden + m] = dc * ig * (1 - gg * gg);
                            dG[3 * hidden + m] = dm[m] * tc * og * (1 - og);
                            dcNext[m] = dc * fg;
                        }
                        double[] hPrev = previousH(p, k, d, b, n);
                        for (int r = 0; r < real; r++) {
                            double sum = 0;
                            for (int j = 0; j < gates4; j++) {
                                sum += dG[j] * wHh[j * real + r];
                            }
                            dhNext[r] = sum;
                        }
                        for (int i = 0; i < in; i++) {
                            double sum = 0;
                            for (int j = 0; j < gates4; j++) {
                                sum += dG[j] * wIh[j * in + i];
                            }
                            dIn[row * in + i] += sum;
                        }
                        for (int j = 0; j < gates4; j++) {
                            for (int i = 0; i < in; i++) {
                                gWih[j * in + i] += dG[j] * p.inputs[k][row * in + i];
                            }
                            for (int r = 0; r < real; r++) {
                                gWhh[j * real + r] += dG[j] * hPrev[r];
                            }
                            if (config.bias()) {
                                grads.get("bias_ih_" + s)[j] += dG[j];
                                grads.get("bias_hh_" + s)[j] += dG[j];
                            }
                        }
                    }
                    System.arraycopy(dhNext, 0, dh0, (slot * batch + b) * real, real);
                    System.arraycopy(dcNext, 0, dc0, (slot * batch + b) * hidden, hidden);
                }
            }
            dOut = dIn;
        }
        return new Gradients(dIn, dh0, dc0, grads);
    }

    /** Σ y·dy + Σ hn·dhn + Σ cn·dcn (dhn, dcn may be null). */
    static double loss(Pass p, double[] dy, double[] dhn, double[] dcn) {
        return dot(p.y, dy) + (dhn == null ? 0 : dot(p.hn, dhn)) + (dcn == null ? 0 : dot(p.cn, dcn));
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }
}
