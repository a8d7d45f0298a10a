package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.Device;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.Safetensors;
import jlstm.train.Checkpoint;
import jlstm.train.SequenceModel;

/** The train command: a tiny end-to-end run, resuming, the checkpoint in run, and bad arguments. */
class TrainCommandTest {


    private static final String[] TINY = {"--epochs", "2", "--hidden", "4", "--seq-len", "6", "--samples", "64",
            "--batch", "16", "--device", "cpu"};

    private static String[] tiny(Path out, String... more) {
        String[] args = new String[2 + TINY.length + 2 + more.length];
        args[0] = "train";
        args[1] = "--task=adding";
        System.arraycopy(TINY, 0, args, 2, TINY.length);
        args[2 + TINY.length] = "--out";
        args[3 + TINY.length] = out.toString();
        System.arraycopy(more, 0, args, 4 + TINY.length, more.length);
        return args;
    }

    @Test
    void tinyRunWritesCheckpointChartAndSummaryLine(@TempDir Path dir) throws Exception {
        CommandRun.Outcome o = CommandRun.execute(tiny(dir));
        assertEquals(0, o.status(), o.err());
        assertTrue(o.lastLine().matches(
                "result: task=adding device=cpu metric=mse value=[0-9.]+ baseline=[0-9.]+"), o.lastLine());
        assertTrue(o.out().contains("epoch   2/2"), o.out());
        assertTrue(Files.size(dir.resolve("learning-curve.png")) > 1000);
        Checkpoint c = Checkpoint.load(dir.resolve("checkpoint.safetensors"));
        assertEquals("adding", c.metadata().get("task"));
        assertEquals("2", c.metadata().get("epoch"));
        assertEquals(4, c.lstm().config().hiddenSize());
        assertEquals(2, c.metadata().get("history.train_loss").split(",").length);
        assertTrue(c.optimizerTensors().containsKey("optimizer.exp_avg.weight_hh_l0"));
    }

    @Test
    void airlineRunWritesTheForecastChart(@TempDir Path dir) throws Exception {
        CommandRun.Outcome o = CommandRun.execute("train", "--task", "airline", "--epochs", "1", "--hidden", "4", "--device", "cpu", "--out",
                dir.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.lastLine().matches(
                "result: task=airline device=cpu metric=rmse value=[0-9.]+ baseline=[0-9.]+"), o.lastLine());
        assertTrue(Files.size(dir.resolve("forecast.png")) > 1000);
    }

    @Test
    void resumeContinuesTheEpochCountAndTheSameRunGivesTheSameParameters(@TempDir Path dir) throws Exception {
        Path twoEpochs = dir.resolve("a");
        assertEquals(0, CommandRun.execute(tiny(twoEpochs)).status());
        Path resumed = dir.resolve("b");
        CommandRun.Outcome o = CommandRun.execute("train", "--resume", twoEpochs.resolve("checkpoint.safetensors").toString(), "--epochs",
                "1", "--batch", "16", "--device", "cpu", "--out", resumed.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().contains("epoch   3/3"), o.out());
        assertTrue(o.out().contains("state restored at step 8"), o.out());
        // Three epochs straight reach the very same parameters.
        Path straight = dir.resolve("c");
        String[] args = tiny(straight);
        args[3] = "3";
        assertEquals(0, CommandRun.execute(args).status());
        Map<String, Tensor> a = Safetensors.readFloatTensors(resumed.resolve("checkpoint.safetensors"));
        Map<String, Tensor> b = Safetensors.readFloatTensors(straight.resolve("checkpoint.safetensors"));
        assertEquals(a.keySet(), b.keySet());
        a.forEach((name, t) -> assertArrayEquals(b.get(name).data(), t.data(), name));
        assertEquals(3, Checkpoint.load(resumed.resolve("checkpoint.safetensors")).metadata()
                .get("history.heldout").split(",").length);
    }

