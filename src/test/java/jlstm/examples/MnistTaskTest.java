package jlstm.examples;

import jlstm.train.SequenceDataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.cli.CommandRun;

/**
 * {@code train --task mnist}: the bundled MNIST files load as 10,000 digits of 28 rows of 28
 * pixels, the task is registered as a cell task, and a short run learns (well above the
 * majority-class baseline) and prints its result line.
 */
class MnistTaskTest {

    @Test
    void theBundledFilesHold10000DigitsOf28By28() {
        MnistDigits data = MnistDigits.load();
        SequenceDataset training = data.training(), heldOut = data.heldOut();
        assertEquals(8000, training.size());
        assertEquals(2000, heldOut.size());
        assertEquals(List.of(8000, 28, 28), List.of(training.size(), training.steps(), training.inputSize()));
        assertEquals(List.of(2000, 28, 28), List.of(heldOut.size(), heldOut.steps(), heldOut.inputSize()));
        int[] counts = new int[10];
        for (SequenceDataset d : List.of(training, heldOut)) {
            for (float label : d.targets().data()) {
                assertEquals(Math.rint(label), label, "a whole label");
                assertTrue(label >= 0 && label <= 9, "label " + label);
                counts[(int) label]++;
            }
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (float p : d.inputs().data()) {
                min = Math.min(min, p);
                max = Math.max(max, p);
            }
            assertEquals(0f, min, "pixels are grey levels / 255");
            assertEquals(1f, max, "pixels are grey levels / 255");
        }
        for (int k = 0; k < 10; k++) {
            assertTrue(counts[k] > 800 && counts[k] < 1200, "digit " + k + ": " + counts[k] + " of 10,000");
        }
        assertEquals(28, data.rows());
        assertEquals(28, data.pixels());
        assertEquals("mnist", data.name());
    }

    /** The first image's rows, read with the IDX reader here, are the dataset's first sequence. */
    @Test
    void theFirstImageIsTheFilesFirst784Bytes() throws IOException {
        IdxFile images;
        try (var in = MnistTaskTest.class.getResourceAsStream(MnistDigits.IMAGES)) {
            images = IdxFile.read(in, MnistDigits.IMAGES, IdxFile.IMAGES_MAGIC);
        }
        assertArrayEquals(new int[] {10000, 28, 28}, images.dims());
        float[] first = MnistDigits.load().training().inputs().data();
        int nonZero = 0;
        for (int p = 0; p < 784; p++) {
            assertEquals((images.data()[p] & 0xff) / 255f, first[p]);
            nonZero += images.data()[p] != 0 ? 1 : 0;
        }
        assertTrue(nonZero > 50 && nonZero < 400, "a digit covers part of its image: " + nonZero + " pixels");
    }

    @Test
    void filesOfAnotherShapeAreRefused() {
        IdxFile images = new IdxFile(new int[] {10000, 28, 27}, new byte[10000 * 28 * 27]);
        IdxFile labels = new IdxFile(new int[] {10000}, new byte[10000]);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MnistDigits.of(images, labels, "f"));
        assertTrue(e.getMessage().contains("the images are [10000, 28, 27], expected [10000, 28, 28]"), e.getMessage());
        IdxFile right = new IdxFile(new int[] {10000, 28, 28}, new byte[10000 * 784]);
        e = assertThrows(IllegalStateException.class, () -> MnistDigits.of(right, new IdxFile(new int[] {9999},
                new byte[9999]), "f"));
        assertTrue(e.getMessage().contains("9999 labels for 10000 images"), e.getMessage());
        byte[] y = new byte[10000];
        y[17] = 10;
        e = assertThrows(IllegalStateException.class, () -> MnistDigits.of(right, new IdxFile(new int[] {10000}, y),
                "f"));
        assertTrue(e.getMessage().contains("label 17 is 10, not a digit 0-9"), e.getMessage());
    }

    @Test
    void mnistIsRegisteredAsACellTask() {
        assertTrue(Tasks.NAMES.contains("mnist"));
        assertTrue(Tasks.isCellTask("mnist"));
        assertTrue(Tasks.isCellTask("digits"));
        assertTrue(!Tasks.isCellTask("adding"));
        assertEquals("mnist", Tasks.cellTask("mnist").name());
        assertEquals("digits", Tasks.cellTask("digits").name());
        assertThrows(IllegalArgumentException.class, () -> Tasks.create("mnist", 28, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Tasks.cellTask("adding"));
    }

    /** The first 2,000 training images, one epoch: far above always answering the most frequent digit. */
    @Test
    void aShortRunLearns() {
        MnistDigits all = MnistDigits.load();
        DigitImages subset = new DigitImages() {
            @Override
            public String name() {
                return "mnist";
            }

            @Override
            public String source() {
                return "the first 2,000 training images of mnist";
            }

            @Override
            public int rows() {
                return all.rows();
            }

            @Override
            public int pixels() {
                return all.pixels();
            }

            @Override
            public SequenceDataset training() {
                return all.training().slice(0, 2000);
            }

            @Override
            public SequenceDataset heldOut() {
                return all.heldOut();
            }

            @Override
            public double inputNoise() {
                return all.inputNoise();
            }
        };
        DigitsExample.Result r = DigitsExample.run(subset, new DigitsExample.Options(1, 32, 32, 0.01, 1, 0, 0), null);
        assertEquals(2000, r.scored());
        assertTrue(r.baseline() > 0.08 && r.baseline() < 0.15, "the majority-class baseline: " + r.baseline());
        assertTrue(r.accuracy() > 2 * r.baseline(), "held-out accuracy after one epoch of 2,000 images: "
                + r.accuracy() + " (baseline " + r.baseline() + ")");
        assertEquals(1, r.trainLoss().size());
        assertTrue(r.trainLoss().get(0) < Math.log(10), "mean training loss " + r.trainLoss().get(0)
                + " (guessing: ln 10)");
    }

    @Test
    void theTrainCommandRunsTheTask(@TempDir Path dir) throws IOException {
        CommandRun.Outcome o = CommandRun.execute("train", "--task", "mnist", "--epochs", "1", "--hidden", "8",
                "--out", dir.toString());
        assertEquals(0, o.status(), o.err());
        // The held-out images' most frequent digit in training is 1: 245 of the 2,000 held-out images.
        assertTrue(o.lastLine().matches("result: task=mnist device=cpu metric=accuracy value=[0-9.]+ baseline=0\\.1225"),
                o.lastLine());
        assertTrue(o.out().contains("model LstmCell(I=28, H=8) stepped over 28 rows + linear head -> 10"), o.out());
        assertTrue(Files.size(dir.resolve("checkpoint.safetensors")) > 4 * 4 * 8 * (28 + 8 + 2), "checkpoint");
        CommandRun.Outcome cuda = CommandRun.execute("train", "--task", "mnist", "--device", "cuda", "--out",
                dir.toString());
        assertEquals(2, cuda.status());
        assertTrue(cuda.err().contains("--task mnist runs on the CPU"), cuda.err());
        CommandRun.Outcome seqLen = CommandRun.execute("train", "--task", "mnist", "--seq-len", "14", "--out",
                dir.toString());
        assertEquals(2, seqLen.status());
        assertTrue(seqLen.err().contains("--seq-len does not apply to --task mnist"), seqLen.err());
    }
}
