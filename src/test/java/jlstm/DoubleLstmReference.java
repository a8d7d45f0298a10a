package jlstm;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tiny double-precision LSTM kept in the tests, written straight from the equations of
 * ARCHITECTURE.md ("The math") with plain loops and no shared code with the engines: the
 * yardstick for finite-difference gradient checks, and for the float32 engines' gradients.
 *
 * <p>All arrays are time-major and row-major: x [T, B, I], y [T, B, D·H], h0/c0/hn/cn
 * [L·D, B, H] with index k·D + d. Parameters use PyTorch names and shapes (see
 * {@link LstmConfig#parameterShape}). Gate order i, f, g, o.
 */
final class DoubleLstmReference {
    private final LstmConfig config;
    private final Map<String, double[]> parameters;
    private final int hidden;
    private final int dirs;

    /** @param parameters name → values, each with the shape {@code config.parameterShape(name)} (not copied) */
    DoubleLstmReference(LstmConfig config, Map<String, double[]> parameters) {
        this.config = config;
        this.parameters = parameters;
        this.hidden = config.hiddenSize();
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
        final double[] y;          // [T, B, D·H]
        final double[] hn;         // [L·D, B, H]
        final double[] cn;         // [L·D, B, H]
        final double[] h0;         // [L·D, B, H] (zeros when not given)
        final double[] c0;         // [L·D, B, H]
        final double[][] inputs;   // [k] → layer k's input [T, B, I_k]
        final double[][] outputs;  // [k] → layer k's output [T, B, D·H]
        final double[][][] gates;  // [k][d] → activated gates [T, B, 4H]: i, f, g, o
        final double[][][] cells;  // [k][d] → c_t [T, B, H]

        Pass(LstmConfig config, int steps, int batch) {
            this.steps = steps;
            this.batch = batch;
            int layers = config.numLayers(), dirs = config.directions(), h = config.hiddenSize();
            int state = layers * dirs * batch * h;
            y = new double[steps * batch * dirs * h];
            hn = new double[state];
            cn = new double[state];
            h0 = new double[state];
            c0 = new double[state];
            inputs = new double[layers][];
            outputs = new double[layers][steps * batch * dirs * h];
            gates = new double[layers][dirs][steps * batch * 4 * h];
            cells = new double[layers][dirs][steps * batch * h];
        }
    }

    /** Gradients of a loss with respect to x, h0, c0 and every parameter (PyTorch names). */
    record Gradients(double[] dx, double[] dh0, double[] dc0, Map<String, double[]> parameters) {
    }

    /**
     * Runs every layer and direction.
     *
     * @param x  [T, B, I]
     * @param h0 [L·D, B, H] or null for zeros
     * @param c0 [L·D, B, H] or null for zeros
     */
    Pass forward(int steps, int batch, double[] x, double[] h0, double[] c0) {
        Pass p = new Pass(config, steps, batch);
        if (h0 != null) {
            System.arraycopy(h0, 0, p.h0, 0, p.h0.length);
        }
        if (c0 != null) {
            System.arraycopy(c0, 0, p.c0, 0, p.c0.length);
        }
        int width = dirs * hidden;
        for (int k = 0; k < config.numLayers(); k++) {
            p.inputs[k] = k == 0 ? x.clone() : p.outputs[k - 1];
            int in = config.layerInputSize(k);
            for (int d = 0; d < dirs; d++) {
                String s = LstmConfig.suffix(k, d);
                double[] wIh = parameters.get("weight_ih_" + s), wHh = parameters.get("weight_hh_" + s);
                double[] bIh = config.bias() ? parameters.get("bias_ih_" + s) : null;
                double[] bHh = config.bias() ? parameters.get("bias_hh_" + s) : null;
                int slot = (k * dirs + d) * batch * hidden;
                for (int n = 0; n < steps; n++) {
                    int t = d == 0 ? n : steps - 1 - n;       // the reverse direction walks time backwards
                    int prev = d == 0 ? t - 1 : t + 1;
                    for (int b = 0; b < batch; b++) {
                        double[] g = new double[4 * hidden];
                        for (int j = 0; j < 4 * hidden; j++) {
                            double sum = config.bias() ? bIh[j] + bHh[j] : 0;
                            for (int i = 0; i < in; i++) {
                                sum += p.inputs[k][(t * batch + b) * in + i] * wIh[j * in + i];
                            }
                            for (int m = 0; m < hidden; m++) {
                                sum += previousH(p, k, d, n, prev, b, m) * wHh[j * hidden + m];
                            }
                            g[j] = sum;
                        }
                        for (int m = 0; m < hidden; m++) {
                            double ig = sigmoid(g[m]);
                            double fg = sigmoid(g[hidden + m]);
                            double gg = Math.tanh(g[2 * hidden + m]);
                            double og = sigmoid(g[3 * hidden + m]);
                            double cPrev = n == 0 ? p.c0[slot + b * hidden + m]
                                    : p.cells[k][d][(prev * batch + b) * hidden + m];
                            double c = fg * cPrev + ig * gg;
                            double h = og * Math.tanh(c);
                            int gi = (t * batch + b) * 4 * hidden;
                            p.gates[k][d][gi + m] = ig;
                            p.gates[k][d][gi + hidden + m] = fg;
                            p.gates[k][d][gi + 2 * hidden + m] = gg;
                            p.gates[k][d][gi + 3 * hidden + m] = og;
                            p.cells[k][d][(t * batch + b) * hidden + m] = c;
                            p.outputs[k][(t * batch + b) * width + d * hidden + m] = h;
                        }
                    }
                }
                int last = d == 0 ? steps - 1 : 0;
                for (int b = 0; b < batch; b++) {
                    for (int m = 0; m < hidden; m++) {
                        p.hn[slot + b * hidden + m] = p.outputs[k][(last * batch + b) * width + d * hidden + m];
                        p.cn[slot + b * hidden + m] = p.cells[k][d][(last * batch + b) * hidden + m];
                    }
                }
            }
        }
        System.arraycopy(p.outputs[config.numLayers() - 1], 0, p.y, 0, p.y.length);
        return p;
    }

    /** h_{t-1} of layer k, direction d, at the n-th step it processes (h0 at n = 0). */
    private double previousH(Pass p, int k, int d, int n, int prev, int b, int m) {
        if (n == 0) {
            return p.h0[((k * dirs + d) * p.batch + b) * hidden + m];
        }
        return p.outputs[k][(prev * p.batch + b) * dirs * hidden + d * hidden + m];
    }

    /**
     * Back-propagation through time of the loss Σ y·dy + Σ hn·dhn + Σ cn·dcn.
     *
     * @param dy  [T, B, D·H]
     * @param dhn [L·D, B, H] or null for zeros
     * @param dcn [L·D, B, H] or null for zeros
     */
    Gradients backward(Pass p, double[] dy, double[] dhn, double[] dcn) {
        int steps = p.steps, batch = p.batch, width = dirs * hidden, gates4 = 4 * hidden;
        Map<String, double[]> grads = new LinkedHashMap<>();
        for (String name : config.parameterNames()) {
            grads.put(name, new double[parameters.get(name).length]);
        }
        double[] dh0 = new double[p.h0.length];
        double[] dc0 = new double[p.c0.length];
        double[] dOut = dy.clone();
        double[] dIn = null;
        for (int k = config.numLayers() - 1; k >= 0; k--) {
            int in = config.layerInputSize(k);
            dIn = new double[steps * batch * in];
            for (int d = 0; d < dirs; d++) {
                String s = LstmConfig.suffix(k, d);
                double[] wIh = parameters.get("weight_ih_" + s), wHh = parameters.get("weight_hh_" + s);
                double[] gWih = grads.get("weight_ih_" + s), gWhh = grads.get("weight_hh_" + s);
                int slot = (k * dirs + d) * batch * hidden;
                double[] dhNext = new double[batch * hidden];
                double[] dcNext = new double[batch * hidden];
                for (int i = 0; i < dhNext.length; i++) {
                    dhNext[i] = dhn == null ? 0 : dhn[slot + i];
                    dcNext[i] = dcn == null ? 0 : dcn[slot + i];
                }
                for (int n = steps - 1; n >= 0; n--) {
                    int t = d == 0 ? n : steps - 1 - n;
                    int prev = d == 0 ? t - 1 : t + 1;
                    double[] dG = new double[batch * gates4];
                    for (int b = 0; b < batch; b++) {
                        int gi = (t * batch + b) * gates4;
                        for (int m = 0; m < hidden; m++) {
                            double ig = p.gates[k][d][gi + m];
                            double fg = p.gates[k][d][gi + hidden + m];
                            double gg = p.gates[k][d][gi + 2 * hidden + m];
                            double og = p.gates[k][d][gi + 3 * hidden + m];
                            double c = p.cells[k][d][(t * batch + b) * hidden + m];
                            double cPrev = n == 0 ? p.c0[slot + b * hidden + m]
                                    : p.cells[k][d][(prev * batch + b) * hidden + m];
                            double tc = Math.tanh(c);
                            double dh = dOut[(t * batch + b) * width + d * hidden + m] + dhNext[b * hidden + m];
                            double dc = dcNext[b * hidden + m] + dh * og * (1 - tc * tc);
                            dG[b * gates4 + m] = dc * gg * ig * (1 - ig);
                            dG[b * gates4 + hidden + m] = dc * cPrev * fg * (1 - fg);
                            dG[b * gates4 + 2 * hidden + m] = dc * ig * (1 - gg * gg);
                            dG[b * gates4 + 3 * hidden + m] = dh * tc * og * (1 - og);
                            dcNext[b * hidden + m] = dc * fg;
                        }
                    }
                    for (int b = 0; b < batch; b++) {
                        for (int m = 0; m < hidden; m++) {
                            double sum = 0;
                            for (int j = 0; j < gates4; j++) {
                                sum += dG[b * gates4 + j] * wHh[j * hidden + m];
                            }
                            dhNext[b * hidden + m] = sum;
                        }
                        for (int i = 0; i < in; i++) {
                            double sum = 0;
                            for (int j = 0; j < gates4; j++) {
                                sum += dG[b * gates4 + j] * wIh[j * in + i];
                            }
                            dIn[(t * batch + b) * in + i] += sum;
                        }
                        for (int j = 0; j < gates4; j++) {
                            double dg = dG[b * gates4 + j];
                            for (int i = 0; i < in; i++) {
                                gWih[j * in + i] += dg * p.inputs[k][(t * batch + b) * in + i];
                            }
                            for (int m = 0; m < hidden; m++) {
                                gWhh[j * hidden + m] += dg * previousH(p, k, d, n, prev, b, m);
                            }
                            if (config.bias()) {
                                grads.get("bias_ih_" + s)[j] += dg;
                                grads.get("bias_hh_" + s)[j] += dg;
                            }
                        }
                    }
                }
                System.arraycopy(dhNext, 0, dh0, slot, dhNext.length);
                System.arraycopy(dcNext, 0, dc0, slot, dcNext.length);
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
