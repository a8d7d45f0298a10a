package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.internal.Backends;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.train.Checkpoint;
import jlstm.train.LinearHead;
import jlstm.train.SequenceModel;

/**
 * One command line: every bad option value is exit 2 with one error line and one usage line,
 * out-of-range numbers are named with their bound, no arguments is a short usage, help texts
 * format cleanly and list every task's defaults.
 */
class CliConsistencyTest {

    /** Exit 2, an {@code error:} line containing {@code text}, then one usage line; nothing else. */
    private static void assertUsageError(CommandRun.Outcome o, String text) {
        assertEquals(2, o.status(), o.err());
        String[] lines = o.err().strip().split("\\R");
        assertEquals(2, lines.length, o.err());
        assertTrue(lines[0].startsWith("error: ") && lines[0].contains(text), o.err());
        assertTrue(lines[1].startsWith("usage: jlstm "), o.err());
    }

    @Test
    void badOptionValuesAreUsageErrorsNamingTheirBound() {
        assertUsageError(CommandRun.execute("train", "--device", "gpu"), "unknown device 'gpu' (expected auto, cpu, cuda or cuda:N");
        assertUsageError(CommandRun.execute("run", "--model", "m", "--input", "i", "--output", "o", "--device", "tpu"),
                "unknown device 'tpu'");
        assertUsageError(CommandRun.execute("train", "--samples", "2000000000"),
                "at most 21473836 training sequences (--samples) at this --seq-len");
        assertUsageError(CommandRun.execute("train", "--seq-len", "100000", "--samples", "100000"),
                "at most 9737 training sequences (--samples)");
        assertUsageError(CommandRun.execute("train", "--epochs", "2000000000"), "--epochs must be 1 to 1000000");
        assertUsageError(CommandRun.execute("train", "--hidden", "100000"), "--hidden must be 1 to 23170");
        assertUsageError(CommandRun.execute("train", "--layers", "0"), "--layers must be 1 to 100");
        assertUsageError(CommandRun.execute("train", "--task", "airline", "--seq-len", "61"), "1 to 60 months");
        assertUsageError(CommandRun.execute("train", "--task", "stocks", "--seq-len", "251"), "1 to 250 days");
        assertUsageError(CommandRun.execute("train", "--seq-len", "1"), "at least 2");
        assertUsageError(CommandRun.execute("train", "--samples", "99999999999"), "--samples");
        assertUsageError(CommandRun.execute("bench", "--reps", "2000000000"), "--reps must be 1 to 10000");
        assertUsageError(CommandRun.execute("run", "--model", "m", "--input", "i", "--output", "o", "--dropout", "2"),
                "--dropout must be a probability in [0, 1]");
    }

    @Test
    void noArgumentsIsAShortUsageAndVersionPrintsOne() {
        CommandRun.Outcome none = CommandRun.execute();
        assertEquals(2, none.status());
        assertEquals("", none.out());
        assertEquals(1, none.err().strip().split("\\R").length, none.err());
        assertTrue(none.err().startsWith("usage: jlstm <command> [options]   (commands: run, info, train, bench"),
                none.err());
        CommandRun.Outcome version = CommandRun.execute("--version");
        assertEquals(0, version.status());
        // From the jar's manifest (Implementation-Version); from classes, a development build.
        assertTrue(version.out().strip().matches("jlstm (\\d+\\.\\d+\\.\\d+\\S*|development build)"), version.out());
    }

    @Test
    void helpTextsFormatCleanlyAndListEveryTasksDefaults() {
        for (String command : new String[] {"run", "info", "train", "bench"}) {
            CommandRun.Outcome help = CommandRun.execute(command, "--help");
            assertEquals(0, help.status(), command);
            assertFalse((help.out() + help.err()).contains("picocli WARN"), command + ": " + help.err());
        }
        String train = CommandRun.execute("train", "--help").out();
        assertTrue(train.contains("on the last 20% of days"), train);
        for (Map.Entry<String, TrainCommand.TaskDefaults> e : TrainCommand.DEFAULTS.entrySet()) {
            TrainCommand.TaskDefaults d = e.getValue();
            String row = String.format(java.util.Locale.ROOT, "  %-8s %7d %7d %7d %8d %6d", e.getKey(), d.epochs(),
                    d.hidden(), d.layers(), d.seqLen(), d.batch());
            assertTrue(train.contains(row), "the defaults of " + e.getKey() + " in train --help:\n" + train);
        }
    }

    @Test
    void aCheckpointOfAnotherTaskSaysWhatCanBeResumed(@TempDir Path dir) throws IOException {
        Path foo = dir.resolve("foo.safetensors"), digits = dir.resolve("digits.safetensors");
        try (SequenceModel m = SequenceModel.create(LstmLayer.create(LstmParameters.initialize(LstmConfig.of(2, 4), 1),
                Backends.cpu()), 1, LinearHead.Mode.LAST_STEP, 1)) {
            Checkpoint.save(foo, m, null, Map.of("task", "foo"));
            Checkpoint.save(digits, m, null, Map.of("task", "digits"));
        }
        CommandRun.Outcome unknown = CommandRun.execute("train", "--resume", foo.toString(), "--out",
                dir.resolve("a").toString());
        assertEquals(1, unknown.status());
        assertTrue(unknown.err().contains("unknown task 'foo' (known tasks: adding, airline, digits, mnist, stocks)"),
                unknown.err());
        assertUsageError(CommandRun.execute("train", "--resume", digits.toString(), "--out", dir.resolve("b").toString()),
                "a checkpoint of task digits cannot be resumed");
    }
}
