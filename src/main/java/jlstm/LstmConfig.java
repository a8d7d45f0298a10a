package jlstm;

import java.util.ArrayList;
import java.util.List;

/**
 * The shape of an LSTM model, as PyTorch's {@code nn.LSTM(input_size, hidden_size, num_layers,
 * bias, batch_first, dropout, bidirectional, proj_size)}.
 *
 * <pre>{@code
 * LstmConfig config = LstmConfig.of(32, 64).withLayers(2).withBidirectional(true);
 * LstmConfig projected = LstmConfig.of(32, 64).withProjSize(16).withLayers(2).withDropout(0.2);
 * }</pre>
 *
 * <p>With a projection (P = {@code projSize} &gt; 0) each step's h = W_hr · (o ⊙ tanh(c)) has P
 * features instead of H, as in PyTorch's LSTM with projections: h, y and the recurrent input are
 * R = P wide while c stays H wide. {@link #realHiddenSize()} is that R (H without a projection).
 *
 * @param inputSize     I, features per time step of the input (≥ 1)
 * @param hiddenSize    H, features of the cell state (and of h without a projection) (≥ 1)
 * @param numLayers     L, stacked layers (≥ 1)
 * @param bidirectional D = 2 when true: a reverse direction runs beside the forward one
 * @param bias          whether the {@code bias_ih}/{@code bias_hh} parameters exist
 * @param batchFirst    whether inputs and outputs are [B, T, ·] instead of [T, B, ·]
 * @param projSize      P: 0 for none, else 1 ≤ P &lt; H (PyTorch's {@code proj_size})
 * @param dropout       p in [0, 1]: in training, each output of every layer but the last is zeroed
 *                      with probability p and the rest scaled by 1/(1−p) before the next layer
 *                      reads it (PyTorch's {@code dropout}); not a parameter, never saved in a
 *                      model file, and off in inference
 */
