package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.DType;
import jlstm.io.Safetensors;
import jlstm.io.SafetensorsEntry;

/**
 * {@code run} with per-sequence lengths and dropout: what the input may hold (lengths as I64 or
 * I32, dropout_mask_l*), what is refused and how, and that {@code --dropout} writes the masks it
 * drew so that the pass can be replayed (here and in PyTorch). The values themselves are checked
 * against PyTorch by GoldenCaseTest through {@code run}.
 */
class RunFeaturesCliTest {
    /** I=3, H=4, L=2, D=2: x [5, 2, 3], h0 [4, 2, 4], y and dy [5, 2, 8]; one dropout mask [5, 2, 8]. */
    private static final LstmConfig CONFIG = LstmConfig.of(3, 4).withLayers(2).withBidirectional(true);

    @TempDir
    Path dir;
    Path model;
    Path input;

    @BeforeEach
    void writeModel() throws IOException {
        model = dir.resolve("model.safetensors");
        input = dir.resolve("input.safetensors");
        LstmParameters.initialize(CONFIG, 3).save(model);
    }

    private static Map<String, Tensor> tensors(boolean withDy) {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("x", ramp(0.1f, 5, 2, 3));
        if (withDy) {
            in.put("dy", ramp(0.3f, 5, 2, 8));
        }
        return in;
    }

    private static Tensor ramp(float scale, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = scale * ((i % 7) - 3);
        }
        return t;
    }

    /** Writes the F32 tensors and, when given, {@code lengths} with a dtype. */
    private void writeInput(Map<String, Tensor> tensors, DType lengthsType, long... lengths) throws IOException {
        List<SafetensorsEntry> entries = new ArrayList<>();
        tensors.forEach((name, t) -> entries.add(SafetensorsEntry.of(name, t)));
        if (lengthsType != null) {
            ByteBuffer b = ByteBuffer.allocate(lengths.length * lengthsType.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : lengths) {
                switch (lengthsType) {
                    case I64 -> b.putLong(v);
                    case I32 -> b.putInt((int) v);
                    default -> b.putFloat(v);
                }
            }
            entries.add(new SafetensorsEntry("lengths", lengthsType, new int[] {lengths.length}, b.array()));
        }
        Safetensors.writeEntries(input, entries, null);
    }

    private CliTest.Result run(Path output, String... extra) {
        List<String> args = new ArrayList<>(List.of("run", "--model", model.toString(), "--input", input.toString(),
                "--output", output.toString(), "--device", "cpu"));
        args.addAll(Arrays.asList(extra));
        return CliTest.execute(args.toArray(String[]::new));
    }

    @Test
    void lengthsAsI64OrI32GiveTheSameResult() throws IOException {
        writeInput(tensors(true), DType.I64, 3, 5);
        assertEquals(0, run(dir.resolve("a.safetensors")).status());
        writeInput(tensors(true), DType.I32, 3, 5);
        assertEquals(0, run(dir.resolve("b.safetensors")).status());
        Map<String, Tensor> a = Safetensors.readFloatTensors(dir.resolve("a.safetensors"));
        Map<String, Tensor> b = Safetensors.readFloatTensors(dir.resolve("b.safetensors"));
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) {
            assertArrayEquals(a.get(name).data(), b.get(name).data(), name);
        }
        float[] y = a.get("y").data();
        for (int t = 3; t < 5; t++) {
            for (int j = 0; j < 8; j++) {
                assertEquals(0f, y[(t * 2) * 8 + j], "y of sequence 0 past its 3 steps");
            }
        }
    }

    @Test
    void badLengthsAreRefusedNamingTheFile() throws IOException {
        writeInput(tensors(false), DType.F32, 3, 5);
        CliTest.Result r = run(dir.resolve("o.safetensors"));
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("tensor 'lengths' has dtype F32, expected I64 or I32"), r.err());

        writeInput(tensors(false), DType.I64, 3, 6);
        r = run(dir.resolve("o.safetensors"));
        assertNotEquals(0, r.status());
        assertTrue(r.err().startsWith("error: " + input + ": lengths[1] = 6 is outside [1, T] = [1, 5]"), r.err());

        writeInput(tensors(false), DType.I32, 3);
        r = run(dir.resolve("o.safetensors"));
        assertTrue(r.err().contains("lengths has 1 entries but the batch has 2 sequences"), r.err());

        writeInput(tensors(false), DType.I64, 0, 2);
        r = run(dir.resolve("o.safetensors"));
        assertTrue(r.err().contains("lengths[0] = 0: every sequence needs at least one step"), r.err());
    }

    @Test
    void dropoutDrawsReproducibleMasksThatReplayExactly() throws IOException {
        writeInput(tensors(true), null);
        Path first = dir.resolve("first.safetensors"), again = dir.resolve("again.safetensors");
        assertEquals(0, run(first, "--dropout", "0.4", "--dropout-seed", "7").status());
        assertEquals(0, run(again, "--dropout", "0.4", "--dropout-seed", "7").status());
        Map<String, Tensor> a = Safetensors.readFloatTensors(first);
        Map<String, Tensor> b = Safetensors.readFloatTensors(again);
        assertArrayEquals(new int[] {5, 2, 8}, a.get("dropout_mask_l0").shape(), "one mask, y's shape");
        assertFalse(a.containsKey("dropout_mask_l1"), "no mask after the last layer");
        assertArrayEquals(a.get("dropout_mask_l0").data(), b.get("dropout_mask_l0").data(), "same seed, same masks");
        assertArrayEquals(a.get("y").data(), b.get("y").data());

        // The drawn masks given back as input replay the very same pass, gradients included.
        Map<String, Tensor> in = tensors(true);
        in.put("dropout_mask_l0", a.get("dropout_mask_l0"));
        writeInput(in, null);
        Path replay = dir.resolve("replay.safetensors");
        assertEquals(0, run(replay).status());
        Map<String, Tensor> c = Safetensors.readFloatTensors(replay);
        for (String name : c.keySet()) {
            assertArrayEquals(a.get(name).data(), c.get(name).data(), name);
        }
        assertFalse(c.containsKey("dropout_mask_l0"), "given masks are not echoed");

        writeInput(tensors(true), null);
        assertEquals(0, run(dir.resolve("other.safetensors"), "--dropout", "0.4", "--dropout-seed", "8").status());
        assertFalse(Arrays.equals(a.get("dropout_mask_l0").data(),
                Safetensors.readFloatTensors(dir.resolve("other.safetensors")).get("dropout_mask_l0").data()));
    }

    @Test
    void dropoutWithoutTrainingIsRefused() throws IOException {
        writeInput(tensors(false), null);
        CliTest.Result r = run(dir.resolve("o.safetensors"), "--dropout", "0.4");
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("--dropout needs an input with dy (training)"), r.err());

        Map<String, Tensor> in = tensors(false);
        in.put("dropout_mask_l0", Tensor.zeros(5, 2, 8));
        writeInput(in, null);
        r = run(dir.resolve("o.safetensors"));
        assertTrue(r.err().contains("dropout masks given without dy"), r.err());

        in = tensors(true);
        in.put("dropout_mask_l1", Tensor.zeros(5, 2, 8));
        writeInput(in, null);
        r = run(dir.resolve("o.safetensors"));
        assertTrue(r.err().contains("skip dropout_mask_l0"), r.err());
    }
}
