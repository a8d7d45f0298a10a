package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.Device;
import jlstm.Tensor;
import jlstm.io.Safetensors;
import jlstm.train.Checkpoint;
import jlstm.train.SequenceModel;

/** {@code run} with whole models: {@code --head-prefix} applies a PyTorch export's head; a layout mismatch is flagged. */
class RunModelCliTest {
    private static final Path DIR = Path.of("src", "test", "resources", "model-export");

    @Test
    void headPrefixWritesThePredictionPyTorchMade(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("out.safetensors");
        CommandRun.Outcome o = CommandRun.execute("run", "--model", DIR.resolve("model.safetensors").toString(),
                "--input", DIR.resolve("input.safetensors").toString(), "--output", out.toString(), "--batch-first",
                "--head-prefix", "fc", "--device", "cpu");
        assertEquals(0, o.status(), o.err());
        Tensor prediction = Safetensors.readFloatTensors(out).get("prediction");
        Tensor expected = Safetensors.readFloatTensors(DIR.resolve("expected.safetensors")).get("prediction");
        assertArrayEquals(expected.shape(), prediction.shape());
        for (int i = 0; i < expected.numel(); i++) {
            assertEquals(expected.data()[i], prediction.data()[i], 2e-6, "prediction[" + i + "]");
        }
        CommandRun.Outcome wrong = CommandRun.execute("run", "--model", DIR.resolve("model.safetensors").toString(),
                "--input", DIR.resolve("input.safetensors").toString(), "--output", dir.resolve("o2").toString(),
                "--batch-first", "--head-prefix", "out", "--device", "cpu");
        assertEquals(1, wrong.status());
        assertTrue(wrong.err().contains("no head 'out.weight'") && wrong.err().contains("linear layers found: fc [2, 8]"),
                wrong.err());
    }

    @Test
    void aBatchFirstModelRunWithoutTheFlagIsFlagged(@TempDir Path dir) throws IOException {
        Path saved = dir.resolve("model.safetensors");
        try (SequenceModel m = SequenceModel.load(DIR.resolve("model.safetensors"), Device.CPU,
                Checkpoint.Options.fromFile().withBatchFirst(true))) {
            m.save(saved);
        }
        String[] base = {"run", "--model", saved.toString(), "--input", DIR.resolve("input.safetensors").toString(),
                "--device", "cpu", "--output"};
        CommandRun.Outcome missing = CommandRun.execute(concat(base, dir.resolve("a").toString()));
        assertEquals(0, missing.status(), missing.err());   // [4, 6, 3] read as T=4, B=6 runs: hence the warning
        assertTrue(missing.err().contains("warning: " + saved + " was saved batch-first"), missing.err());
        CommandRun.Outcome given = CommandRun.execute(concat(base, dir.resolve("b").toString(), "--batch-first"));
        assertEquals(0, given.status(), given.err());
        assertFalse(given.err().contains("warning"), given.err());
        // With h0 the shapes tell: a batch-first x without the flag fails with a hint.
        Path input = dir.resolve("in.safetensors");
        Tensor x = Safetensors.readFloatTensors(DIR.resolve("input.safetensors")).get("x");   // [B=4, T=6, 3]
        Safetensors.write(input, Map.of("x", x, "h0", Tensor.zeros(1, 4, 8), "c0", Tensor.zeros(1, 4, 8)), Map.of());
        CommandRun.Outcome hinted = CommandRun.execute("run", "--model", DIR.resolve("model.safetensors").toString(),
                "--input", input.toString(), "--output", dir.resolve("c").toString(), "--device", "cpu");
        assertEquals(1, hinted.status());
        assertTrue(hinted.err().contains("looks batch-first: add --batch-first"), hinted.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
