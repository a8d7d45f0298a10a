package jlstm.examples;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * A reader of MNIST's IDX files of unsigned bytes: a big-endian header — two zero bytes, the type
 * code 0x08 (unsigned byte), the number of dimensions d, then d sizes as 4-byte integers — followed
 * by the product of the sizes in bytes, the last dimension fastest. So images are magic 2051
 * (0x00000803: bytes, 3 dimensions: count, rows, columns) and labels magic 2049 (0x00000801: bytes,
 * 1 dimension: count). Gzip-compressed files are recognised by their first two bytes and
 * decompressed on the fly.
 *
 * <p>Every inconsistency is an {@link IOException} naming the file and what is wrong: another
 * magic number, a size that is negative or too large for one array, a body shorter than the header
 * says (truncated), bytes after the body, or a damaged gzip stream.
 *
 * @param dims the sizes from the header, outermost first
 * @param data the body, {@code dims[0] · … · dims[d-1]} bytes (read as unsigned: {@code data[i] & 0xff})
 */
record IdxFile(int[] dims, byte[] data) {
    /** The magic number of an IDX file of unsigned bytes with 3 dimensions (MNIST's images). */
    static final int IMAGES_MAGIC = 0x00000803;
    /** The magic number of an IDX file of unsigned bytes with 1 dimension (MNIST's labels). */
    static final int LABELS_MAGIC = 0x00000801;

    /**
     * Reads a whole IDX file of unsigned bytes, plain or gzip-compressed.
     *
     * @param in            the file's bytes; read to the end, not closed
     * @param source        the file's name, for messages
     * @param expectedMagic {@link #IMAGES_MAGIC}, {@link #LABELS_MAGIC}, or another 0x000008dd
     * @throws IOException when the file is not such an IDX file, or is truncated, too long or damaged
     */
    static IdxFile read(InputStream in, String source, int expectedMagic) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(in);
        buffered.mark(2);
        int b0 = buffered.read(), b1 = buffered.read();
        buffered.reset();
        InputStream body = buffered;
        if (b0 == 0x1f && b1 == 0x8b) {
            try {
                body = new GZIPInputStream(buffered);
            } catch (ZipException | EOFException e) {
                throw new IOException(source + ": damaged gzip header (" + e.getMessage() + ")", e);
            }
        }
        try {
            return parse(body, source, expectedMagic);
        } catch (ZipException e) {
            throw new IOException(source + ": damaged gzip stream (" + e.getMessage() + ")", e);
        }
    }

    private static IdxFile parse(InputStream in, String source, int expectedMagic) throws IOException {
        byte[] header = new byte[4];
        int got = readFully(in, header);
        if (got < 4) {
            throw new IOException(source + ": truncated: " + got + " bytes, too short for an IDX header");
        }
        int magic = bigEndian(header, 0);
        if (magic != expectedMagic) {
            throw new IOException(String.format("%s: magic number 0x%08x (%d), expected 0x%08x (%d): not an IDX file"
                    + " of %d-dimensional unsigned bytes", source, magic, magic, expectedMagic, expectedMagic,
                    expectedMagic & 0xff));
        }
        int d = header[3] & 0xff;
        byte[] sizeBytes = new byte[4 * d];
        got = readFully(in, sizeBytes);
        if (got < sizeBytes.length) {
            throw new IOException(source + ": truncated in the header: " + (4 + got) + " of " + (4 + sizeBytes.length)
                    + " bytes");
        }
        int[] dims = new int[d];
        long total = 1;
        for (int k = 0; k < d; k++) {
            dims[k] = bigEndian(sizeBytes, 4 * k);
            if (dims[k] < 0) {
                throw new IOException(source + ": size " + k + " is " + Integer.toUnsignedLong(dims[k])
                        + ", more than an IDX reader of Java arrays takes (at most " + Integer.MAX_VALUE + ")");
            }
            total *= dims[k];
            if (total > Integer.MAX_VALUE - 8) {
                throw new IOException(source + ": sizes " + Arrays.toString(Arrays.copyOf(dims, k + 1))
                        + "... give more than " + (Integer.MAX_VALUE - 8) + " bytes, more than one array holds");
            }
        }
        byte[] data = new byte[(int) total];
        got = readFully(in, data);
        if (got < data.length) {
            throw new IOException(source + ": truncated: the header " + Arrays.toString(dims) + " promises " + total
                    + " bytes of data, the file holds " + got);
        }
        if (in.read() != -1) {
            throw new IOException(source + ": bytes after the " + total + " bytes of data that the header "
                    + Arrays.toString(dims) + " describes: not an IDX file of that shape");
        }
        return new IdxFile(dims, data);
    }

    /** Reads until {@code buffer} is full or the stream ends; returns the bytes read. */
    private static int readFully(InputStream in, byte[] buffer) throws IOException {
        int n = 0;
        try {
            while (n < buffer.length) {
                int r = in.read(buffer, n, buffer.length - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
        } catch (EOFException e) {
            // GZIPInputStream: a compressed stream cut short ("Unexpected end of ZLIB input stream")
            return n;
        }
        return n;
    }

    private static int bigEndian(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }
}
