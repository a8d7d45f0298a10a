package jlstm.cpu;

import java.util.Arrays;

import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/**
 * The CPU engine: the reference implementation, reading like the equations of the design.
 *
 * <p>Per layer k and direction d (d = 1 walks time backwards):
 * <pre>
 * forward:   G[T·B, 4H] = X_k · W_ihᵀ + b_ih + b_hh               (one product for all steps)
 *            per step:  G_t += h_prev · W_hhᵀ; gates, c_t, h_t       (fused pointwise)
 * backward:  per step:  dG_t from saved gates; dh_next = dG_t · W_hh
 *            then:      dW_ih = dGᵀ · X_k,  dW_hh = Σ_t dG_tᵀ · h_prev,  db = Σ rows of dG,
 *                       dX_k += dG · W_ih
 * </pre>
 * Workspaces are sized on the first call of a shape and reused; no allocation per step.
 */
final class CpuLstmEngine implements LstmEngine {
    private final LstmParameters params;
    private final LstmConfig config;
    private final int layers;
    private final int dirs;
    private final int hidden;

    // Transposed weights, refreshed on every forward so in-place parameter updates are always seen.
    private final float[][][] weightIhT; // [layer][dir] → [I_k, 4H]
    private final float[][][] weightHhT; // [layer][dir] → [H, 4H]

    // Workspace for the current (T, B).
    private int steps;
    private int batch;
    private boolean trained;
    private float[] input;          // copy of x [T, B, I] from the last training forward
    private float[] initialH;       // [L·D, B, H], zeros when h0 was absent
    private float[] initialC;       // [L·D, B, H]
    private float[][] layerOutput;  // [layer] → [T, B, D·H]; the top one is copied to y
    private float[][][] gates;      // [layer][dir] → [T, B, 4H]: pre-activations, then activated gates
    private float[][][] cells;      // [layer][dir] → [T, B, H]: c_t of every step
    private float[] dGates;         // [T, B, 4H] backward scratch
    private float[] dhCarry;        // [B, H]
    private float[] dcCarry;        // [B, H]
    private float[][] layerInputGrad; // [layer] → [T, B, I_k]

