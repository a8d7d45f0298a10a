package jlstm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.internal.Backends;
import jlstm.io.Safetensors;

/**
 * Inconsistent models are rejected naming the file and the tensor at fault; inputs whose shapes do
 * not fit the model are rejected naming the input and both shapes.
 */
class ModelValidationTest {
    @TempDir
    Path dir;

    /** A consistent 2-layer bidirectional model's tensors (I=3, H=4), as a mutable map. */
    private static Map<String, Tensor> bidirectionalTwoLayers() {
        return new LinkedHashMap<>(LstmParameters.initialize(LstmConfig.of(3, 4).withLayers(2).withBidirectional(true),
                1).asMap());
    }

    /** Saves the tensors, loads them as a model and returns the error message. */
    private String loadError(Map<String, Tensor> tensors) throws IOException {
        Path f = dir.resolve("model.safetensors");
        Safetensors.write(f, tensors, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LstmParameters.load(f));
        assertTrue(e.getMessage().startsWith(f + ": "), "the message must name the file: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
        }
    }

    @Test
    void aConsistentModelLoadsWithItsInferredConfig() throws IOException {
        Path f = dir.resolve("model.safetensors");
        LstmParameters original = LstmParameters.initialize(LstmConfig.of(3, 4).withLayers(2).withBidirectional(true)
                .withBias(false), 3);
        original.save(f);
        LstmParameters back = LstmParameters.load(f);
        assertEquals(original.config(), back.config());
        for (String name : original.names()) {
            assertArrayEquals(original.get(name).data(), back.get(name).data(), name);
        }
    }

    @Test
    void missingBiasHh() throws IOException {
        Map<String, Tensor> t = bidirectionalTwoLayers();
        t.remove("bias_hh_l0");
        assertContains(loadError(t), "missing tensor 'bias_hh_l0'");
    }

    @Test
    void biasInSomeLayersOnly() throws IOException {
        Map<String, Tensor> t = bidirectionalTwoLayers();
        t.remove("bias_ih_l1");
        t.remove("bias_hh_l1");
        t.remove("bias_ih_l1_reverse");
        t.remove("bias_hh_l1_reverse");
        assertContains(loadError(t), "missing tensor 'bias_ih_l1'");
    }

    @Test
    void missingFirstInputWeight() throws IOException {
        Map<String, Tensor> t = bidirectionalTwoLayers();
        t.remove("weight_ih_l0");
        assertContains(loadError(t), "missing tensor 'weight_ih_l0'");
    }

    @Test
    void wrongShapes() throws IOException {
        Map<String, Tensor> t = bidirectionalTwoLayers();
        t.put("weight_hh_l1_reverse", Tensor.zeros(16, 5));
        assertContains(loadError(t), "'weight_hh_l1_reverse' has shape [16, 5], expected [16, 4]");

        t = bidirectionalTwoLayers();
        t.put("weight_ih_l1", Tensor.zeros(16, 4)); // layer 1 reads D·H = 8 features
        assertContains(loadError(t), "'weight_ih_l1' has shape [16, 4], expected [16, 8]");

        t = bidirectionalTwoLayers();
        t.put("bias_ih_l0", Tensor.zeros(15));
        assertContains(loadError(t), "'bias_ih_l0' has shape [15], expected [16]");

        t = bidirectionalTwoLayers();
        t.put("weight_ih_l0", Tensor.zeros(15, 3)); // 4H must be a multiple of 4
        assertContains(loadError(t), "'weight_ih_l0' has shape [15, 3]");
    }

