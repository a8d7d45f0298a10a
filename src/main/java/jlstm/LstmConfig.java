package jlstm;

import java.util.ArrayList;
import java.util.List;

/**
 * The shape of an LSTM model, as PyTorch's {@code nn.LSTM(input_size, hidden_size, num_layers,
 * bias, batch_first, bidirectional)}.
 *
 * <pre>{@code
 * LstmConfig config = LstmConfig.of(32, 64).withLayers(2).withBidirectional(true);
 * }</pre>
 *
 * @param inputSize     I, features per time step of the input (≥ 1)
 * @param hiddenSize    H, features of the hidden and cell state (≥ 1)
 * @param numLayers     L, stacked layers (≥ 1)
 * @param bidirectional D = 2 when true: a reverse direction runs beside the forward one
 * @param bias          whether the {@code bias_ih}/{@code bias_hh} parameters exist
 * @param batchFirst    whether inputs and outputs are [B, T, ·] instead of [T, B, ·]
 */
public record LstmConfig(int inputSize, int hiddenSize, int numLayers, boolean bidirectional,
                         boolean bias, boolean batchFirst) {

    public LstmConfig {
        requirePositive("inputSize", inputSize);
        requirePositive("hiddenSize", hiddenSize);
        requirePositive("numLayers", numLayers);
        // 4H·max(I_k, H) must fit one Java array.
        long widest = 4L * hiddenSize * Math.max(inputSize, (bidirectional ? 2L : 1L) * hiddenSize);
        if (widest > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("hiddenSize " + hiddenSize + " with inputSize " + inputSize
                    + " gives weight matrices too large for one Java array");
        }
    }

    /** One layer, one direction, with bias, time-major input. */
    public static LstmConfig of(int inputSize, int hiddenSize) {
        return new LstmConfig(inputSize, hiddenSize, 1, false, true, false);
    }

    public LstmConfig withLayers(int layers) {
        return new LstmConfig(inputSize, hiddenSize, layers, bidirectional, bias, batchFirst);
    }

    public LstmConfig withBidirectional(boolean value) {
        return new LstmConfig(inputSize, hiddenSize, numLayers, value, bias, batchFirst);
    }

    public LstmConfig withBias(boolean value) {
        return new LstmConfig(inputSize, hiddenSize, numLayers, bidirectional, value, batchFirst);
    }

    public LstmConfig withBatchFirst(boolean value) {
        return new LstmConfig(inputSize, hiddenSize, numLayers, bidirectional, bias, value);
    }

    /** D: 2 when bidirectional, else 1. */
    public int directions() {
        return bidirectional ? 2 : 1;
    }

    /** I_k: the input size of layer k (I for layer 0, D·H above it). */
    public int layerInputSize(int layer) {
        return layer == 0 ? inputSize : directions() * hiddenSize;
    }

    /** D·H: features of each output step. */
    public int outputSize() {
        return directions() * hiddenSize;
    }

    /** PyTorch's name suffix for a layer and direction: {@code l0}, {@code l1_reverse}, … */
    public static String suffix(int layer, int direction) {
        return "l" + layer + (direction == 1 ? "_reverse" : "");
    }

    /** Every parameter name in PyTorch's {@code state_dict()} order. */
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
            }
        }
        return names;
    }

    /** The shape PyTorch gives a parameter of this config: [4H, I_k], [4H, H] or [4H]. */
    public int[] parameterShape(String name) {
        ParameterName p = ParameterName.parse(name);
        if (p == null || p.layer() >= numLayers || p.direction() >= directions() || (p.isBias() && !bias)) {
            throw new IllegalArgumentException("'" + name + "' is not a parameter of " + this);
        }
        int gates = 4 * hiddenSize;
        return switch (p.kind()) {
            case "weight_ih" -> new int[] {gates, layerInputSize(p.layer())};
            case "weight_hh" -> new int[] {gates, hiddenSize};
            default -> new int[] {gates};
        };
    }

    /** FLOPs of one forward pass over T steps and B sequences: 2·T·B·4H·(I_k+H) summed over layers and directions. */
    public double forwardFlops(int steps, int batch) {
        double flops = 0;
        for (int k = 0; k < numLayers; k++) {
            flops += directions() * 2.0 * steps * batch * 4.0 * hiddenSize * (layerInputSize(k) + hiddenSize);
        }
        return flops;
    }

    @Override
    public String toString() {
        return "LSTM(I=" + inputSize + ", H=" + hiddenSize + ", L=" + numLayers + ", D=" + directions()
                + (bias ? "" : ", no bias") + (batchFirst ? ", batch-first" : "") + ")";
    }

    /** A parsed PyTorch parameter name: kind ({@code weight_ih} …), layer and direction. */
    record ParameterName(String kind, int layer, int direction) {
        boolean isBias() {
            return kind.startsWith("bias");
        }

        /** Parses e.g. {@code weight_hh_l2_reverse}; null when the name is not an LSTM parameter. */
        static ParameterName parse(String name) {
            java.util.regex.Matcher m = java.util.regex.Pattern
                    .compile("(weight_ih|weight_hh|bias_ih|bias_hh)_l(\\d{1,4})(_reverse)?").matcher(name);
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
