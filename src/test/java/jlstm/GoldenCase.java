package jlstm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import jlstm.io.DType;
import jlstm.io.Safetensors;
import jlstm.io.SafetensorsEntry;

/**
 * One golden case written by {@code tools/make_golden.py} from PyTorch's {@code nn.LSTM} (float64
 * over float32-exact inputs): a folder with {@code meta.json}, {@code model.safetensors},
 * {@code input.safetensors} and {@code expected.safetensors}. Cases of the features beyond padded
 * batches carry per-sequence {@code lengths}, a projection ({@code weight_hr_l*}) or PyTorch's
 * dropout masks ({@code dropout_mask_l*}); {@link #features()} names them.
 *
 * @param name   the folder name, e.g. {@code bidirectional_2_layers}
 * @param folder the case's folder
 * @param meta   the sizes and flags the generator used (T, B, I, H, L, batch_first, …)
 */
public record GoldenCase(String name, Path folder, JsonObject meta) {

    /** The committed cases, found on the test class path under {@code golden/}. */
    public static List<GoldenCase> all() {
        return underResource("golden");
    }

    /** The committed special-value cases (±Inf, NaN, ±1e30, −0.0; tools/make_special_golden.py). */
    public static List<GoldenCase> specialValues() {
        return underResource("golden-special");
    }

    private static List<GoldenCase> underResource(String folder) {
        URL root = GoldenCase.class.getClassLoader().getResource(folder);
        if (root == null) {
            throw new IllegalStateException("no " + folder + "/ folder on the test class path (src/test/resources/"
                    + folder + ")");
        }
        try {
            return in(Path.of(root.toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every case folder (one holding a meta.json) directly under {@code root}, by name. */
    public static List<GoldenCase> in(Path root) {
        try (Stream<Path> folders = Files.list(root)) {
            List<GoldenCase> cases = folders.filter(p -> Files.isRegularFile(p.resolve("meta.json")))
                    .sorted()
                    .map(GoldenCase::load)
                    .toList();
            if (cases.isEmpty()) {
                throw new IllegalStateException("no golden cases under " + root);
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The committed case of a name. */
    public static GoldenCase named(String name) {
        return all().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no golden case '" + name + "'"));
    }

    static GoldenCase load(Path folder) {
        try {
            JsonObject meta = JsonParser.parseString(Files.readString(folder.resolve("meta.json"))).getAsJsonObject();
            return new GoldenCase(folder.getFileName().toString(), folder, meta);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public boolean batchFirst() {
        return meta.get("batch_first").getAsBoolean();
    }

    public Path modelFile() {
        return folder.resolve("model.safetensors");
    }

    public Path inputFile() {
        return folder.resolve("input.safetensors");
    }

    public Path expectedFile() {
        return folder.resolve("expected.safetensors");
    }

    public LstmParameters parameters() throws IOException {
        return LstmParameters.load(modelFile(), batchFirst());
    }

    /** The F32 inputs: x, h0, c0, dy, dhn, dcn (not the lengths, not the dropout masks). */
    public Map<String, Tensor> inputs() throws IOException {
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        for (SafetensorsEntry e : Safetensors.read(inputFile()).entries().values()) {
            if (e.dtype() == DType.F32 && !e.name().startsWith("dropout_mask_")) {
                out.put(e.name(), e.toTensor());
            }
        }
        return out;
    }

    /** The input's per-sequence lengths (an I64 or I32 tensor [B]), or null when it has none. */
    public int[] lengths() throws IOException {
        SafetensorsEntry e = Safetensors.read(inputFile()).entries().get("lengths");
        return e == null ? null : java.util.Arrays.stream(e.toLongs()).mapToInt(Math::toIntExact).toArray();
    }

    /** The input's dropout masks {@code dropout_mask_l0} … in layer order, or null when it has none. */
    public List<Tensor> dropoutMasks() throws IOException {
        Map<String, SafetensorsEntry> entries = Safetensors.read(inputFile()).entries();
        List<Tensor> masks = new java.util.ArrayList<>();
        for (int k = 0; entries.containsKey("dropout_mask_l" + k); k++) {
            masks.add(entries.get("dropout_mask_l" + k).toTensor());
        }
        return masks.isEmpty() ? null : masks;
    }

    /**
     * The features beyond padded batches this case uses ({@code lengths}, {@code proj_size},
     * {@code dropout}), from its meta.json; empty for the plain cases.
     */
    public List<String> features() {
        List<String> out = new java.util.ArrayList<>();
        if (meta.has("lengths")) {
            out.add("lengths");
        }
        if (meta.has("proj_size") && meta.get("proj_size").getAsInt() > 0) {
            out.add("proj_size");
        }
        if (meta.has("dropout") && meta.get("dropout").getAsDouble() > 0) {
            out.add("dropout");
        }
        return out;
    }

    public Map<String, Tensor> expected() throws IOException {
        return Safetensors.readFloatTensors(expectedFile());
    }

    /**
     * Runs this case's inputs through a layer (forward, and backward when the input has dy) and
     * returns every tensor under the name the expected file uses (y, hn, cn, dx, dh0, dc0, grad.*).
     */
    public Map<String, Tensor> runThrough(LstmLayer layer) throws IOException {
        Map<String, Tensor> in = inputs();
        Map<String, Tensor> actual = new java.util.LinkedHashMap<>();
        Tensor dy = in.get("dy");
        LstmOutput out = dy == null ? layer.forward(in.get("x"), in.get("h0"), in.get("c0"), lengths())
                : layer.forwardTraining(in.get("x"), in.get("h0"), in.get("c0"), lengths(), dropoutMasks());
        actual.put("y", out.y());
        actual.put("hn", out.hn());
        actual.put("cn", out.cn());
        if (dy != null) {
            LstmGradients g = layer.backward(dy, in.get("dhn"), in.get("dcn"));
            actual.put("dx", g.dx());
            actual.put("dh0", g.dh0());
            actual.put("dc0", g.dc0());
            g.parameters().forEach((name, t) -> actual.put("grad." + name, t));
        }
        return actual;
    }

    @Override
    public String toString() {
        return name;
    }
}