    @Test
    void aMissingLayer() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>(LstmParameters.initialize(LstmConfig.of(3, 4).withLayers(3), 1)
                .asMap());
        t.keySet().removeIf(name -> name.endsWith("_l1"));
        assertContains(loadError(t), "missing tensor 'weight_ih_l1'", "L=3");
    }

    @Test
    void reverseForSomeLayersOnly() throws IOException {
        Map<String, Tensor> t = bidirectionalTwoLayers();
        t.keySet().removeIf(name -> name.endsWith("_l1_reverse"));
        assertContains(loadError(t), "missing tensor 'weight_ih_l1_reverse'", "D=2");
    }

    @Test
    void noLstmTensorsAtAll() throws IOException {
        assertContains(loadError(Map.of("head.weight", Tensor.zeros(2, 2))), "no LSTM parameters");
    }

    @Test
    void unrelatedTensorsBesideTheModelAreIgnored() throws IOException {
        Map<String, Tensor> t = bidirectionalTwoLayers();
        t.put("head.weight", Tensor.zeros(2, 8));
        Path f = dir.resolve("model.safetensors");
        Safetensors.write(f, t, null);
        assertEquals(LstmConfig.of(3, 4).withLayers(2).withBidirectional(true), LstmParameters.load(f).config());
    }

    // --- inputs whose shapes do not fit the model (I=3, H=4, L=2, D=2: state [4, B, 4], y [T, B, 8]) ---

    private static LstmLayer layer(boolean batchFirst) {
        LstmConfig c = LstmConfig.of(3, 4).withLayers(2).withBidirectional(true).withBatchFirst(batchFirst);
        return LstmLayer.create(LstmParameters.initialize(c, 2), Backends.cpu());
    }

    private static String error(Runnable call) {
        return assertThrows(IllegalArgumentException.class, call::run).getMessage();
    }

    @Test
    void inputWithTheWrongFeatureCount() {
        try (LstmLayer l = layer(false)) {
            assertContains(error(() -> l.forward(Tensor.zeros(5, 2, 4))), "x has shape [5, 2, 4]", "[T, B, 3]");
            assertContains(error(() -> l.forward(Tensor.zeros(5, 3))), "x has shape [5, 3]");
            assertContains(error(() -> l.forward(Tensor.zeros(0, 2, 3))), "x has shape [0, 2, 3]", "T ≥ 1");
            assertContains(assertThrows(NullPointerException.class, () -> l.forward(null)).getMessage(), "x");
        }
    }

    @Test
    void initialStateWithTheWrongShape() {
        try (LstmLayer l = layer(false)) {
            Tensor x = Tensor.zeros(5, 2, 3);
            assertContains(error(() -> l.forward(x, Tensor.zeros(2, 2, 4), null)), "h0 has shape [2, 2, 4]",
                    "expected [4, 2, 4]");
            assertContains(error(() -> l.forward(x, null, Tensor.zeros(4, 3, 4))), "c0 has shape [4, 3, 4]",
                    "expected [4, 2, 4]");
        }
    }

    @Test
    void upstreamGradientsWithTheWrongShape() {
        try (LstmLayer l = layer(false)) {
            l.forwardTraining(Tensor.zeros(5, 2, 3), null, null);
            assertContains(error(() -> l.backward(Tensor.zeros(5, 2, 4), null, null)), "dy has shape [5, 2, 4]",
                    "expected [5, 2, 8]");
            assertContains(error(() -> l.backward(Tensor.zeros(5, 2, 8), Tensor.zeros(4, 2, 5), null)),
                    "dhn has shape [4, 2, 5]");
            assertContains(error(() -> l.backward(Tensor.zeros(5, 2, 8), null, Tensor.zeros(1, 2, 4))),
                    "dcn has shape [1, 2, 4]");
            assertContains(assertThrows(NullPointerException.class, () -> l.backward(null, null, null)).getMessage(), "dy");
        }
    }

    @Test
    void batchFirstLayoutIsChecked() {
        try (LstmLayer l = layer(true)) {
            l.forwardTraining(Tensor.zeros(2, 5, 3), null, null); // B=2, T=5
            assertContains(error(() -> l.backward(Tensor.zeros(5, 2, 8), null, null)), "dy has shape [5, 2, 8]",
                    "expected [2, 5, 8]");
            assertArrayEquals(new int[] {2, 5, 3}, l.backward(Tensor.zeros(2, 5, 8), null, null).dx().shape());
        }
    }

    @Test
    void backwardWithoutTrainingForward() {
        try (LstmLayer l = layer(false)) {
            l.forward(Tensor.zeros(5, 2, 3));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> l.backward(Tensor.zeros(5, 2, 8), null, null));
            assertContains(e.getMessage(), "forwardTraining");
        }
    }
}
