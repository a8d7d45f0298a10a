package jlstm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.Tensor;

/**
 * The writer streams: a tensor's values are converted to bytes a piece at a time as they are
 * written, so writing costs no second copy of the outputs (which once put a run's outputs in the
 * heap twice) and sizes are long throughout (one ByteBuffer per tensor once failed at 2 GiB with
 * "capacity &lt; 0").
 */
class StreamingWriteTest {
    @TempDir
    Path dir;

    @Test
    void writingA64MiBTensorAllocatesOnlyAPiece() throws IOException {
        var threads = ManagementFactory.getThreadMXBean();
        assumeTrue(threads instanceof com.sun.management.ThreadMXBean, "no per-thread allocation counter here");
        com.sun.management.ThreadMXBean counter = (com.sun.management.ThreadMXBean) threads;
        Tensor big = Tensor.zeros(16 << 20); // 64 MiB of floats
        for (int i = 0; i < big.numel(); i += 4099) {
            big.data()[i] = i * 0.5f;
        }
        Path file = dir.resolve("big.safetensors");
        long thread = Thread.currentThread().getId();
        long before = counter.getThreadAllocatedBytes(thread);
        Safetensors.write(file, Map.of("y", big), Map.of("k", "v"));
        long allocated = counter.getThreadAllocatedBytes(thread) - before;
        assertTrue(allocated < 8L << 20, "writing 64 MiB allocated " + allocated + " bytes (a second copy?)");
        long size = Files.size(file);
        assertTrue(size > 64L << 20 && size < (64L << 20) + 1024, size + " bytes"); // a header of a few dozen bytes
        assertArrayEquals(big.data(), Safetensors.read(file).require(file, "y").toTensor().data());
    }

    @Test
    void anEntryOverATensorHasALongByteSizeAndItsBytes() {
        Tensor t = Tensor.of(new float[] {1.5f, -2f, Float.NaN, Float.NEGATIVE_INFINITY}, 2, 2);
        SafetensorsEntry e = SafetensorsEntry.of("t", t);
        assertEquals(16L, e.byteSize());
        byte[] b = e.bytes();
        assertEquals(16, b.length);
        assertEquals(Float.floatToRawIntBits(1.5f), java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt());
        assertArrayEquals(t.data(), e.toTensor().data());
    }
}
