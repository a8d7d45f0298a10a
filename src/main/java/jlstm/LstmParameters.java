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

import java.util.Objects;

import org.jspecify.annotations.Nullable;

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
     *
     * @param config the model's shape
     * @param seed   seed of the draw
     * @return new parameters in PyTorch's order
     */
    public static LstmParameters initialize(LstmConfig config, long seed) {
        Objects.requireNonNull(config, "config");
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

    /**
     * All-zero parameters of the given config (for gradient accumulators and tests).
     *
     * @param config the model's shape
     * @return new zero parameters in PyTorch's order
     */
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
     * Dense tensors are shared, not copied; a view over a slice or a buffer is copied (parameters
     * own whole arrays, which optimizers update in place).
     *
     * @param named      the tensors by name, e.g. {@code weight_ih_l0}
     * @param batchFirst the input layout the resulting config should declare
     * @param source     where the tensors came from, for error messages (a file name)
     * @return the parameters in PyTorch's order, with the inferred config
     * @throws IllegalArgumentException if a tensor is missing, misshapen or unexpected (named in
     *                                  the message)
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
     * @param named      the tensors by full name
     * @param batchFirst the input layout the resulting config should declare
     * @param source     where the tensors came from, for error messages (a file name)
     * @param prefix     e.g. {@code encoder.lstm.} (the trailing dot may be left out), "" for bare
     *                   names, or null to take the only LSTM present
     * @return the parameters in PyTorch's order, with the inferred config
     * @throws IllegalArgumentException if the prefix is ambiguous or absent, or a tensor is
     *                                  missing, misshapen or unexpected
     */
    public static LstmParameters fromTensors(Map<String, Tensor> named, boolean batchFirst, String source,
                                             @Nullable String prefix) {
        Objects.requireNonNull(named, "named");
        Objects.requireNonNull(source, "source");
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
            ordered.put(name, t.dense());
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

    /**
     * Reads a safetensors model file, time-major, as {@link #load(Path, boolean, String)} with the
     * only LSTM in the file.
     *
     * @param file a safetensors file (memory-mapped; only the LSTM's tensors are read)
     * @return the parameters, float32, in PyTorch's order
     * @throws IOException              if the file cannot be read, or is not valid safetensors
     * @throws IllegalArgumentException if the LSTM's tensors are missing, inconsistent or ambiguous
     *                                  (the message names the tensor or lists the prefixes)
     */
    public static LstmParameters load(Path file) throws IOException {
        return load(file, false);
    }

    /**
     * Reads a safetensors model file with the given input layout (the only LSTM in the file).
     *
     * @param file a safetensors file (memory-mapped; only the LSTM's tensors are read)
     * @param batchFirst whether the config declares inputs [B, T, I] (PyTorch's {@code batch_first})
     * @return the parameters, float32, in PyTorch's order
     * @throws IOException              if the file cannot be read, or is not valid safetensors
     * @throws IllegalArgumentException if the LSTM's tensors are missing, inconsistent or ambiguous
     *                                  (the message names the tensor or lists the prefixes)
     */
    public static LstmParameters load(Path file, boolean batchFirst) throws IOException {
        return load(file, batchFirst, null);
    }

    /**
     * Reads the LSTM of a safetensors file, as PyTorch's {@code safetensors.torch.save_file(
     * module.state_dict(), file)} writes it: the parameters may carry a module prefix
     * ({@code encoder.lstm.weight_ih_l0}); F16, BF16 and F64 parameters are converted to float32
     * (logged once per file, at DEBUG on the {@code System.Logger} {@code jlstm}); tensors of other names, of any dtype, are ignored and not even read.
     *
     * @param file a safetensors file (memory-mapped; only the LSTM's tensors are read)
     * @param batchFirst whether the config declares inputs [B, T, I] (PyTorch's {@code batch_first})
     * @param prefix the LSTM's module prefix (e.g. {@code encoder.lstm.}; "" for bare names), or
     *               null to take the only LSTM in the file; several without a choice is an error
     *               listing the prefixes found
     * @return the parameters, float32, in PyTorch's order
     * @throws IOException              if the file cannot be read, or is not valid safetensors
     * @throws IllegalArgumentException if the LSTM's tensors are missing, inconsistent or ambiguous
     *                                  (the message names the tensor or lists the prefixes)
     */
    public static LstmParameters load(Path file, boolean batchFirst, @Nullable String prefix) throws IOException {
        Objects.requireNonNull(file, "file");
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

    /**
     * Writes these parameters as safetensors, F32, with PyTorch's names (atomically: a temporary
     * file, then a rename), so {@code safetensors.torch.load_file} reads them into {@code nn.LSTM}.
     *
     * @param file the file to write (replaced if it exists)
     * @throws IOException if the file cannot be written
     */
    public void save(Path file) throws IOException {
        Safetensors.write(file, tensors, Map.of("format", "pt", "producer", "jlstm"));
    }

    /**
     * The model's shape, as inferred or given.
     *
     * @return the config
     */
    public LstmConfig config() {
        return config;
    }

    /**
     * The tensor of a parameter; its data is live (writes change the model).
     *
     * @param name a PyTorch name, e.g. {@code weight_hh_l0_reverse}
     * @return the tensor, dense, of {@link LstmConfig#parameterShape} of that name
     * @throws IllegalArgumentException if the model has no such parameter
     */
    public Tensor get(String name) {
        Objects.requireNonNull(name, "name");
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no parameter '" + name + "' in " + config);
        }
        return t;
    }

    /**
     * W_ih of a layer and direction (the live array).
     *
     * @param layer     k in [0, L)
     * @param direction 0 forward, 1 reverse
     * @return W_ih [4H, I_k], row-major
     * @throws IllegalArgumentException if the layer or direction does not exist
     */
    public float[] weightIh(int layer, int direction) {
        return get("weight_ih_" + LstmConfig.suffix(layer, direction)).data();
    }

    /**
     * W_hh of a layer and direction (the live array).
     *
     * @param layer     k in [0, L)
     * @param direction 0 forward, 1 reverse
     * @return W_hh [4H, R], row-major
     * @throws IllegalArgumentException if the layer or direction does not exist
     */
    public float[] weightHh(int layer, int direction) {
        return get("weight_hh_" + LstmConfig.suffix(layer, direction)).data();
    }

    /**
     * W_hr of a layer and direction (the live array).
     *
     * @param layer     k in [0, L)
     * @param direction 0 forward, 1 reverse
     * @return W_hr [P, H], or null when the model has no projection
     * @throws IllegalArgumentException if the layer or direction does not exist
     */
    public float @Nullable [] weightHr(int layer, int direction) {
        return config.projSize() > 0 ? get("weight_hr_" + LstmConfig.suffix(layer, direction)).data() : null;
    }

    /**
     * b_ih of a layer and direction (the live array).
     *
     * @param layer     k in [0, L)
     * @param direction 0 forward, 1 reverse
     * @return b_ih [4H], or null when the model has no bias
     * @throws IllegalArgumentException if the layer or direction does not exist
     */
    public float @Nullable [] biasIh(int layer, int direction) {
        return config.bias() ? get("bias_ih_" + LstmConfig.suffix(layer, direction)).data() : null;
    }

    /**
     * b_hh of a layer and direction (the live array).
     *
     * @param layer     k in [0, L)
     * @param direction 0 forward, 1 reverse
     * @return b_hh [4H], or null when the model has no bias
     * @throws IllegalArgumentException if the layer or direction does not exist
     */
    public float @Nullable [] biasHh(int layer, int direction) {
        return config.bias() ? get("bias_hh_" + LstmConfig.suffix(layer, direction)).data() : null;
    }

    /**
     * The parameter names.
     *
     * @return a new list, in PyTorch order
     */
    public List<String> names() {
        return new ArrayList<>(tensors.keySet());
    }

    /**
     * The parameters by name.
     *
     * @return name → tensor in PyTorch order (an unmodifiable map; the tensors are live)
     */
    public Map<String, Tensor> asMap() {
        return Collections.unmodifiableMap(tensors);
    }

    /**
     * The same tensors (shared, not copied) under a config with another dropout probability: dropout
     * is a setting of the model, as PyTorch's constructor argument, not a parameter, so a loaded
     * model starts without it.
     *
     * @param dropout p in [0, 1]
     * @return parameters sharing these tensors
     * @throws IllegalArgumentException if {@code dropout} is outside [0, 1]
     */
    public LstmParameters withDropout(double dropout) {
        return new LstmParameters(config.withDropout(dropout), tensors);
    }

    /**
     * A deep copy with the same config.
     *
     * @return parameters over new arrays
     */
    public LstmParameters copy() {
        Map<String, Tensor> copy = new LinkedHashMap<>();
        tensors.forEach((k, v) -> copy.put(k, v.copy()));
        return new LstmParameters(config, copy);
    }

    /**
     * The total number of scalar parameters.
     *
     * @return the sum of the tensors' element counts
     */
    public long count() {
        long n = 0;
        for (Tensor t : tensors.values()) {
            n += t.numel();
        }
        return n;
    }
}
