package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.internal.Backends;
import jlstm.EngineOptions.Precision;
import jlstm.LstmBackend;
import jlstm.Tensor;
import jlstm.internal.cuda.CudaPrecisionGoldenTest;
import jlstm.internal.cuda.CudaStandIn;
import jlstm.io.Safetensors;

/**
 * The commands on the CUDA backend: {@code info} names the device (and says so plainly when it is
 * the CPU stand-in), {@code bench} labels stand-in rows {@code cuda-standin} with a note that
 * their times mean nothing, {@code train --device cuda} trains with the step on the device.
 */
@Tag("cuda")
class CudaCliTest {
    @TempDir
    Path dir;

    @BeforeEach
    void requireCuda() {
        LstmBackend.Availability a = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
    }

    @Test
    void infoNamesTheDeviceAndTheStandIn() {
        CliTest.Result r = CliTest.execute("info");
        assertEquals(0, r.status(), r.err());
        String cuda = r.out().lines().filter(l -> l.startsWith("cuda")).findFirst().orElseThrow();
        assertTrue(cuda.contains("available:"), cuda);
        assertEquals(CudaStandIn.active(), cuda.contains("jlstm CPU stand-in (not a GPU)"), cuda);
        if (CudaStandIn.active()) {
            assertTrue(cuda.contains("times mean nothing"), cuda);
        }
    }

    @Test
    void benchLabelsStandInRows() {
        CliTest.Result r = CliTest.execute("bench", "--device", "cuda", "--shape", "3,2,4,8,1", "--reps", "1",
                "--warmup", "0", "--lengths", "--cell");
        assertEquals(0, r.status(), r.err());
        String label = CudaStandIn.active() ? "cuda-standin " : "cuda ";
        // one row each in the main table, the lengths table and the cell table
        assertEquals(3, r.out().lines().filter(l -> l.startsWith(label)).count(), r.out());
        assertTrue(r.out().contains("LstmCell stepped by hand"), r.out());
        assertEquals(CudaStandIn.active(), r.out().contains("their times mean nothing"), r.out());
    }

    @Test
    void trainOnCudaRunsTheStepOnTheDevice() throws Exception {
        Path out = dir.resolve("run");
        CommandRun.Outcome o = CommandRun.execute("train", "--device", "cuda", "--epochs", "1",
                "--samples", "64", "--hidden", "4", "--seq-len", "6", "--batch", "16", "--out", out.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().contains("head, loss, clipping and optimizer run on the GPU too"), o.out());
        assertTrue(o.lastLine().startsWith("result: task=adding device=cuda metric=mse"), o.lastLine());
        assertTrue(Files.size(out.resolve("checkpoint.safetensors")) > 0);
    }

    @Test
    void runWithAPrecisionMatchesThatModesGolden() throws Exception {
        Path folder = CudaPrecisionGoldenTest.caseFolder("b1_odd_hidden");
        for (Precision precision : new Precision[] {Precision.TF32, Precision.BF16}) {
            String mode = precision.name().toLowerCase(java.util.Locale.ROOT);
            Path out = dir.resolve(mode + ".safetensors");
            CommandRun.Outcome o = CommandRun.execute("run", "--device", "cuda", "--precision", mode, "--model",
                    folder.resolve("model.safetensors").toString(), "--input",
                    folder.resolve("input.safetensors").toString(), "--output", out.toString());
            assertEquals(0, o.status(), o.err());
            assertTrue(o.err().contains("precision " + mode), o.err());
            java.util.Map<String, Tensor> expected = Safetensors.readFloatTensors(
                    folder.resolve("expected." + mode + ".safetensors"));
            java.util.Map<String, float[]> got = new java.util.HashMap<>();
            Safetensors.readFloatTensors(out).forEach((name, t) -> got.put(name, t.data()));
            double distance = CudaPrecisionGoldenTest.caseDistance(expected, got);
            assertTrue(distance <= CudaPrecisionGoldenTest.caseTolerance(precision), mode + ": " + distance);
        }
    }

    @Test
    void benchAndTrainTakeAPrecision() throws Exception {
        CliTest.Result r = CliTest.execute("bench", "--device", "cuda", "--precision", "tf32", "--shape", "3,2,4,8,1",
                "--reps", "1", "--warmup", "0");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("precision: tf32"), r.out());
        String label = (CudaStandIn.active() ? "cuda-standin" : "cuda") + "@tf32 ";
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith(label)), r.out());

        CommandRun.Outcome o = CommandRun.execute("train", "--device", "cuda", "--precision", "bf16", "--epochs", "1",
                "--samples", "32", "--hidden", "4", "--seq-len", "5", "--batch", "16", "--out",
                dir.resolve("bf16").toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().contains("device cuda, precision bf16"), o.out());
        assertTrue(o.lastLine().startsWith("result: task=adding device=cuda"), o.lastLine());
    }
}
