package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The progress bar shows a measured throughput and the epoch's running mean loss, not the last batch's. */
class TrainingProgressTest {

    @Test
    void throughputAndRunningMeanLoss() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        TrainingProgress progress = new TrainingProgress(3, 96, new PrintStream(console, true, StandardCharsets.UTF_8));
        progress.epochStarted(1, 0.01);
        Thread.sleep(20);
        progress.batchDone(32, 0.9, 0.9, 32);
        Thread.sleep(20);
        progress.batchDone(32, 0.1, 0.5, 64); // the batch's loss 0.1, the epoch's mean so far 0.5
        String message = progress.extraMessage();
        assertTrue(message.matches(" [0-9,]+ seq/s, mean loss 0\\.5000"), message);
        assertFalse(message.contains("?"), message);
        assertFalse(message.contains("0.1000"), "the last batch's loss: " + message);
        // 64 sequences in at least 40 ms: at most 1,600 per second.
        long perSecond = Long.parseLong(message.trim().split(" ")[0].replace(",", ""));
        assertTrue(perSecond > 0 && perSecond <= 1600, message);
        progress.epochDone(null);
        assertNull(progress.extraMessage());
        assertTrue(console.toString(StandardCharsets.UTF_8).contains("epoch 1/3"), console.toString(StandardCharsets.UTF_8));
    }
}
