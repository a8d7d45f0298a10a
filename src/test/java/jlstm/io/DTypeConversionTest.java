package jlstm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.Tensor;

/**
 * Conversions to float32 (F16, BF16, F64), reading through memory mapping (tensors split across
 * mapped chunks, files over 2 GiB), and the permissions of written files.
 */
class DTypeConversionTest {
    @TempDir
    Path dir;

    /**
     * All 65 536 half-precision bit patterns against numpy's conversion (which widens NaN payloads
     * the same way): CRC-32 of the float32 bits, little-endian, from
     * {@code np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32).view('<u4')}.
     */
    @Test
    void everyHalfConvertsAsNumpyDoes() {
        ByteBuffer bits = ByteBuffer.allocate(4 * 65536).order(ByteOrder.LITTLE_ENDIAN);
        for (int h = 0; h < 65536; h++) {
            bits.putInt(Float.floatToRawIntBits(SafetensorsEntry.halfToFloat((short) h)));
        }
        CRC32 crc = new CRC32();
        crc.update(bits.array());
        assertEquals(0xe0c069f3L, crc.getValue());
        assertEquals(1f, SafetensorsEntry.halfToFloat((short) 0x3c00));
        assertEquals(0x1p-24f, SafetensorsEntry.halfToFloat((short) 0x0001));
        assertEquals(65504f, SafetensorsEntry.halfToFloat((short) 0x7bff));
    }

    @Test
    void floatTypesConvertAndOthersAreRefused() {
        // BF16 0x3fc0 = 1.5, 0xc120 = -10; F64 rounds to the nearest float (and overflows to infinity).
        ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3fc0)
                .putShort((short) 0xc120);
        assertArrayEquals(new float[] {1.5f, -10f},
                new SafetensorsEntry("b", DType.BF16, new int[] {2}, bf16.array()).toTensor().data());
        ByteBuffer f64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-1e300);
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY},
                new SafetensorsEntry("d", DType.F64, new int[] {2}, f64.array()).toTensor().data());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SafetensorsEntry("n", DType.I64, new int[] {1}, new byte[8]).toTensor());
        assertTrue(e.getMessage().contains("'n'") && e.getMessage().contains("I64"), e.getMessage());
        assertArrayEquals(new long[] {255}, new SafetensorsEntry("u", DType.U8, new int[] {1}, new byte[] {-1}).toLongs());
        assertArrayEquals(new long[] {-1}, new SafetensorsEntry("i", DType.I8, new int[] {1}, new byte[] {-1}).toLongs());
    }

    /** A tensor spread over several mapped chunks (here 16 bytes each) reads back whole, in every dtype. */
    @Test
    void tensorsSpanningMappedChunksReadWhole() throws IOException {
        float[] values = new float[37];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.25f - 3;
        }
        Path f = dir.resolve("chunks.safetensors");
        ByteBuffer f16 = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            f16.putShort(toHalfExact(v));
        }
        Safetensors.writeEntries(f, List.of(SafetensorsEntry.of("a", Tensor.of(values, values.length)),
                new SafetensorsEntry("h", DType.F16, new int[] {values.length}, f16.array())), Map.of());
        Safetensors.Contents c = Safetensors.read(f, 16);
        assertArrayEquals(values, c.entries().get("a").toTensor().data());
        assertArrayEquals(values, c.entries().get("h").toTensor().data());
    }

    @Test
    void parsingBytesInMemoryGivesWhatReadingTheFileGives() throws IOException {
        Path f = dir.resolve("p.safetensors");
        Safetensors.write(f, Map.of("a", Tensor.of(new float[] {1, -2, 3}, 3)), Map.of("k", "v"));
        Safetensors.Contents parsed = Safetensors.parse(f, Files.readAllBytes(f));
        assertEquals(Map.of("k", "v"), parsed.metadata());
        assertArrayEquals(new float[] {1, -2, 3}, parsed.entries().get("a").toTensor().data());
        assertArrayEquals(Safetensors.read(f).entries().get("a").bytes(), parsed.entries().get("a").bytes());
    }

    /** Quarter steps from −3 to 6: exact in half precision. */
    private static short toHalfExact(float v) {
        for (int h = 0; h < 65536; h++) {
            if (SafetensorsEntry.halfToFloat((short) h) == v && (v != 0 || h == 0)) {
                return (short) h;
            }
        }
        throw new AssertionError(v + " is not a half");
    }

    /**
     * A file of more than 2 GiB (sparse, so it costs no disk): a 2 GiB + 16 byte U8 tensor that a
     * model would ignore, then a small F32 tensor whose offsets lie beyond 2³¹. The reader maps
     * rather than loads it, so this needs no heap; the small tensor reads back.
     */
    @Test
    void filesOverTwoGibibytesWork() throws IOException {
        long big = (1L << 31) + 16;
        String header = "{\"padding\":{\"dtype\":\"U8\",\"shape\":[2," + big / 2 + "],\"data_offsets\":[0," + big + "]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path f = dir.resolve("large.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
            raf.write(len.array());
            raf.write(h);
            raf.seek(8 + h.length + big);
            ByteBuffer x = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f);
            raf.write(x.array());
        }
        assertTrue(Files.size(f) > (1L << 31));
        Safetensors.Contents c = Safetensors.read(f);
        assertEquals(big, c.entries().get("padding").byteSize());
        assertArrayEquals(new float[] {1.5f, -2f}, c.entries().get("x").toTensor().data());
    }

    @Test
    void newFilesGetTheUsualPermissionsAndReplacedOnesKeepTheirMode() throws IOException {
        Path probe = Files.createFile(dir.resolve("probe")); // what the umask gives any new file here
        Set<PosixFilePermission> usual = Files.getPosixFilePermissions(probe);
        Path f = dir.resolve("new.safetensors");
        Safetensors.write(f, Map.of("x", Tensor.of(new float[] {1}, 1)), null);
        assertEquals(usual, Files.getPosixFilePermissions(f));

        Set<PosixFilePermission> custom = PosixFilePermissions.fromString("rw-r-----");
        Files.setPosixFilePermissions(f, custom);
        Safetensors.write(f, Map.of("x", Tensor.of(new float[] {2}, 1)), null);
        assertEquals(custom, Files.getPosixFilePermissions(f));
        assertArrayEquals(new float[] {2}, Safetensors.readFloatTensors(f).get("x").data());
    }

    @Test
    void writingThroughASymbolicLinkReplacesItsTargetAndKeepsTheLink() throws IOException {
        Path target = dir.resolve("real.safetensors");
        Safetensors.write(target, Map.of("x", Tensor.of(new float[] {1}, 1)), null);
        Path link = Files.createSymbolicLink(dir.resolve("link.safetensors"), target.getFileName());
        Safetensors.write(link, Map.of("x", Tensor.of(new float[] {3}, 1)), null);
        assertTrue(Files.isSymbolicLink(link));
        assertArrayEquals(new float[] {3}, Safetensors.readFloatTensors(target).get("x").data());
    }
}
