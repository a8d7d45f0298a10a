package jlstm;

import jlstm.cpu.CellMath;
import jlstm.cpu.Gemm;

/**
 * One LSTM cell, one time step (as PyTorch's {@code nn.LSTMCell}), on the CPU:
 * (x_t, h_{t-1}, c_{t-1}) → (h_t, c_t).
 *
 * <pre>
 * G = x_t · W_ihᵀ + b_ih + h_{t-1} · W_hhᵀ + b_hh      G: [B, 4H] = [i | f | g | o]
 * c_t = σ(G_f) ⊙ c_{t-1} + σ(G_i) ⊙ tanh(G_g)
 * h_t = σ(G_o) ⊙ tanh(c_t)
 * </pre>
 */
public final class LstmCell {
    private final int inputSize;
    private final int hiddenSize;
    private final float[] weightIh;  // [4H, I]
    private final float[] weightHh;  // [4H, H]
    private final float[] biasIh;    // [4H] or null
    private final float[] biasHh;    // [4H] or null

    /**
     * A cell over existing weights (not copied).
     *
     * @param weightIh W_ih [4H, I]
     * @param weightHh W_hh [4H, H]
     * @param biasIh   b_ih [4H], or null for no bias
     * @param biasHh   b_hh [4H], or null for no bias
     */
    public LstmCell(int inputSize, int hiddenSize, float[] weightIh, float[] weightHh, float[] biasIh, float[] biasHh) {
        if (inputSize < 1 || hiddenSize < 1) {
            throw new IllegalArgumentException("inputSize and hiddenSize must be ≥ 1");
        }
        check("weightIh", weightIh, 4L * hiddenSize * inputSize);
        check("weightHh", weightHh, 4L * hiddenSize * hiddenSize);
        if (biasIh != null) {
            check("biasIh", biasIh, 4L * hiddenSize);
        }
        if (biasHh != null) {
            check("biasHh", biasHh, 4L * hiddenSize);
        }
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.weightIh = weightIh;
        this.weightHh = weightHh;
        this.biasIh = biasIh;
        this.biasHh = biasHh;
    }

    /** The cell of one layer and direction of a layer's parameters (sharing their weights). */
    public static LstmCell of(LstmParameters p, int layer, int direction) {
        LstmConfig c = p.config();
        if (c.projSize() > 0) {
            throw new IllegalArgumentException("LstmCell has no projection (as torch.nn.LSTMCell); " + c
                    + " has proj_size " + c.projSize());
        }
        return new LstmCell(c.layerInputSize(layer), c.hiddenSize(), p.weightIh(layer, direction),
                p.weightHh(layer, direction), p.biasIh(layer, direction), p.biasHh(layer, direction));
    }

    /** The state after one step. @param h [B, H] @param c [B, H] */
    public record State(Tensor h, Tensor c) {
    }

    /**
     * One step.
     *
     * @param x input at this step [B, I]
     * @param h previous hidden state [B, H], or null for zeros
     * @param c previous cell state [B, H], or null for zeros
     */
    public State step(Tensor x, Tensor h, Tensor c) {
        if (x == null || x.rank() != 2 || x.dim(1) != inputSize || x.dim(0) < 1) {
            throw new IllegalArgumentException("x has shape " + (x == null ? "null" : x.shapeString())
                    + ", expected [B, " + inputSize + "]");
        }
        int batch = x.dim(0);
        int gates = 4 * hiddenSize;
        for (Tensor s : new Tensor[] {h, c}) {
            if (s != null && !s.hasShape(batch, hiddenSize)) {
                throw new IllegalArgumentException("state has shape " + s.shapeString() + ", expected ["
                        + batch + ", " + hiddenSize + "]");
            }
        }
        float[] g = new float[batch * gates];
        CellMath.addBiases(g, batch, gates, biasIh, biasHh);
        Gemm.multiplyTransposedB(batch, gates, inputSize, x.data(), 0, inputSize, weightIh, 0, inputSize, g, 0, gates);
        if (h != null) {
            Gemm.multiplyTransposedB(batch, gates, hiddenSize, h.data(), 0, hiddenSize, weightHh, 0, hiddenSize, g, 0,
                    gates);
        }
        Tensor hOut = Tensor.zeros(batch, hiddenSize);
        Tensor cOut = Tensor.zeros(batch, hiddenSize);
        CellMath.forwardPointwise(batch, hiddenSize, g, 0, c == null ? null : c.data(), 0, hiddenSize,
                cOut.data(), 0, hOut.data(), 0, hiddenSize);
        return new State(hOut, cOut);
    }

    public int inputSize() {
        return inputSize;
    }

    public int hiddenSize() {
        return hiddenSize;
    }

    private static void check(String what, float[] a, long expected) {
        if (a == null || a.length != expected) {
            throw new IllegalArgumentException(what + " must hold " + expected + " values, got "
                    + (a == null ? "null" : a.length));
        }
    }
}