    CpuLstmEngine(LstmParameters params) {
        this.params = params;
        this.config = params.config();
        this.layers = config.numLayers();
        this.dirs = config.directions();
        this.hidden = config.hiddenSize();
        int gates4 = 4 * hidden;
        weightIhT = new float[layers][dirs][];
        weightHhT = new float[layers][dirs][];
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                weightIhT[k][d] = new float[config.layerInputSize(k) * gates4];
                weightHhT[k][d] = new float[hidden * gates4];
            }
        }
    }

    @Override
    public String deviceName() {
        return "cpu";
    }

    @Override
    public void parametersUpdated() {
        // Nothing cached across calls: forward re-reads the parameters every time.
    }

    private void refreshTransposedWeights() {
        int gates4 = 4 * hidden;
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                Gemm.transpose(params.weightIh(k, d), gates4, config.layerInputSize(k), weightIhT[k][d]);
                Gemm.transpose(params.weightHh(k, d), gates4, hidden, weightHhT[k][d]);
            }
        }
    }

    private void ensureWorkspace(int t, int b) {
        if (t == steps && b == batch && layerOutput != null) {
            return;
        }
        steps = t;
        batch = b;
        int rows = t * b;
        int state = layers * dirs * b * hidden;
        input = new float[rows * config.inputSize()];
        initialH = new float[state];
        initialC = new float[state];
        layerOutput = new float[layers][rows * dirs * hidden];
        gates = new float[layers][dirs][rows * 4 * hidden];
        cells = new float[layers][dirs][rows * hidden];
        dGates = new float[rows * 4 * hidden];
        dhCarry = new float[b * hidden];
        dcCarry = new float[b * hidden];
        layerInputGrad = new float[layers][];
        for (int k = 1; k < layers; k++) {
            layerInputGrad[k] = new float[rows * config.layerInputSize(k)];
        }
    }

    @Override
    public void forward(int t, int b, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                        boolean training) {
        ensureWorkspace(t, b);
        refreshTransposedWeights();
        trained = false;
        System.arraycopy(x, 0, input, 0, input.length);
        copyOrZero(h0, initialH);
        copyOrZero(c0, initialC);
        for (int k = 0; k < layers; k++) {
            float[] in = k == 0 ? input : layerOutput[k - 1];
            for (int d = 0; d < dirs; d++) {
                forwardDirection(k, d, in);
            }
        }
        System.arraycopy(layerOutput[layers - 1], 0, y, 0, y.length);
        writeFinalState(hn, cn);
        trained = training;
    }

    /** One layer, one direction, all steps. */
    private void forwardDirection(int k, int d, float[] in) {
        int inSize = config.layerInputSize(k);
        int gates4 = 4 * hidden;
        int outWidth = dirs * hidden;
        int rows = steps * batch;
        float[] g = gates[k][d];
        float[] c = cells[k][d];
        float[] out = layerOutput[k];
        int slot = (k * dirs + d) * batch * hidden; // this layer/direction's rows of h0/c0

        // Input projection of every step at once, on top of the biases.
        CellMath.addBiases(g, rows, gates4, params.biasIh(k, d), params.biasHh(k, d));
        Gemm.nn(rows, gates4, inSize, in, 0, inSize, weightIhT[k][d], 0, gates4, g, 0, gates4);

        for (int s = 0; s < steps; s++) {
            int t = d == 0 ? s : steps - 1 - s;
            int prev = d == 0 ? t - 1 : t + 1; // the step processed just before t
            boolean first = s == 0;
            int gOff = t * batch * gates4;
            // Recurrent product: G_t += h_prev · W_hhᵀ, h_prev read in place from the output (or h0).
            float[] hPrev = first ? initialH : out;
            int hOff = first ? slot : prev * batch * outWidth + d * hidden;
            int hLd = first ? hidden : outWidth;
            Gemm.nn(batch, gates4, hidden, hPrev, hOff, hLd, weightHhT[k][d], 0, gates4, g, gOff, gates4);
            float[] cPrev = first ? initialC : c;
            int cPrevOff = first ? slot : prev * batch * hidden;
            CellMath.forwardPointwise(batch, hidden, g, gOff, cPrev, cPrevOff, hidden, c, t * batch * hidden,
                    out, t * batch * outWidth + d * hidden, outWidth);
        }
    }

    private void writeFinalState(float[] hn, float[] cn) {
        int outWidth = dirs * hidden;
        for (int k = 0; k < layers; k++) {
            for (int d = 0; d < dirs; d++) {
                int last = d == 0 ? steps - 1 : 0;
                int slot = (k * dirs + d) * batch * hidden;
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(layerOutput[k], (last * batch + b) * outWidth + d * hidden, hn, slot + b * hidden,
                            hidden);
                    System.arraycopy(cells[k][d], (last * batch + b) * hidden, cn, slot + b * hidden, hidden);
                }
            }
        }
    }

    @Override
    public void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                         LstmParameters gradients) {
        if (!trained) {
            throw new IllegalStateException("backward needs a training-mode forward pass first");
        }
        for (int k = layers - 1; k >= 0; k--) {
            float[] outGrad = k == layers - 1 ? dy : layerInputGrad[k + 1];
            float[] inGrad = k == 0 ? dx : layerInputGrad[k];
            float[] in = k == 0 ? input : layerOutput[k - 1];
            Arrays.fill(inGrad, 0f);
            for (int d = 0; d < dirs; d++) {
                backwardDirection(k, d, in, outGrad, inGrad, dhn, dcn, dh0, dc0, gradients);
            }
        }
    }

    /** Back-propagation through one layer and direction; adds into inGrad, writes its gradients. */
    private void backwardDirection(int k, int d, float[] in, float[] outGrad, float[] inGrad, float[] dhn,
                                   float[] dcn, float[] dh0, float[] dc0, LstmParameters gradients) {
        int inSize = config.layerInputSize(k);
        int gates4 = 4 * hidden;
        int outWidth = dirs * hidden;
        int rows = steps * batch;
        int state = batch * hidden;
        int slot = (k * dirs + d) * state;
        float[] g = gates[k][d];
        float[] c = cells[k][d];
        float[] out = layerOutput[k];
        float[] wHh = params.weightHh(k, d);   // [4H, H]
        float[] wIh = params.weightIh(k, d);   // [4H, I_k]
        float[] gradWih = gradients.weightIh(k, d);
        float[] gradWhh = gradients.weightHh(k, d);

        copySlotOrZero(dhn, slot, dhCarry);
        copySlotOrZero(dcn, slot, dcCarry);
        Arrays.fill(gradWhh, 0f);
        for (int s = steps - 1; s >= 0; s--) {
            int t = d == 0 ? s : steps - 1 - s;
            int prev = d == 0 ? t - 1 : t + 1;
            boolean first = s == 0; // t is the first step this direction processed
            int gOff = t * batch * gates4;
            CellMath.backwardPointwise(batch, hidden, g, gOff, c, t * state,
                    first ? initialC : c, first ? slot : prev * state,
                    outGrad, t * batch * outWidth + d * hidden, outWidth, dhCarry, dcCarry, dGates, gOff);
            // dW_hh += dG_tᵀ · h_prev
            float[] hPrev = first ? initialH : out;
            int hOff = first ? slot : prev * batch * outWidth + d * hidden;
            int hLd = first ? hidden : outWidth;
            Gemm.tn(gates4, hidden, batch, dGates, gOff, gates4, hPrev, hOff, hLd, gradWhh, 0, hidden);
            // dh_next = dG_t · W_hh
            Arrays.fill(dhCarry, 0f);
            Gemm.nn(batch, hidden, gates4, dGates, gOff, gates4, wHh, 0, hidden, dhCarry, 0, hidden);
        }
        System.arraycopy(dhCarry, 0, dh0, slot, state);
        System.arraycopy(dcCarry, 0, dc0, slot, state);

        // The three products over all steps: dW_ih, the bias sums, and the input gradient.
        Arrays.fill(gradWih, 0f);
        Gemm.tn(gates4, inSize, rows, dGates, 0, gates4, in, 0, inSize, gradWih, 0, inSize);
        if (config.bias()) {
            float[] db = gradients.biasIh(k, d);
            Arrays.fill(db, 0f);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < gates4; j++) {
                    db[j] += dGates[r * gates4 + j];
                }
            }
            System.arraycopy(db, 0, gradients.biasHh(k, d), 0, gates4);
        }
        Gemm.nn(rows, inSize, gates4, dGates, 0, gates4, wIh, 0, inSize, inGrad, 0, inSize);
    }

    private static void copyOrZero(float[] src, float[] dst) {
        if (src == null) {
            Arrays.fill(dst, 0f);
        } else {
            System.arraycopy(src, 0, dst, 0, dst.length);
        }
    }

    private static void copySlotOrZero(float[] src, int offset, float[] dst) {
        if (src == null) {
            Arrays.fill(dst, 0f);
        } else {
            System.arraycopy(src, offset, dst, 0, dst.length);
        }
    }

    @Override
    public void close() {
        layerOutput = null;
        gates = null;
        cells = null;
    }
}
