package jlstm.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.Safetensors;
import jlstm.io.SafetensorsEntry;

import org.jspecify.annotations.Nullable;

/**
 * A training checkpoint in one safetensors file:
 * <ul>
 *   <li>the LSTM's parameters under PyTorch's {@code nn.LSTM} names ({@code weight_ih_l0} …), so
 *       that {@code run --model} and {@code nn.LSTM.load_state_dict} accept them as they are;</li>
 *   <li>the head: {@code head.weight} [O, F], {@code head.bias} [O] (on reading, an
 *       {@code nn.Linear} under any name: {@code fc.weight}, {@code decoder.out.weight} …);</li>
 *   <li>the optimizer's state: {@code optimizer.<state>.<parameter>}, e.g.
 *       {@code optimizer.exp_avg.weight_ih_l0}, each of its parameter's shape;</li>
 *   <li>metadata (strings): the input layout ({@code lstm.batch_first}), the head's mode
 *       ({@code head.mode}), task, sizes, epoch, optimizer hyper-parameters and step count, the
 *       loss history, and whatever the caller adds.</li>
 * </ul>
 *
 * <p>A PyTorch {@code state_dict} of a module holding an {@code nn.LSTM} and an {@code nn.Linear}
 * reads as a checkpoint too, whatever the two are called: the LSTM is found by its parameter
 * names ({@code lstm.weight_ih_l0} …), the head is the only linear layer that reads the LSTM's
 * output width, or the one named by {@link Options#headPrefix}. Such a file has no metadata: give
 * the layout and head mode in {@link Options} (defaults: time-major, last step).
 *
 * @param lstm              the LSTM part (its config's batch-first flag from the file or the options)
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
    /** Metadata key of the input layout ({@code true}: [B, T, I]; {@code false}: [T, B, I]). */
    public static final String BATCH_FIRST = "lstm.batch_first";

    /**
     * How to read a file whose metadata does not say (a PyTorch export), or to override it.
     *
     * @param headPrefix the head's module name, e.g. {@code fc} ({@code fc.weight}, {@code fc.bias});
     *                   null: {@code head}, else the only linear layer that fits the LSTM
     * @param lstmPrefix the LSTM's module prefix, e.g. {@code encoder.lstm}; null: the only LSTM
     * @param batchFirst the input layout; null: the file's {@code lstm.batch_first}, else time-major.
     *                   A value contradicting the file's is refused.
     * @param headMode   null: the file's {@code head.mode}, else {@link LinearHead.Mode#LAST_STEP}
     */
    public record Options(@Nullable String headPrefix, @Nullable String lstmPrefix, @Nullable Boolean batchFirst,
                          LinearHead.@Nullable Mode headMode) {
        /**
         * Everything from the file (or the defaults).
         *
         * @return options with every component null
         */
        public static Options fromFile() {
            return new Options(null, null, null, null);
        }

        /**
         * With the head's module name.
         *
         * @param prefix the head's module name, e.g. {@code fc}; null for {@code head} or the only fitting linear layer
         * @return new options; these are unchanged
         */
        public Options withHeadPrefix(@Nullable String prefix) {
            return new Options(prefix, lstmPrefix, batchFirst, headMode);
        }

        /**
         * With the LSTM's module prefix.
         *
         * @param prefix the LSTM's module prefix, e.g. {@code encoder.lstm}; null for the only LSTM
         * @return new options; these are unchanged
         */
        public Options withLstmPrefix(@Nullable String prefix) {
            return new Options(headPrefix, prefix, batchFirst, headMode);
        }

        /**
         * With the input layout.
         *
         * @param value true for inputs [B, T, I], false for [T, B, I] (refused if the file says otherwise)
         * @return new options; these are unchanged
         */
        public Options withBatchFirst(boolean value) {
            return new Options(headPrefix, lstmPrefix, value, headMode);
        }

        /**
         * With the head's mode.
         *
         * @param mode which steps the head reads; null for the file's, else last step
         * @return new options; these are unchanged
         */
        public Options withHeadMode(LinearHead.@Nullable Mode mode) {
            return new Options(headPrefix, lstmPrefix, batchFirst, mode);
        }
    }
    /** Where the optimizer's state lives; names under it are not read as an LSTM (jlstm.LstmPrefixes). */
    private static final String OPTIMIZER_PREFIX = "optimizer.";

    /**
     * Writes a checkpoint atomically: the model's parameters under PyTorch names, its layout and
     * head mode in the metadata, and the optimizer's state under {@code optimizer.*}.
     *
     * @param file      the file to write (replaced if it exists)
     * @param model     the model (brought up to date from the device first)
     * @param optimizer whose state to include, or null
     * @param metadata  extra metadata (task, epoch, …); the format's own keys are added
     * @throws IOException if the file cannot be written
     */
    public static void save(Path file, SequenceModel model, @Nullable Optimizer optimizer, Map<String, String> metadata)
            throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(model.parameters());
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("producer", "jlstm");
        meta.putAll(metadata);
        meta.put(HEAD_MODE, model.head().mode().name().toLowerCase(Locale.ROOT));
        meta.put(BATCH_FIRST, Boolean.toString(model.batchFirst()));
        if (optimizer != null) {
            tensors.putAll(optimizer.stateTensors());
            meta.putAll(optimizer.stateMetadata());
        }
        Safetensors.write(file, tensors, meta);
    }

    /**
     * Reads a checkpoint; errors name the file and what is wrong (not safetensors, no LSTM
     * parameters, no head, inconsistent shapes).
     *
     * @param file a safetensors file
     * @return the checkpoint, layout and head mode from the file's metadata
     * @throws IOException              if the file cannot be read or is not valid safetensors
     * @throws IllegalArgumentException naming the file and what is wrong; when the head is not
     *                                  found, the message lists the linear layers the file holds
     */
    public static Checkpoint load(Path file) throws IOException {
        return load(file, Options.fromFile());
    }

    /**
     * Reads a checkpoint or a PyTorch export of an LSTM + Linear module (see the class comment).
     *
     * @param file    a safetensors file
     * @param options prefixes, layout and head mode where the file does not say (or to override it)
     * @return the checkpoint
     * @throws IOException              if the file cannot be read or is not valid safetensors
     * @throws IllegalArgumentException naming the file and what is wrong; when the head is not
     *                                  found, the message lists the linear layers the file holds
     */
    public static Checkpoint load(Path file, Options options) throws IOException {
        java.util.Objects.requireNonNull(file, "file");
        java.util.Objects.requireNonNull(options, "options");
        Safetensors.Contents contents = Safetensors.read(file);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (SafetensorsEntry e : contents.entries().values()) {
            tensors.put(e.name(), Safetensors.floatTensor(file, e));
        }
        Map<String, String> meta = contents.metadata();
        boolean batchFirst = batchFirst(file, meta, options.batchFirst());
        LstmParameters lstm = LstmParameters.fromTensors(tensors, batchFirst, file.toString(), options.lstmPrefix());
        String head = headPrefix(file, tensors, lstm, options.headPrefix());
        Tensor weight = tensors.get(head + "weight");
        Tensor bias = tensors.get(head + "bias");
        if (weight.rank() != 2 || weight.dim(1) != lstm.config().outputSize() || bias.rank() != 1
                || bias.dim(0) != weight.dim(0)) {
            throw new IllegalArgumentException(file + ": head tensors '" + head + "weight' and '" + head + "bias' have"
                    + " shapes " + weight.shapeString() + " and " + bias.shapeString() + ", expected [O, "
                    + lstm.config().outputSize() + "] and [O] for " + lstm.config());
        }
        LinearHead.Mode mode = options.headMode();
        if (mode == null) {
            try {
                mode = LinearHead.Mode.valueOf(meta.getOrDefault(HEAD_MODE, "last_step").toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": metadata '" + HEAD_MODE + "' is '" + meta.get(HEAD_MODE)
                        + "', expected last_step or every_step");
            }
        }
        Map<String, Tensor> optimizerTensors = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            if (name.startsWith(OPTIMIZER_PREFIX)) {
                optimizerTensors.put(name, t);
            }
        });
        return new Checkpoint(lstm, weight, bias, mode, optimizerTensors, meta);
    }

    /** The layout: the caller's, else the file's, else time-major; a contradiction is an error. */
    private static boolean batchFirst(Path file, Map<String, String> meta, Boolean requested) {
        String saved = meta.get(BATCH_FIRST);
        if (saved != null && !saved.equals("true") && !saved.equals("false")) {
            throw new IllegalArgumentException(file + ": metadata '" + BATCH_FIRST + "' is '" + saved
                    + "', expected true or false");
        }
        if (requested != null && saved != null && requested != Boolean.parseBoolean(saved)) {
            throw new IllegalArgumentException(file + ": the model was saved " + (Boolean.parseBoolean(saved)
                    ? "batch-first (inputs [B, T, I])" : "time-major (inputs [T, B, I])") + " but "
                    + (requested ? "batch-first" : "time-major") + " was asked for");
        }
        return requested != null ? requested : Boolean.parseBoolean(saved);
    }

    /**
     * The head's prefix with its dot: the requested one; else {@code head.} when present; else the
     * only linear layer (X.weight [O, F] with X.bias [O]) whose F is the LSTM's output width.
     */
    private static String headPrefix(Path file, Map<String, Tensor> tensors, LstmParameters lstm, String requested) {
        Map<String, String> linear = linearLayers(tensors);
        int width = lstm.config().outputSize();
        if (requested != null) {
            String wanted = requested.endsWith(".") ? requested : requested + ".";
            if (!tensors.containsKey(wanted + "weight") || !tensors.containsKey(wanted + "bias")) {
                throw new IllegalArgumentException(file + ": no head '" + wanted + "weight' / '" + wanted + "bias'; "
                        + describe(linear));
            }
            return wanted;
        }
        if (tensors.containsKey(LinearHead.WEIGHT) && tensors.containsKey(LinearHead.BIAS)) {
            return "head.";
        }
        List<String> fitting = new ArrayList<>();
        linear.forEach((prefix, shape) -> {
            if (tensors.get(prefix + "weight").dim(1) == width) {
                fitting.add(prefix);
            }
        });
        if (fitting.size() == 1) {
            return fitting.get(0);
        }
        if (linear.isEmpty()) {
            throw new IllegalArgumentException(file + ": not a training checkpoint (no head: " + describe(linear)
                    + "); a bare LSTM model file can be run with 'run' but not resumed or loaded as a model");
        }
        throw new IllegalArgumentException(file + ": " + (fitting.isEmpty() ? "no linear layer reads the LSTM's "
                + width + " outputs" : fitting.size() + " linear layers read the LSTM's " + width + " outputs") + "; "
                + describe(linear) + "; name the head with --head-prefix P (Checkpoint.Options.withHeadPrefix in the"
                + " API)");
    }

    /** Prefix (with its dot) → "[O, F]" of every X.weight (rank 2) with an X.bias [O], outside the optimizer state. */
    private static Map<String, String> linearLayers(Map<String, Tensor> tensors) {
        Map<String, String> found = new TreeMap<>();
        tensors.forEach((name, w) -> {
            if (name.endsWith(".weight") && !name.startsWith(OPTIMIZER_PREFIX) && w.rank() == 2) {
                String prefix = name.substring(0, name.length() - "weight".length());
                Tensor b = tensors.get(prefix + "bias");
                if (b != null && b.rank() == 1 && b.dim(0) == w.dim(0)) {
                    found.put(prefix, w.shapeString());
                }
            }
        });
        return found;
    }

    private static String describe(Map<String, String> linear) {
        if (linear.isEmpty()) {
            return "the file holds no linear layer (X.weight [O, F] with X.bias [O])";
        }
        StringBuilder sb = new StringBuilder("linear layers found: ");
        linear.forEach((prefix, shape) -> sb.append(sb.length() > 21 ? ", " : "")
                .append(prefix, 0, prefix.length() - 1).append(' ').append(shape));
        return sb.toString();
    }

    /**
     * A new head holding this checkpoint's tensors.
     *
     * @return a head sharing {@link #headWeight()} and {@link #headBias()}
     */
    public LinearHead head() {
        return new LinearHead(headWeight, headBias, headMode);
    }
}
