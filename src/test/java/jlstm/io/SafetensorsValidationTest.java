package jlstm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.Tensor;

/**
 * The safetensors reader rejects every kind of malformed file with a message that names the file
 * (and the tensor where one is at fault); the writer round-trips and is atomic.
 */
class SafetensorsValidationTest {
    @TempDir
    Path dir;

    /** The bytes of a file: u64 little-endian header length, the header text, then {@code dataBytes} zero bytes. */
    static byte[] file(String header, int dataBytes) {
        return file(header, dataBytes, header.getBytes(StandardCharsets.UTF_8).length);
    }

    /** The same with a header length field that may lie. */
    static byte[] file(String header, int dataBytes, long declaredHeaderLength) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredHeaderLength).put(h);
        return b.array();
    }

    /** Writes the bytes to bad.safetensors, reads it and returns the error message. */
    private String readError(byte[] bytes) throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, bytes);
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(f));
        assertTrue(e.getMessage().startsWith(f + ": "), "the message must name the file: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
        }
    }

    /** A header nested past the parser's limit gives one short line, not the 800-character JSON path. */
    @Test
    void deeplyNestedJsonGivesAShortMessage() throws IOException {
        String header = "{\"a\":{\"x\":" + "[".repeat(300) + "]".repeat(300)
                + ",\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}";
        String message = readError(file(header, 0));
        assertContains(message, "invalid JSON header", "Nesting limit");
        assertTrue(message.length() < 250 && !message.contains("\n"), message.length() + ": " + message);
    }

    @Test
    void fileShorterThanTheHeaderLength() throws IOException {
        assertContains(readError(new byte[] {1, 2, 3}), "truncated", "3 bytes");
    }

    @Test
    void headerLengthPastTheEnd() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertContains(readError(file(header, 4, 1000)), "header length 1000", "runs past the end");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        byte[] bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5L).array();
        assertContains(readError(bytes), "header length", "not plausible");
    }

    @Test
    void truncatedData() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        assertContains(readError(file(header, 10)), "'a'", "run past the end", "10-byte data section");
    }

    @Test
    void invalidJson() throws IOException {
        assertContains(readError(file("{\"a\":{\"dtype\":\"F32\",", 0)), "invalid JSON");
        assertContains(readError(file("[1, 2]", 0)), "not a JSON object");
        assertContains(readError(file("{\"a\": 1,}", 0)), "'a'");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
        assertContains(readError(file(header, 8)), "'a'", "data_offsets [8, 16]", "past the end");
        String reversed = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}";
        assertContains(readError(file(reversed, 8)), "'a'", "begin ≤ end");
        String negative = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}";
        assertContains(readError(file(negative, 4)), "'a'", "negative");
    }

    @Test
    void overlappingOffsets() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertContains(readError(file(header, 12)), "'b'", "overlap");
    }

    @Test
    void bytesBelongingToNoTensor() throws IOException {
        String hole = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertContains(readError(file(hole, 8)), "belong to no tensor", "'a'");
        String tail = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertContains(readError(file(tail, 8)), "8 bytes", "cover 4");
    }

    @Test
    void unknownDtype() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F17\",\"shape\":[2],\"data_offsets\":[0,4]}}";
        assertContains(readError(file(header, 4)), "'a'", "unknown or unsupported dtype 'F17'", "BF16");
    }

    @Test
    void byteCountNotShapeTimesDtypeSize() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        assertContains(readError(file(header, 8)), "'a'", "needs 12 bytes", "span 8");
    }

    @Test
    void duplicateNames() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertContains(readError(file(header, 8)), "duplicate tensor name 'a'");
    }

    @Test
    void missingOrIllTypedFields() throws IOException {
        assertContains(readError(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4)), "'a'", "data_offsets");
        assertContains(readError(file("{\"a\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", 4)),
                "'a'", "shape");
    }

    @Test
    void nonFloatTensorWhereFloatsAreNeeded() throws IOException {
        Path f = dir.resolve("ints.safetensors");
        Safetensors.writeEntries(f, List.of(new SafetensorsEntry("n", DType.I32, new int[] {1}, new byte[4])), null);
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                () -> Safetensors.readFloatTensors(f));
        assertContains(e.getMessage(), f.toString(), "'n'", "I32", "F32");
    }

    @Test
    void missingFileIsNamed() {
        Path f = dir.resolve("absent.safetensors");
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(f));
        assertContains(e.getMessage(), f.toString());
    }

    @Test
    void roundTripKeepsNamesOrderShapesBitsAndMetadata() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("z", Tensor.of(new float[] {1.5f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NaN, -3e-20f}, 2, 3));
        tensors.put("a", Tensor.of(new float[] {42f}, 1));
        tensors.put("scalar", Tensor.of(new float[] {7f}));
        tensors.put("empty", Tensor.zeros(0, 4));
        Path f = dir.resolve("round.safetensors");
        Safetensors.write(f, tensors, Map.of("producer", "test", "note", "ünïcode"));

        Safetensors.Contents back = Safetensors.read(f);
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.entries().keySet()));
        assertEquals(Map.of("producer", "test", "note", "ünïcode"), back.metadata());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = back.entries().get(e.getKey()).toTensor();
            assertArrayEquals(e.getValue().shape(), t.shape(), e.getKey());
            for (int i = 0; i < t.numel(); i++) {
                assertEquals(Float.floatToRawIntBits(e.getValue().data()[i]), Float.floatToRawIntBits(t.data()[i]),
                        e.getKey() + "[" + i + "]");
            }
        }
        // The data section starts 8-byte aligned, as the reference writer does.
        long headerLength = ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8);
    }

    @Test
    void roundTripOfIntegerEntries() throws IOException {
        ByteBuffer i64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).putLong(1L << 40);
        ByteBuffer i32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(5).putInt(-7);
        Path f = dir.resolve("ints.safetensors");
        Safetensors.writeEntries(f, List.of(new SafetensorsEntry("lengths", DType.I64, new int[] {2}, i64.array()),
                new SafetensorsEntry("small", DType.I32, new int[] {2}, i32.array())), Map.of());
        Safetensors.Contents back = Safetensors.read(f);
        assertArrayEquals(new long[] {-1L, 1L << 40}, back.require(f, "lengths").toLongs());
        assertArrayEquals(new long[] {5, -7}, back.require(f, "small").toLongs());
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> back.require(f, "x"));
        assertContains(e.getMessage(), f.toString(), "missing tensor 'x'");
    }

    @Test
    void writerLeavesNoTemporaryFileAndReplacesAnExistingFile() throws IOException {
        Path f = dir.resolve("out.safetensors");
        Files.writeString(f, "old contents");
        Safetensors.write(f, Map.of("x", Tensor.of(new float[] {1, 2}, 2)), null);
        assertEquals(List.of(f), listDir());
        assertArrayEquals(new float[] {1, 2}, Safetensors.readFloatTensors(f).get("x").data());
    }

    @Test
    void failedWriteLeavesNoTemporaryFileAndKeepsTheOldOne() throws IOException {
        Path f = dir.resolve("out.safetensors");
        Files.writeString(f, "old contents");
        SafetensorsEntry a = SafetensorsEntry.of("a", Tensor.of(new float[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.writeEntries(f, List.of(a, a), null));
        assertEquals(List.of(f), listDir());
        assertEquals("old contents", Files.readString(f));
    }

    @Test
    void writingIntoAMissingFolderNamesIt() {
        Path f = dir.resolve("no-such-folder").resolve("out.safetensors");
        IOException e = assertThrows(IOException.class,
                () -> Safetensors.write(f, Map.of("x", Tensor.of(new float[] {1}, 1)), null));
        assertContains(e.getMessage(), "no-such-folder");
    }

    /**
     * Random damage to a good file (a changed header byte, or a cut at a random length) is either
     * harmless (the file still parses) or reported as a {@link SafetensorsFormatException} naming
     * the file: never another exception type, never a hang.
     */
    @Test
    void randomDamageIsAlwaysReportedAsAFormatError() throws IOException {
        Path good = dir.resolve("good.safetensors");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("weight", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        tensors.put("bias", Tensor.of(new float[] {7, 8}, 2));
        Safetensors.write(good, tensors, Map.of("k", "v"));
        byte[] original = Files.readAllBytes(good);
        int headerEnd = 8 + (int) ByteBuffer.wrap(original, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String printable = "{}[]\",:0123456789-. eE\\abcdefghijklmnopqrstuvwxyzFI_";
        java.util.SplittableRandom random = new java.util.SplittableRandom(99);
        Path bad = dir.resolve("damaged.safetensors");
        for (int trial = 0; trial < 3000; trial++) {
            byte[] bytes;
            if (trial % 3 == 0) {
                bytes = Arrays.copyOf(original, random.nextInt(original.length));
            } else {
                bytes = original.clone();
                int at = random.nextInt(headerEnd);
                bytes[at] = at < 8 ? (byte) random.nextInt(256) : (byte) printable.charAt(random.nextInt(printable.length()));
            }
            Files.write(bad, bytes);
            try {
                Safetensors.read(bad);
            } catch (SafetensorsFormatException e) {
                assertTrue(e.getMessage().startsWith(bad + ": "), e.getMessage());
            } catch (RuntimeException | IOException e) {
                throw new AssertionError("trial " + trial + ": " + e + " instead of a SafetensorsFormatException", e);
            }
        }
    }

    private List<Path> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
