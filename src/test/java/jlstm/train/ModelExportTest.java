package jlstm.train;

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

import jlstm.Device;
import jlstm.Tensor;
import jlstm.io.Safetensors;

/**
 * Whole models in and out: a PyTorch LSTM + Linear export whose head is called {@code fc}
 * (tools/make_model_export.py) predicts what PyTorch predicted; a batch-first model saved and
 * loaded stays batch-first and predicts the same; a head that cannot be found is reported with the
 * linear layers the file holds.
 */
class ModelExportTest {
    private static final Path DIR = Path.of("src", "test", "resources", "model-export");

    /** PyTorch computed in float64 from the same float32 parameters; the CPU paths agree to float32 rounding. */
    private static final double TOLERANCE = 2e-6;

    @Test
    void aPyTorchExportWithAHeadNamedFcPredictsWhatPyTorchPredicted() throws IOException {
        Tensor x = Safetensors.readFloatTensors(DIR.resolve("input.safetensors")).get("x");            // [4, 6, 3]
        Tensor expected = Safetensors.readFloatTensors(DIR.resolve("expected.safetensors")).get("prediction"); // [4, 2]
        for (Checkpoint.Options options : new Checkpoint.Options[] {
                Checkpoint.Options.fromFile().withBatchFirst(true),                          // fc found as the only fit
                Checkpoint.Options.fromFile().withBatchFirst(true).withHeadPrefix("fc")}) {  // or named
            try (SequenceModel model = SequenceModel.load(DIR.resolve("model.safetensors"), Device.CPU, options)) {
                assertTrue(model.batchFirst());
                Tensor prediction = model.predict(x);
                assertArrayEquals(expected.shape(), prediction.shape());
                for (int i = 0; i < expected.numel(); i++) {
                    assertEquals(expected.data()[i], prediction.data()[i], TOLERANCE, "prediction[" + i + "]");
                }
            }
        }
    }

    @Test
    void aSavedBatchFirstModelLoadsBatchFirstAndPredictsTheSame(@TempDir Path dir) throws IOException {
        Tensor x = Safetensors.readFloatTensors(DIR.resolve("input.safetensors")).get("x");
        Path saved = dir.resolve("model.safetensors");
        Tensor before;
        try (SequenceModel model = SequenceModel.load(DIR.resolve("model.safetensors"), Device.CPU,
                Checkpoint.Options.fromFile().withBatchFirst(true))) {
            before = model.predict(x);
            model.save(saved);
        }
        try (SequenceModel again = SequenceModel.load(saved, Device.CPU)) {
            assertTrue(again.batchFirst(), "the layout is in the file's metadata");
            assertEquals(LinearHead.Mode.LAST_STEP, again.head().mode());
            assertArrayEquals(before.data(), again.predict(x).data());
            assertArrayEquals(new int[] {4, 2}, again.predict(x).shape());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.load(saved, Checkpoint.Options.fromFile().withBatchFirst(false)));
        assertTrue(e.getMessage().contains("saved batch-first"), e.getMessage());
    }

    @Test
    void aHeadThatCannotBeFoundIsReportedWithTheLinearLayersFound(@TempDir Path dir) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(Safetensors.readFloatTensors(DIR.resolve("model.safetensors")));
        tensors.put("aux.weight", Tensor.zeros(5, 8));
        tensors.put("aux.bias", Tensor.zeros(5));
        Path two = dir.resolve("two-heads.safetensors");
        Safetensors.write(two, tensors, Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(two));
        assertTrue(e.getMessage().contains("2 linear layers read the LSTM's 8 outputs")
                && e.getMessage().contains("aux [5, 8]") && e.getMessage().contains("fc [2, 8]")
                && e.getMessage().contains("--head-prefix"), e.getMessage());
        assertEquals(5, Checkpoint.load(two, Checkpoint.Options.fromFile().withHeadPrefix("aux")).headWeight().dim(0));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.load(two, Checkpoint.Options.fromFile().withHeadPrefix("decoder")));
        assertTrue(missing.getMessage().contains("no head 'decoder.weight'")
                && missing.getMessage().contains("linear layers found: aux [5, 8], fc [2, 8]"), missing.getMessage());
    }
}
