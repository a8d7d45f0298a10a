package jlstm.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.Safetensors;
import jlstm.io.SafetensorsEntry;
import jlstm.train.LinearHead;

/**
 * A model as it travels to executors: the bytes of one safetensors file (the LSTM's parameters
 * under PyTorch's names, optionally a {@link LinearHead} as {@code head.weight}/{@code head.bias},
 * and the layout in metadata) and their SHA-256, which names the model in each executor's cache.
 * Serializable as plain bytes, so no {@code jlstm.Tensor} has to be.
 */
public final class ModelPayload implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Metadata key: "true" when the model reads [B, T, I] inputs. */
    static final String BATCH_FIRST = "jlstm.batch_first";

    private final byte[] safetensors;
    private final String sha256;

    private ModelPayload(byte[] safetensors) {
        this.safetensors = safetensors;
        this.sha256 = sha256(safetensors);
    }

    /** The payload of an LSTM and an optional head (null for a bare LSTM). */
    public static ModelPayload of(LstmParameters lstm, LinearHead head) {
        Map<String, Tensor> tensors = new LinkedHashMap<>(lstm.asMap());
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put(BATCH_FIRST, Boolean.toString(lstm.config().batchFirst()));
        if (head != null) {
            tensors.put(LinearHead.WEIGHT, head.weight());
            tensors.put(LinearHead.BIAS, head.bias());
            metadata.put(jlstm.train.Checkpoint.HEAD_MODE, head.mode().name().toLowerCase(Locale.ROOT));
        }
        return new ModelPayload(encode(tensors, metadata));
    }

    /**
     * The payload of a safetensors file as written by jlstm ({@code train}'s checkpoint, a model
     * file) or by PyTorch's {@code save_file(state_dict)}; checked by decoding it once here, so a
     * bad file fails on the driver, not in every task.
     */
    public static ModelPayload fromBytes(byte[] safetensors) {
        ModelPayload p = new ModelPayload(safetensors.clone());
        p.decode();
        return p;
    }

    /** The payload of a file on the driver's file system. */
    public static ModelPayload read(Path file) throws IOException {
        return fromBytes(Files.readAllBytes(file));
    }

    /** The file's bytes (a copy). */
    public byte[] bytes() {
        return safetensors.clone();
    }

    /** Hex SHA-256 of the bytes: equal models, equal hash. */
    public String sha256() {
        return sha256;
    }

    /** A fresh copy of the model, its tensors not shared with anything. */
    public Decoded decode() {
        Path source = Path.of("model-" + sha256.substring(0, 12) + ".safetensors");
        try {
            Safetensors.Contents contents = Safetensors.parse(source, safetensors);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (SafetensorsEntry e : contents.entries().values()) {
                if (e.dtype().isFloat()) {
                    tensors.put(e.name(), Safetensors.floatTensor(source, e));
                }
            }
            boolean batchFirst = Boolean.parseBoolean(contents.metadata().getOrDefault(BATCH_FIRST, "false"));
            Map<String, Tensor> lstmTensors = new LinkedHashMap<>(tensors);
            lstmTensors.remove(LinearHead.WEIGHT);
            lstmTensors.remove(LinearHead.BIAS);
            lstmTensors.keySet().removeIf(name -> name.startsWith("optimizer."));
            LstmParameters lstm = LstmParameters.fromTensors(lstmTensors, batchFirst, source.toString());
            LinearHead head = null;
            Tensor w = tensors.get(LinearHead.WEIGHT);
            Tensor b = tensors.get(LinearHead.BIAS);
            if (w != null && b != null) {
                String mode = contents.metadata().getOrDefault(jlstm.train.Checkpoint.HEAD_MODE, "last_step");
                head = new LinearHead(w, b, LinearHead.Mode.valueOf(mode.toUpperCase(Locale.ROOT)));
            }
            Map<String, Tensor> optimizer = new LinkedHashMap<>();
            tensors.forEach((name, t) -> {
                if (name.startsWith("optimizer.")) {
                    optimizer.put(name, t);
                }
            });
            return new Decoded(lstm, head, optimizer, contents.metadata());
        } catch (IOException e) {
            throw new IllegalArgumentException("model payload " + sha256 + ": " + e.getMessage(), e);
        }
    }

    /**
     * What the bytes hold.
     *
     * @param lstm     the LSTM's parameters (batch-first as the metadata says)
     * @param head     the head, or null when the file has none
     * @param optimizer the optimizer's state ({@code optimizer.*} tensors of a training
     *                  checkpoint), empty when there is none
     * @param metadata the file's metadata
     */
    public record Decoded(LstmParameters lstm, LinearHead head, Map<String, Tensor> optimizer,
                          Map<String, String> metadata) {
    }

    /** Safetensors bytes of named tensors and metadata (through a temporary file: the core writes files). */
    static byte[] encode(Map<String, Tensor> tensors, Map<String, String> metadata) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("jlstm-spark-", ".safetensors");
            Safetensors.write(tmp, tensors, metadata);
            return Files.readAllBytes(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode the model as safetensors", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a leftover temporary file is harmless
                }
            }
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }
}
