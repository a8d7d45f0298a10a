package jlstm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

import jlstm.io.Safetensors;

/**
 * The weights of an LSTM, named and shaped as PyTorch's {@code nn.LSTM} so that a
 * {@code state_dict()} loads unchanged: {@code weight_ih_l{k}} [4H, I_k], {@code weight_hh_l{k}}
 * [4H, R], {@code bias_ih_l{k}} [4H], {@code bias_hh_l{k}} [4H], with a projection also
 * {@code weight_hr_l{k}} [P, H], and {@code _reverse} for the backward direction. Rows are the
 * gates in order i, f, g, o. (R = P with a projection, else H; see {@link LstmConfig}.)
 *
 * <p>Tensors are mutable in place (optimizers write to them); an engine that caches them (the
 * GPU one) must be told with {@link LstmLayer#parametersUpdated()}.
 */
public final class LstmParameters {
    private final LstmConfig config;
    private final Map<String, Tensor> tensors;

    private LstmParameters(LstmConfig config, Map<String, Tensor> tensors) {
        this.config = config;
        this.tensors = tensors;
    }

    /**
     * PyTorch's default initialisation: every parameter drawn from U(-1/√H, 1/√H). The draw is
     * seeded, so the same seed gives the same weights (not the same numbers as PyTorch's RNG).
     */
    public static LstmParameters initialize(LstmConfig config, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double bound = 1.0 / Math.sqrt(config.hiddenSize());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (String name : config.parameterNames()) {
            Tensor t = Tensor.zeros(config.parameterShape(name));
            float[] v = t.data();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) random.nextDouble(-bound, bound);
            }
            tensors.put(name, t);
        }
        return new LstmParameters(config, tensors);
    }

    /** All-zero parameters of the given config (for gradient accumulators and tests). */
    public static LstmParameters zeros(LstmConfig config) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (String name : config.parameterNames()) {
            tensors.put(name, Tensor.zeros(config.parameterShape(name)));
        }
        return new LstmParameters(config, tensors);
    }

    /**
     * Builds parameters from named tensors, inferring L, D, I, H, P and bias from the names and
     * shapes. Tensors whose names are not LSTM parameters are ignored (a checkpoint may hold a
     * head beside them). An inconsistent set is rejected naming the tensor that is wrong.
     *
     * @param source     where the tensors came from, for error messages (a file name)
     * @param batchFirst the input layout the resulting config should declare
     */
    public static LstmParameters fromTensors(Map<String, Tensor> named, boolean batchFirst, String source) {
        return fromTensors(named, batchFirst, source, null);
    }

    /**
     * {@link #fromTensors(Map, boolean, String)} for the LSTM under a module prefix: names such as
     * {@code encoder.lstm.weight_ih_l0} (a PyTorch {@code state_dict} of a module holding an
     * {@code nn.LSTM}). With a null prefix the only LSTM present is used, whatever its prefix
     * (none included); with several, the error lists their prefixes.
     *
     * @param prefix e.g. {@code encoder.lstm.} (the trailing dot may be left out), "" for bare
     *               names, or null to take the only LSTM present
     */
    public static LstmParameters fromTensors(Map<String, Tensor> named, boolean batchFirst, String source,
                                             String prefix) {
        String chosen = LstmPrefixes.choose(named.keySet(), prefix, source);
        Map<String, Tensor> lstm = new LinkedHashMap<>();
        int layers = 0;
        boolean reverse = false;
        boolean anyBias = false;
        for (Map.Entry<String, Tensor> e : named.entrySet()) {
            if (!chosen.equals(LstmPrefixes.prefixOf(e.getKey()))) {
                continue;
            }
            String name = e.getKey().substring(chosen.length());
            LstmConfig.ParameterName p = LstmConfig.ParameterName.parse(name);
            lstm.put(name, e.getValue());
            layers = Math.max(layers, p.layer() + 1);
            reverse |= p.direction() == 1;
            anyBias |= p.isBias();
        }
        source = chosen.isEmpty() ? source : source + " (prefix '" + chosen + "')";
        Tensor w0 = lstm.get("weight_ih_l0");
        if (w0 == null) {
            throw new IllegalArgumentException(source + ": missing tensor '" + chosen + "weight_ih_l0'");
        }
        if (w0.rank() != 2 || w0.dim(0) % 4 != 0 || w0.dim(0) == 0 || w0.dim(1) == 0) {
            throw new IllegalArgumentException(source + ": tensor 'weight_ih_l0' has shape " + w0.shapeString()
                    + ", expected [4H, I] with H ≥ 1 and I ≥ 1");
        }
        int projection = 0;
        Tensor hr0 = lstm.get("weight_hr_l0");
        if (hr0 != null) {
            // PyTorch's LSTM with projections: weight_hr_l{k} [P, H], 1 ≤ P < H.
            if (hr0.rank() != 2 || hr0.dim(1) != w0.dim(0) / 4 || hr0.dim(0) < 1 || hr0.dim(0) >= hr0.dim(1)) {
                throw new IllegalArgumentException(source + ": tensor 'weight_hr_l0' has shape " + hr0.shapeString()
                        + ", expected [P, H] = [P, " + w0.dim(0) / 4 + "] with 1 ≤ P < H (H from weight_ih_l0 "
                        + w0.shapeString() + ")");
            }
            projection = hr0.dim(0);
        }
        LstmConfig config = new LstmConfig(w0.dim(1), w0.dim(0) / 4, layers, reverse, anyBias, batchFirst,
                projection, 0.0);

        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (String name : config.parameterNames()) {
            Tensor t = lstm.remove(name);
            int[] want = config.parameterShape(name);
            if (t == null) {
                throw new IllegalArgumentException(source + ": missing tensor '" + name + "' required by " + config
                        + describeInference(config));
            }
            if (!t.hasShape(want)) {
                throw new IllegalArgumentException(source + ": tensor '" + name + "' has shape " + t.shapeString()
                        + ", expected " + java.util.Arrays.toString(want) + " for " + config + describeInference(config));
            }
            ordered.put(name, t);
        }
        if (!lstm.isEmpty()) {
            // Only possible for names the config does not produce, e.g. a lone bias without its pair.
            throw new IllegalArgumentException(source + ": unexpected tensor(s) " + new TreeSet<>(lstm.keySet())
                    + " for " + config + describeInference(config));
        }
        return new LstmParameters(config, ordered);
    }

    private static String describeInference(LstmConfig c) {
        return " (inferred from weight_ih_l0" + (c.projSize() > 0 ? ", weight_hr_l0" : "")
                + " and the names present: I=" + c.inputSize() + ", H=" + c.hiddenSize()
                + (c.projSize() > 0 ? ", P=" + c.projSize() : "")
                + ", L=" + c.numLayers() + ", D=" + c.directions() + ", bias=" + c.bias() + ")";
    }

    /** Reads a safetensors model file (see {@link #fromTensors}). */
    public static LstmParameters load(Path file) throws IOException {
        return load(file, false);
    }

    /** Reads a safetensors model file with the given input layout. */
    public static LstmParameters load(Path file, boolean batchFirst) throws IOException {
        return load(file, batchFirst, null);
    }

    /**
     * Reads the LSTM of a safetensors file, as PyTorch's {@code safetensors.torch.save_file(
     * module.state_dict(), file)} writes it: the parameters may carry a module prefix
     * ({@code encoder.lstm.weight_ih_l0}); F16, BF16 and F64 parameters are converted to float32
     * (logged once per file, at DEBUG on the {@code System.Logger} {@code jlstm}); tensors of other names, of any dtype, are ignored and not even read.
     *
     * @param prefix the LSTM's module prefix (e.g. {@code encoder.lstm.}; "" for bare names), or
     *               null to take the only LSTM in the file; several without a choice is an error
     *               listing the prefixes found
     */
    public static LstmParameters load(Path file, boolean batchFirst, String prefix) throws IOException {
        Safetensors.Contents contents = Safetensors.read(file);
        String chosen = LstmPrefixes.choose(contents.entries().keySet(), prefix, file.toString());
        Map<String, Tensor> named = new LinkedHashMap<>();
        Map<String, Integer> converted = new java.util.TreeMap<>();
        for (jlstm.io.SafetensorsEntry e : contents.entries().values()) {
            if (chosen.equals(LstmPrefixes.prefixOf(e.name()))) {
                named.put(e.name(), Safetensors.floatTensor(file, e));
                if (e.dtype() != jlstm.io.DType.F32) {
                    converted.merge(e.dtype().name(), 1, Integer::sum);
                }
            }
        }
        if (!converted.isEmpty()) {
            System.getLogger("jlstm").log(System.Logger.Level.DEBUG, "jlstm: " + file + ": converted to float32: "
                    + describeCounts(converted) + " parameter tensor(s)");
        }
        return fromTensors(named, batchFirst, file.toString(), chosen);
    }

    /** {F16=2, F64=1} → "2 F16, 1 F64". */
    static String describeCounts(Map<String, Integer> counts) {
        StringBuilder sb = new StringBuilder();
        counts.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(v).append(' ').append(k));
        return sb.toString();
    }

    /** Writes these parameters as safetensors (atomically: a temporary file, then a rename). */
    public void save(Path file) throws IOException {
        Safetensors.write(file, tensors, Map.of("format", "pt", "producer", "jlstm"));
    }

    public LstmConfig config() {
        return config;
    }

    /** The tensor of a parameter, e.g. {@code weight_hh_l0_reverse}; its data is live. */
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no parameter '" + name + "' in " + config);
        }
        return t;
    }

    /** W_ih of a layer and direction: [4H, I_k]. */
    public float[] weightIh(int layer, int direction) {
        return get("weight_ih_" + LstmConfig.suffix(layer, direction)).data();
    }

    /** W_hh of a layer and direction: [4H, R]. */
    public float[] weightHh(int layer, int direction) {
        return get("weight_hh_" + LstmConfig.suffix(layer, direction)).data();
    }

    /** W_hr of a layer and direction: [P, H], or null when the model has no projection. */
    public float[] weightHr(int layer, int direction) {
        return config.projSize() > 0 ? get("weight_hr_" + LstmConfig.suffix(layer, direction)).data() : null;
    }

    /** b_ih of a layer and direction: [4H], or null when the model has no bias. */
    public float[] biasIh(int layer, int direction) {
        return config.bias() ? get("bias_ih_" + LstmConfig.suffix(layer, direction)).data() : null;
    }

    /** b_hh of a layer and direction: [4H], or null when the model has no bias. */
    public float[] biasHh(int layer, int direction) {
        return config.bias() ? get("bias_hh_" + LstmConfig.suffix(layer, direction)).data() : null;
    }

    /** Names in PyTorch order. */
    public List<String> names() {
        return new ArrayList<>(tensors.keySet());
    }

    /** Name → tensor in PyTorch order (unmodifiable map; the tensors are live). */
    public Map<String, Tensor> asMap() {
        return Collections.unmodifiableMap(tensors);
    }

    /**
     * The same tensors (shared, not copied) under a config with another dropout probability: dropout
     * is a setting of the model, as PyTorch's constructor argument, not a parameter, so a loaded
     * model starts without it.
     */
    public LstmParameters withDropout(double dropout) {
        return new LstmParameters(config.withDropout(dropout), tensors);
    }

    /** A deep copy with the same config. */
    public LstmParameters copy() {
        Map<String, Tensor> copy = new LinkedHashMap<>();
        tensors.forEach((k, v) -> copy.put(k, v.copy()));
        return new LstmParameters(config, copy);
    }

    /** Total number of scalar parameters. */
    public long count() {
        long n = 0;
        for (Tensor t : tensors.values()) {
            n += t.numel();
        }
        return n;
    }
}
