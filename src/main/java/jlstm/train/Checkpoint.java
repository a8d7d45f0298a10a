package jlstm.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.Safetensors;
import jlstm.io.SafetensorsEntry;

/**
 * A training checkpoint in one safetensors file:
 * <ul>
 *   <li>the LSTM's parameters under PyTorch's {@code nn.LSTM} names ({@code weight_ih_l0} …), so
 *       that {@code run --model} and {@code nn.LSTM.load_state_dict} accept them as they are;</li>
 *   <li>the head: {@code head.weight} [O, F], {@code head.bias} [O];</li>
 *   <li>the optimizer's state: {@code optimizer.<state>.<parameter>}, e.g.
 *       {@code optimizer.exp_avg.weight_ih_l0}, each of its parameter's shape;</li>
 *   <li>metadata (strings): task, sizes, epoch, optimizer hyper-parameters and step count, the
 *       loss history, and whatever the caller adds.</li>
 * </ul>
 *
 * @param lstm              the LSTM part (time-major config)
 * @param headWeight        [O, F]
 * @param headBias          [O]
 * @param headMode          which steps the head reads
 * @param optimizerTensors  {@code optimizer.*} tensors, possibly empty
 * @param metadata          the file's metadata
 */
public record Checkpoint(LstmParameters lstm, Tensor headWeight, Tensor headBias, LinearHead.Mode headMode,
                         Map<String, Tensor> optimizerTensors, Map<String, String> metadata) {
    /** Metadata key of the head mode ({@code last_step} or {@code every_step}). */
    public static final String HEAD_MODE = "head.mode";
    /** Where the optimizer's state lives; names under it are not read as an LSTM (jlstm.LstmPrefixes). */
    private static final String OPTIMIZER_PREFIX = "optimizer.";

    /**
     * Writes a checkpoint atomically.
     *
     * @param optimizer whose state to include, or null
     * @param metadata  extra metadata (task, epoch, …); the format's own keys are added
     */
    public static void save(Path file, SequenceModel model, Optimizer optimizer, Map<String, String> metadata)
            throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(model.parameters());
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("producer", "jlstm");
        meta.putAll(metadata);
        meta.put(HEAD_MODE, model.head().mode().name().toLowerCase(Locale.ROOT));
        if (optimizer != null) {
            tensors.putAll(optimizer.stateTensors());
            meta.putAll(optimizer.stateMetadata());
        }
        Safetensors.write(file, tensors, meta);
    }

    /**
     * Reads a checkpoint; errors name the file and what is wrong (not safetensors, no LSTM
     * parameters, no head, inconsistent shapes).
     */
    public static Checkpoint load(Path file) throws IOException {
        Safetensors.Contents contents = Safetensors.read(file);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (SafetensorsEntry e : contents.entries().values()) {
            tensors.put(e.name(), Safetensors.floatTensor(file, e));
        }
        LstmParameters lstm = LstmParameters.fromTensors(tensors, false, file.toString());
        Tensor weight = tensors.get(LinearHead.WEIGHT);
        Tensor bias = tensors.get(LinearHead.BIAS);
        if (weight == null || bias == null) {
            throw new IllegalArgumentException(file + ": not a training checkpoint (no '" + LinearHead.WEIGHT + "' / '"
                    + LinearHead.BIAS + "'); a bare LSTM model file can be run with 'run' but not resumed");
        }
        if (weight.rank() != 2 || weight.dim(1) != lstm.config().outputSize() || bias.rank() != 1
                || bias.dim(0) != weight.dim(0)) {
            throw new IllegalArgumentException(file + ": head tensors have shapes " + weight.shapeString() + " and "
                    + bias.shapeString() + ", expected [O, " + lstm.config().outputSize() + "] and [O] for "
                    + lstm.config());
        }
        Map<String, String> meta = contents.metadata();
        LinearHead.Mode mode;
        try {
            mode = LinearHead.Mode.valueOf(meta.getOrDefault(HEAD_MODE, "last_step").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": metadata '" + HEAD_MODE + "' is '" + meta.get(HEAD_MODE)
                    + "', expected last_step or every_step");
        }
        Map<String, Tensor> optimizerTensors = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            if (name.startsWith(OPTIMIZER_PREFIX)) {
                optimizerTensors.put(name, t);
            }
        });
        return new Checkpoint(lstm, weight, bias, mode, optimizerTensors, meta);
    }

    /** A new head holding this checkpoint's tensors. */
    public LinearHead head() {
        return new LinearHead(headWeight, headBias, headMode);
    }
}