public record LstmConfig(int inputSize, int hiddenSize, int numLayers, boolean bidirectional,
                         boolean bias, boolean batchFirst, int projSize, double dropout) {

    /**
     * Checks the sizes.
     *
     * @param inputSize     I, ≥ 1
     * @param hiddenSize    H, ≥ 1
     * @param numLayers     L, ≥ 1
     * @param bidirectional D = 2 when true
     * @param bias          whether the bias parameters exist
     * @param batchFirst    whether inputs and outputs are [B, T, ·]
     * @param projSize      P: 0, or 1 ≤ P &lt; H
     * @param dropout       p in [0, 1]
     *
     * @throws IllegalArgumentException if a size is out of range, dropout is not in [0, 1], or the
     *                                  weight matrices would not fit one Java array
     */
    public LstmConfig {
        requirePositive("inputSize", inputSize);
        requirePositive("hiddenSize", hiddenSize);
        requirePositive("numLayers", numLayers);
        if (projSize < 0 || (projSize > 0 && projSize >= hiddenSize)) {
            throw new IllegalArgumentException("projSize must be 0 (no projection) or from 1 to hiddenSize - 1 = "
                    + (hiddenSize - 1) + ", got " + projSize);
        }
        if (!(dropout >= 0 && dropout <= 1)) {
            throw new IllegalArgumentException("dropout must be a probability in [0, 1], got " + dropout);
        }
        // 4H·max(I_k, R) must fit one Java array.
        long real = projSize > 0 ? projSize : hiddenSize;
        long widest = 4L * hiddenSize * Math.max(inputSize, (bidirectional ? 2L : 1L) * real);
        if (widest > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("hiddenSize " + hiddenSize + " with inputSize " + inputSize
                    + " gives weight matrices too large for one Java array");
        }
    }

    /**
     * A config without projection and without dropout (the six arguments of earlier versions).
     *
     * @param inputSize     I, ≥ 1
     * @param hiddenSize    H, ≥ 1
     * @param numLayers     L, ≥ 1
     * @param bidirectional D = 2 when true
     * @param bias          whether the bias parameters exist
     * @param batchFirst    whether inputs and outputs are [B, T, ·]
     * @throws IllegalArgumentException if a size is below 1 or the weights would not fit one array
     */
    public LstmConfig(int inputSize, int hiddenSize, int numLayers, boolean bidirectional, boolean bias,
                      boolean batchFirst) {
        this(inputSize, hiddenSize, numLayers, bidirectional, bias, batchFirst, 0, 0.0);
    }

    /**
     * One layer, one direction, with bias, time-major input.
     *
     * @param inputSize  I, ≥ 1
     * @param hiddenSize H, ≥ 1
     * @return the config
     * @throws IllegalArgumentException if a size is below 1
     */
    public static LstmConfig of(int inputSize, int hiddenSize) {
        return new LstmConfig(inputSize, hiddenSize, 1, false, true, false);
    }

    /**
     * With L stacked layers (layer k &gt; 0 reads layer k−1's D·R outputs).
     *
     * @param layers L, stacked layers, ≥ 1
     * @return a new config; this one is unchanged
     * @throws IllegalArgumentException if the result is not a valid config
     */
    public LstmConfig withLayers(int layers) {
        return new LstmConfig(inputSize, hiddenSize, layers, bidirectional, bias, batchFirst, projSize, dropout);
    }

    /**
     * With or without a reverse direction.
     *
     * @param value true for D = 2 (a reverse direction beside the forward one)
     * @return a new config; this one is unchanged
     * @throws IllegalArgumentException if the result is not a valid config
     */
    public LstmConfig withBidirectional(boolean value) {
        return new LstmConfig(inputSize, hiddenSize, numLayers, value, bias, batchFirst, projSize, dropout);
    }

    /**
     * With or without the bias parameters.
     *
     * @param value whether {@code bias_ih}/{@code bias_hh} exist
     * @return a new config; this one is unchanged
     * @throws IllegalArgumentException if the result is not a valid config
     */
    public LstmConfig withBias(boolean value) {
        return new LstmConfig(inputSize, hiddenSize, numLayers, bidirectional, value, batchFirst, projSize, dropout);
    }

    /**
     * With the given input and output layout (PyTorch's {@code batch_first}).
     *
     * @param value true for inputs and outputs [B, T, ·], false for [T, B, ·]
     * @return a new config; this one is unchanged
     * @throws IllegalArgumentException if the result is not a valid config
     */
    public LstmConfig withBatchFirst(boolean value) {
        return new LstmConfig(inputSize, hiddenSize, numLayers, bidirectional, bias, value, projSize, dropout);
    }

    /**
     * With a projection of h to P features (PyTorch's {@code proj_size}); 0 removes it.
     *
     * @param value P: 0, or 1 ≤ P &lt; H
     * @return a new config; this one is unchanged
     * @throws IllegalArgumentException if P is out of range
     */
    public LstmConfig withProjSize(int value) {
        return new LstmConfig(inputSize, hiddenSize, numLayers, bidirectional, bias, batchFirst, value, dropout);
    }

    /**
     * With dropout probability p between layers in training (PyTorch's {@code dropout}).
     *
     * @param value p in [0, 1]
     * @return a new config; this one is unchanged
     * @throws IllegalArgumentException if p is outside [0, 1] or NaN
     */
    public LstmConfig withDropout(double value) {
        return new LstmConfig(inputSize, hiddenSize, numLayers, bidirectional, bias, batchFirst, projSize, value);
    }

    /**
     * The number of directions.
     *
     * @return D: 2 when bidirectional, else 1
     */
    public int directions() {
        return bidirectional ? 2 : 1;
    }

    /**
     * The size of h (and of each direction's output).
     *
     * @return R: P with a projection, else H
     */
    public int realHiddenSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    /**
     * The input size of a layer.
     *
     * @param layer k, from 0
     * @return I_k: I for layer 0, D·R above it
     */
    public int layerInputSize(int layer) {
        return layer == 0 ? inputSize : directions() * realHiddenSize();
    }

    /**
     * The features of each output step of y.
     *
     * @return D·R
     */
    public int outputSize() {
        return directions() * realHiddenSize();
    }

    /**
     * PyTorch's name suffix for a layer and direction.
     *
     * @param layer     k, from 0
     * @param direction 0 forward, 1 reverse
     * @return {@code l0}, {@code l1_reverse}, …
     */
    public static String suffix(int layer, int direction) {
        return "l" + layer + (direction == 1 ? "_reverse" : "");
    }

    /**
     * Every parameter name of this config.
     *
     * @return a new list in PyTorch's {@code state_dict()} order
     */
    public List<String> parameterNames() {
        List<String> names = new ArrayList<>();
        for (int k = 0; k < numLayers; k++) {
            for (int d = 0; d < directions(); d++) {
                String s = suffix(k, d);
                names.add("weight_ih_" + s);
                names.add("weight_hh_" + s);
                if (bias) {
                    names.add("bias_ih_" + s);
                    names.add("bias_hh_" + s);
                }
                if (projSize > 0) {
                    names.add("weight_hr_" + s);
                }
            }
        }
        return names;
    }

    /**
     * The shape PyTorch gives a parameter of this config: [4H, I_k], [4H, R], [4H] or, for
     * {@code weight_hr}, [P, H].
     *
     * @param name a parameter name, e.g. {@code weight_hh_l1_reverse}
     * @return a new array of its dimensions
     * @throws IllegalArgumentException if the name is not a parameter of this config
     */
    public int[] parameterShape(String name) {
        ParameterName p = ParameterName.parse(name);
        if (p == null || p.layer() >= numLayers || p.direction() >= directions() || (p.isBias() && !bias)
                || (p.kind().equals("weight_hr") && projSize == 0)) {
            throw new IllegalArgumentException("'" + name + "' is not a parameter of " + this);
        }
        int gates = 4 * hiddenSize;
        return switch (p.kind()) {
            case "weight_ih" -> new int[] {gates, layerInputSize(p.layer())};
            case "weight_hh" -> new int[] {gates, realHiddenSize()};
            case "weight_hr" -> new int[] {projSize, hiddenSize};
            default -> new int[] {gates};
        };
    }

    /**
     * FLOPs of one forward pass over T steps and B sequences: 2·T·B·4H·(I_k+R), plus 2·T·B·P·H for
     * a projection, summed over layers and directions.
     *
     * @param steps T
     * @param batch B
     * @return floating-point operations (multiply and add counted apart)
     */
    public double forwardFlops(int steps, int batch) {
        double flops = 0;
        for (int k = 0; k < numLayers; k++) {
            flops += directions() * 2.0 * steps * batch * (4.0 * hiddenSize * (layerInputSize(k) + realHiddenSize())
                    + (double) projSize * hiddenSize);
        }
        return flops;
    }

    @Override
    public String toString() {
        return "LSTM(I=" + inputSize + ", H=" + hiddenSize + ", L=" + numLayers + ", D=" + directions()
                + (projSize > 0 ? ", P=" + projSize : "") + (bias ? "" : ", no bias")
                + (batchFirst ? ", batch-first" : "") + (dropout > 0 ? ", dropout=" + dropout : "") + ")";
    }

    /** A parsed PyTorch parameter name: kind ({@code weight_ih}, {@code weight_hr} …), layer and direction. */
    record ParameterName(String kind, int layer, int direction) {
        boolean isBias() {
            return kind.startsWith("bias");
        }

        /** Parses e.g. {@code weight_hh_l2_reverse}; null when the name is not an LSTM parameter. */
        static ParameterName parse(String name) {
            java.util.regex.Matcher m = java.util.regex.Pattern
                    .compile("(weight_ih|weight_hh|weight_hr|bias_ih|bias_hh)_l(\\d{1,4})(_reverse)?").matcher(name);
            if (!m.matches()) {
                return null;
            }
            return new ParameterName(m.group(1), Integer.parseInt(m.group(2)), m.group(3) == null ? 0 : 1);
        }
    }

    private static void requirePositive(String what, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(what + " must be at least 1, got " + value);
        }
    }
}