    @Test
    void checkpointRoundTripsAndItsLstmPartRunsInTheRunCommand(@TempDir Path dir) throws Exception {
        assertEquals(0, CommandRun.execute(tiny(dir)).status());
        Path file = dir.resolve("checkpoint.safetensors");
        Checkpoint c = Checkpoint.load(file);
        Tensor x = Tensor.zeros(6, 3, 2);
        for (int i = 0; i < x.numel(); i++) {
            x.data()[i] = (float) Math.sin(i * 0.37);
        }
        // Save → load → identical outputs of the whole model.
        Tensor before;
        try (SequenceModel m = new SequenceModel(LstmLayer.create(c.lstm(), Device.CPU), c.head())) {
            before = m.predict(x);
            Checkpoint.save(dir.resolve("again.safetensors"), m, null, Map.of("task", "adding"));
        }
        Checkpoint again = Checkpoint.load(dir.resolve("again.safetensors"));
        try (SequenceModel m = new SequenceModel(LstmLayer.create(again.lstm(), Device.CPU), again.head())) {
            assertArrayEquals(before.data(), m.predict(x).data());
        }
        // The run command reads the same file as a model (head and optimizer tensors ignored).
        LstmParameters lstmOnly = LstmParameters.load(file);
        assertEquals(c.lstm().names(), lstmOnly.names());
        Path input = dir.resolve("x.safetensors"), output = dir.resolve("y.safetensors");
        Safetensors.write(input, Map.of("x", x), Map.of());
        CommandRun.Outcome run = CommandRun.execute("run", "--model", file.toString(), "--input", input.toString(), "--output",
                output.toString(), "--device", "cpu");
        assertEquals(0, run.status(), run.err());
        LstmOutput expected;
        try (LstmLayer layer = LstmLayer.create(lstmOnly, Device.CPU)) {
            expected = layer.forward(x);
        }
        assertArrayEquals(expected.y().data(), Safetensors.readFloatTensors(output).get("y").data());
    }

    private static void assertFailsWith(CommandRun.Outcome o, String fragment) {
        assertNotEquals(0, o.status(), "should fail: " + o.out());
        assertTrue(o.err().contains(fragment), "stderr should mention '" + fragment + "':\n" + o.err());
        assertTrue(!o.err().contains("\tat jlstm."), "no stack trace expected:\n" + o.err());
    }

    @Test
    void badArgumentsGiveClearErrors(@TempDir Path dir) throws Exception {
        assertFailsWith(CommandRun.execute("train", "--task", "sorting"), "unknown --task 'sorting'");
        assertFailsWith(CommandRun.execute("train", "--hidden", "0"), "--hidden must be 1 to 23170, got 0");
        assertFailsWith(CommandRun.execute("train", "--epochs", "-3"), "--epochs must be 1 to 1000000, got -3");
        assertFailsWith(CommandRun.execute("train", "--batch", "0"), "--batch must be at least 1");
        assertFailsWith(CommandRun.execute("train", "--lr", "-0.1"), "--lr must be a positive number");
        assertFailsWith(CommandRun.execute("train", "--device", "tpu"), "unknown device 'tpu'");
        assertFailsWith(CommandRun.execute("train", "--task", "airline", "--seq-len", "500", "--out", dir.resolve("w").toString()),
                "window (--seq-len) must be 1 to 60");
        assertFailsWith(CommandRun.execute("train", "--task", "airline", "--samples", "10"), "--samples applies to the adding task only");
        assertFailsWith(CommandRun.execute("train", "--optimizer", "rmsprop"), "unknown --optimizer 'rmsprop'");
        assertFailsWith(CommandRun.execute("train", "--resume", dir.resolve("missing.safetensors").toString()), "file not found");
        Path garbage = dir.resolve("garbage.safetensors");
        Files.writeString(garbage, "this is not a checkpoint");
        assertFailsWith(CommandRun.execute("train", "--resume", garbage.toString()), "garbage.safetensors");
    }

    @Test
    void checkpointOfAnotherShapeOrTaskIsRejected(@TempDir Path dir) throws Exception {
        assertEquals(0, CommandRun.execute(tiny(dir.resolve("a"))).status());
        String ckpt = dir.resolve("a").resolve("checkpoint.safetensors").toString();
        assertFailsWith(CommandRun.execute("train", "--resume", ckpt, "--hidden", "8"),
                "--hidden 8 does not match the checkpoint");
        assertFailsWith(CommandRun.execute("train", "--resume", ckpt, "--task", "airline"), "was trained on adding");
        // A bare LSTM model (no head) is not a training checkpoint.
        Path bare = dir.resolve("bare.safetensors");
        LstmParameters.load(Path.of(ckpt)).save(bare);
        assertFailsWith(CommandRun.execute("train", "--resume", bare.toString()), "not a training checkpoint");
    }
}
