package jlstm.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;

/**
 * The IDX reader on files written here byte by byte: the header's magic number and sizes are
 * checked, plain and gzip files read alike, and a damaged file (truncated, too long, another magic
 * number, a broken gzip stream) is an IOException that says what is wrong.
 */
class IdxFileTest {

    /** An IDX file: magic 0x000008dd, the sizes, then the body. */
    private static byte[] idx(int magic, int[] dims, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + body.length); // big-endian by default
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(body);
        return b.array();
    }

    private static byte[] gzip(byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(plain);
        }
        return out.toByteArray();
    }

    private static IdxFile read(byte[] file, int magic) throws IOException {
        return IdxFile.read(new ByteArrayInputStream(file), "test.idx", magic);
    }

    private static byte[] body(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 37); // every value 0-255 turns up, including those >= 128
        }
        return b;
    }

    @Test
    void readsImagesAndLabelsPlainAndGzipped() throws IOException {
        byte[] pixels = body(3 * 4 * 5);
        byte[] file = idx(2051, new int[] {3, 4, 5}, pixels);
        for (byte[] f : new byte[][] {file, gzip(file)}) {
            IdxFile images = read(f, IdxFile.IMAGES_MAGIC);
            assertArrayEquals(new int[] {3, 4, 5}, images.dims());
            assertArrayEquals(pixels, images.data());
        }
        IdxFile labels = read(gzip(idx(2049, new int[] {4}, new byte[] {7, 0, 9, 3})), IdxFile.LABELS_MAGIC);
        assertArrayEquals(new int[] {4}, labels.dims());
        assertArrayEquals(new byte[] {7, 0, 9, 3}, labels.data());
        assertEquals(0x803, IdxFile.IMAGES_MAGIC);
        assertEquals(0x801, IdxFile.LABELS_MAGIC);
    }

    @Test
    void aTruncatedFileIsRefusedWithItsSizes() throws IOException {
        byte[] file = idx(2051, new int[] {2, 28, 28}, body(2 * 28 * 28));
        byte[] cut = Arrays.copyOf(file, file.length - 100);
        for (byte[] f : new byte[][] {cut, gzip(cut)}) {
            IOException e = assertThrows(IOException.class, () -> read(f, IdxFile.IMAGES_MAGIC));
            assertTrue(e.getMessage().contains("test.idx: truncated: the header [2, 28, 28] promises 1568 bytes of data,"
                    + " the file holds 1468"), e.getMessage());
        }
        // A gzip stream cut short (no trailer, part of the deflate data missing).
        byte[] z = gzip(file);
        IOException e = assertThrows(IOException.class, () -> read(Arrays.copyOf(z, z.length / 2),
                IdxFile.IMAGES_MAGIC));
        assertTrue(e.getMessage().startsWith("test.idx: truncated"), e.getMessage());
        // Cut inside the header.
        e = assertThrows(IOException.class, () -> read(Arrays.copyOf(file, 9), IdxFile.IMAGES_MAGIC));
        assertTrue(e.getMessage().contains("truncated in the header: 9 of 16 bytes"), e.getMessage());
        e = assertThrows(IOException.class, () -> read(new byte[] {0, 0}, IdxFile.IMAGES_MAGIC));
        assertTrue(e.getMessage().contains("truncated: 2 bytes, too short for an IDX header"), e.getMessage());
        e = assertThrows(IOException.class, () -> read(new byte[0], IdxFile.LABELS_MAGIC));
        assertTrue(e.getMessage().contains("truncated: 0 bytes"), e.getMessage());
    }

    @Test
    void anotherMagicNumberIsRefused() {
        byte[] labels = idx(2049, new int[] {3}, new byte[] {1, 2, 3});
        IOException e = assertThrows(IOException.class, () -> read(labels, IdxFile.IMAGES_MAGIC));
        assertTrue(e.getMessage().contains("magic number 0x00000801 (2049), expected 0x00000803 (2051)"), e.getMessage());
        // Floats (type 0x0d) with the right number of dimensions, and a file that is not IDX at all.
        e = assertThrows(IOException.class, () -> read(idx(0x0d01, new int[] {1}, new byte[4]), IdxFile.LABELS_MAGIC));
        assertTrue(e.getMessage().contains("magic number 0x00000d01"), e.getMessage());
        byte[] text = "label,pixel0,pixel1\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        e = assertThrows(IOException.class, () -> read(text, IdxFile.LABELS_MAGIC));
        assertTrue(e.getMessage().contains("not an IDX file of 1-dimensional unsigned bytes"), e.getMessage());
    }

    @Test
    void bytesAfterTheBodyAreRefused() {
        byte[] file = idx(2049, new int[] {3}, new byte[] {1, 2, 3, 4});
        IOException e = assertThrows(IOException.class, () -> read(file, IdxFile.LABELS_MAGIC));
        assertTrue(e.getMessage().contains("bytes after the 3 bytes of data that the header [3] describes"),
                e.getMessage());
    }

    @Test
    void impossibleSizesAreRefusedBeforeAnythingIsAllocated() {
        // 0x80000000 rows: negative as a Java int.
        IOException e = assertThrows(IOException.class, () -> read(idx(2051, new int[] {1, 0x80000000, 1}, new byte[0]),
                IdxFile.IMAGES_MAGIC));
        assertTrue(e.getMessage().contains("size 1 is 2147483648"), e.getMessage());
        // 65536 × 65536 × 1 bytes: more than one array holds.
        e = assertThrows(IOException.class, () -> read(idx(2051, new int[] {65536, 65536, 1}, new byte[0]),
                IdxFile.IMAGES_MAGIC));
        assertTrue(e.getMessage().contains("more than one array holds"), e.getMessage());
    }

    @Test
    void aDamagedGzipStreamIsRefused() throws IOException {
        byte[] z = gzip(idx(2049, new int[] {1000}, body(1000)));
        byte[] damaged = z.clone();
        for (int i = 12; i < 40; i++) {
            damaged[i] ^= (byte) 0x5a; // scramble the start of the deflate data
        }
        IOException e = assertThrows(IOException.class, () -> read(damaged, IdxFile.LABELS_MAGIC));
        assertTrue(e.getMessage().startsWith("test.idx: "), e.getMessage());
        // The gzip magic alone, no header after it.
        e = assertThrows(IOException.class, () -> read(new byte[] {0x1f, (byte) 0x8b, 8}, IdxFile.LABELS_MAGIC));
        assertTrue(e.getMessage().contains("damaged gzip header"), e.getMessage());
    }

    @Test
    void theStreamIsNotClosed() throws IOException {
        boolean[] closed = {false};
        InputStream in = new ByteArrayInputStream(idx(2049, new int[] {1}, new byte[] {5})) {
            @Override
            public void close() {
                closed[0] = true;
            }
        };
        assertArrayEquals(new byte[] {5}, IdxFile.read(in, "x", IdxFile.LABELS_MAGIC).data());
        assertTrue(!closed[0]);
    }
}
