package jlstm.io;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import com.google.gson.stream.MalformedJsonException;

import org.jspecify.annotations.Nullable;

import jlstm.Tensor;
import jlstm.internal.io.AtomicFiles;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of
 * JSON ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"k": "v"}}}), then the raw little-endian data, offsets relative to its start.
 *
 * <p>Reading is strict, and every error names the file and the tensor: a file shorter than its
 * header, invalid JSON, a missing or ill-typed field, an unknown dtype, a byte count that is not
 * shape × dtype size, offsets out of range, overlapping or leaving holes, duplicate names.
 * Every safetensors dtype is accepted in a file ({@link DType}); which tensors are used, and
 * converted to float32, is up to the caller.
 *
 * <p>Reading maps the file into memory instead of loading it: opening a file of any size is
 * quick, and only the tensors whose values are asked for are read. The data section is mapped in a
 * few shared windows ({@link MappedData}), so a file takes one mapping per GiB of data whatever its
 * number of tensors (at most {@value #MAX_TENSORS}). Writing is atomic ({@link AtomicFiles}).
 */
public final class Safetensors {
    /** Headers above this are rejected before allocation (the reference implementation uses 100 MB). */
    static final long MAX_HEADER_BYTES = 100L << 20;
    /**
     * Headers listing more tensors than this are rejected: each tensor costs a few hundred bytes of
     * heap to describe, and a 100 MB header could otherwise list two million of them.
     */
    public static final int MAX_TENSORS = 100_000;
    private static final String METADATA = "__metadata__";

    private Safetensors() {
    }

    /** The parsed contents of a file: tensors in header order and the optional string metadata. */
    public record Contents(Map<String, SafetensorsEntry> entries, Map<String, String> metadata) {
        /**
         * The entry of a name, or an error naming the file when it is absent.
         *
         * @param file the file read, for the message
         * @param name the tensor's name
         * @return the entry
         * @throws SafetensorsFormatException if the file has no tensor of that name
         */
        public SafetensorsEntry require(Path file, String name) throws SafetensorsFormatException {
            SafetensorsEntry e = entries.get(name);
            if (e == null) {
                throw new SafetensorsFormatException(file, "missing tensor '" + name + "'");
            }
            return e;
        }
    }

    /**
     * Reads and validates a file's header and maps its data: tensors are views of the
     * memory-mapped file, read from disk only when their values are asked for, so files of any
     * size open at once (each tensor's values must still fit one Java array to be converted).
     *
     * @param file a safetensors file
     * @throws IOException                 if the file cannot be read
     * @throws SafetensorsFormatException if it is not valid safetensors (the message says where)
     * @return the entries in header order and the metadata (empty when the file has none)
     */
    public static Contents read(Path file) throws IOException {
        java.util.Objects.requireNonNull(file, "file");
        return read(file, MAX_CHUNK_BYTES);
    }

    /** The largest piece of a tensor mapped as one buffer (a buffer holds at most 2 GiB). */
    static final long MAX_CHUNK_BYTES = 1L << 30;

    /** {@link #read(Path)} with tensors mapped in pieces of at most {@code chunkBytes} (a multiple of 8). */
    static Contents read(Path file, long chunkBytes) throws IOException {
        if (java.nio.file.Files.isDirectory(file)) {
            throw new SafetensorsFormatException(file, "is a folder, not a safetensors file");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new SafetensorsFormatException(file, "truncated: " + size
                        + " bytes, shorter than the 8-byte header length");
            }
            long headerLength = readFully(channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
                throw new SafetensorsFormatException(file, "header length " + Long.toUnsignedString(headerLength)
                        + " is not plausible (2 to " + MAX_HEADER_BYTES + " bytes)");
            }
            if (8 + headerLength > size) {
                throw new SafetensorsFormatException(file, "header length " + headerLength + " runs past the end of the "
                        + size + "-byte file (truncated?)");
            }
            ByteBuffer headerBytes = readFully(channel, 8, (int) headerLength);
            long dataStart = 8 + headerLength;
            Parsed parsed = parseHeader(file, new String(headerBytes.array(), StandardCharsets.UTF_8), size - dataStart);
            // One set of shared windows for the whole data section, never a mapping per tensor.
            MappedData data = new MappedData(channel, dataStart, size - dataStart, chunkBytes);
            Map<String, SafetensorsEntry> entries = new LinkedHashMap<>();
            for (Header h : parsed.headers.values()) {
                entries.put(h.name, new SafetensorsEntry(h.name, h.dtype, h.shape, data.pieces(h.begin, h.end)));
            }
            return new Contents(entries, parsed.metadata);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "file not found");
        }
    }

    /**
     * Parses and validates the bytes of a whole safetensors file held in memory.
     *
     * @param file names the bytes in messages (nothing is read from it)
     * @param all  the file's bytes: header length, JSON header, data (entries alias this array)
     * @return the entries in header order and the metadata
     * @throws SafetensorsFormatException if the bytes are not valid safetensors
     */
    public static Contents parse(Path file, byte[] all) throws SafetensorsFormatException {
        if (all.length < 8) {
            throw new SafetensorsFormatException(file, "truncated: " + all.length
                    + " bytes, shorter than the 8-byte header length");
        }
        long headerLength = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > all.length) {
            throw new SafetensorsFormatException(file, "header length " + Long.toUnsignedString(headerLength)
                    + " does not fit the " + all.length + "-byte file");
        }
        int dataStart = 8 + (int) headerLength;
        Parsed parsed = parseHeader(file, new String(all, 8, (int) headerLength, StandardCharsets.UTF_8),
                all.length - dataStart);
        Map<String, SafetensorsEntry> entries = new LinkedHashMap<>();
        for (Header h : parsed.headers.values()) {
            ByteBuffer bytes = ByteBuffer.wrap(all, dataStart + (int) h.begin, (int) (h.end - h.begin)).slice();
            entries.put(h.name, new SafetensorsEntry(h.name, h.dtype, h.shape, new ByteBuffer[] {bytes}));
        }
        return new Contents(entries, parsed.metadata);
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            if (channel.read(b, position + b.position()) < 0) {
                throw new java.io.EOFException("unexpected end of file");
            }
        }
        b.flip();
        return b;
    }

    /**
     * Reads a file whose tensors are all of float types, as name → float32 tensor in header order
     * (F16, BF16 and F64 are converted; see {@link SafetensorsEntry#toTensor()}).
     *
     * @param file a safetensors file
     * @throws IOException                 if the file cannot be read
     * @throws SafetensorsFormatException if it is not valid safetensors (the message says where) or holds a non-float tensor
     * @return name → new dense tensor, in header order
     */
    public static Map<String, Tensor> readFloatTensors(Path file) throws IOException {
        Contents c = read(file);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (SafetensorsEntry e : c.entries().values()) {
            out.put(e.name(), floatTensor(file, e));
        }
        return out;
    }

    /**
     * An entry's values as float32, errors naming the file.
     *
     * @param file the file the entry came from, for messages
     * @param e    the entry
     * @return a new dense tensor of the entry's shape
     * @throws SafetensorsFormatException if the dtype is not a float type or the values exceed one array
     * @throws jlstm.InsufficientMemoryException if the heap cannot hold the values
     */
    public static Tensor floatTensor(Path file, SafetensorsEntry e) throws SafetensorsFormatException {
        if (!e.dtype().isFloat()) {
            throw new SafetensorsFormatException(file, "tensor '" + e.name() + "' has dtype " + e.dtype()
                    + ", expected F32 (or F16, BF16, F64, converted to F32)");
        }
        try {
            return e.toTensor();
        } catch (IllegalArgumentException ex) {
            throw new SafetensorsFormatException(file, ex.getMessage());
        }
    }

    private record Parsed(Map<String, Header> headers, Map<String, String> metadata) {
    }

    /** Parses and checks the JSON header against a data section of {@code dataLength} bytes. */
    private static Parsed parseHeader(Path file, String json, long dataLength) throws SafetensorsFormatException {
        Map<String, Header> headers = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(com.google.gson.Strictness.STRICT);
            if (reader.peek() != JsonToken.BEGIN_OBJECT) {
                throw new SafetensorsFormatException(file, "header is not a JSON object");
            }
            reader.beginObject();
            while (reader.hasNext()) {
                String name = reader.nextName();
                if (headers.containsKey(name) || (name.equals(METADATA) && !metadata.isEmpty())) {
                    throw new SafetensorsFormatException(file, "duplicate tensor name '" + name + "' in header");
                }
                if (name.equals(METADATA)) {
                    readMetadata(file, reader, metadata);
                } else {
                    if (headers.size() == MAX_TENSORS) {
                        throw new SafetensorsFormatException(file, "header lists more than " + MAX_TENSORS
                                + " tensors, the most this reader accepts");
                    }
                    headers.put(name, readHeader(file, name, reader));
                }
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new SafetensorsFormatException(file, "extra content after the header's JSON object");
            }
        } catch (SafetensorsFormatException e) {
            throw e;
        } catch (MalformedJsonException | IllegalStateException | NumberFormatException e) {
            throw new SafetensorsFormatException(file, "invalid JSON header: " + jsonProblem(e.getMessage()));
        } catch (IOException e) {
            throw new SafetensorsFormatException(file, "invalid JSON header: " + jsonProblem(e.getMessage()));
        }

        // Offsets: inside the data, not overlapping, no holes (the format indexes every byte).
        List<Header> byOffset = new ArrayList<>(headers.values());
        byOffset.sort(Comparator.comparingLong((Header h) -> h.begin).thenComparingLong(h -> h.end));
        long expectedBegin = 0;
        for (Header h : byOffset) {
            if (h.end > dataLength) {
                throw new SafetensorsFormatException(file, "tensor '" + h.name + "' data_offsets [" + h.begin + ", "
                        + h.end + "] run past the end of the " + dataLength + "-byte data section (truncated?)");
            }
            if (h.begin < expectedBegin) {
                throw new SafetensorsFormatException(file, "tensor '" + h.name + "' data_offsets [" + h.begin + ", "
                        + h.end + "] overlap the previous tensor, which ends at " + expectedBegin);
            }
            if (h.begin > expectedBegin) {
                throw new SafetensorsFormatException(file, "bytes " + expectedBegin + " to " + h.begin
                        + " of the data section belong to no tensor (before '" + h.name + "')");
            }
            expectedBegin = h.end;
        }
        if (expectedBegin != dataLength) {
            throw new SafetensorsFormatException(file, "the data section has " + dataLength
                    + " bytes but the tensors cover " + expectedBegin);
        }
        return new Parsed(headers, metadata);
    }

    /** The longest JSON path quoted in a message (a header nested 255 deep has one of 800 characters). */
    private static final int MAX_JSON_PATH_CHARS = 60;

    /**
     * A parser's message cut to one short line: its first line, without the advice to parse
     * leniently, its JSON path shortened.
     */
    static String jsonProblem(String message) {
        if (message == null) {
            return "malformed JSON";
        }
        String line = message.strip().lines().findFirst().orElse("");
        line = line.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
        int path = line.indexOf(" path ");
        if (path >= 0 && line.length() - path - 6 > MAX_JSON_PATH_CHARS) {
            line = line.substring(0, path + 6 + MAX_JSON_PATH_CHARS) + "…";
        }
        return line;
    }

    private record Header(String name, DType dtype, int[] shape, long begin, long end) {
    }

    private static Header readHeader(Path file, String name, JsonReader reader) throws IOException {
        if (reader.peek() != JsonToken.BEGIN_OBJECT) {
            throw new SafetensorsFormatException(file, "tensor '" + name + "': header entry is not a JSON object");
        }
        String dtypeName = null;
        int[] shape = null;
        long[] offsets = null;
        reader.beginObject();
        while (reader.hasNext()) {
            String key = reader.nextName();
            switch (key) {
                case "dtype" -> {
                    requireToken(file, name, key, reader, JsonToken.STRING);
                    dtypeName = reader.nextString();
                }
                case "shape" -> shape = toInts(file, name, readLongArray(file, name, key, reader));
                case "data_offsets" -> offsets = readLongArray(file, name, key, reader);
                default -> reader.skipValue();
            }
        }
        reader.endObject();
        if (dtypeName == null || shape == null || offsets == null) {
            throw new SafetensorsFormatException(file, "tensor '" + name + "': header entry needs dtype, shape and "
                    + "data_offsets");
        }
        DType dtype = DType.parse(dtypeName);
        if (dtype == null) {
            throw new SafetensorsFormatException(file, "tensor '" + name + "': unknown or unsupported dtype '"
                    + dtypeName + "' (safetensors dtypes: " + java.util.Arrays.toString(DType.values()) + ")");
        }
        if (offsets.length != 2 || offsets[0] > offsets[1]) {
            throw new SafetensorsFormatException(file, "tensor '" + name + "': data_offsets must be [begin, end] with "
                    + "begin ≤ end, got " + Arrays.toString(offsets));
        }
        long numel = 1;
        for (int d : shape) {
            // A count whose bytes cannot be a file offset is malformed (checked before it overflows).
            if (d != 0 && numel > (Long.MAX_VALUE / 16) / d) {
                throw new SafetensorsFormatException(file, "tensor '" + name + "': shape " + Arrays.toString(shape)
                        + " is too large");
            }
            numel *= d;
        }
        long expected = numel * dtype.bytes();
        if (offsets[1] - offsets[0] != expected) {
            throw new SafetensorsFormatException(file, "tensor '" + name + "': shape " + Arrays.toString(shape) + " of "
                    + dtype + " needs " + expected + " bytes but data_offsets " + Arrays.toString(offsets) + " span "
                    + (offsets[1] - offsets[0]));
        }
        return new Header(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static void readMetadata(Path file, JsonReader reader, Map<String, String> into) throws IOException {
        if (reader.peek() != JsonToken.BEGIN_OBJECT) {
            throw new SafetensorsFormatException(file, "__metadata__ is not a JSON object");
        }
        reader.beginObject();
        while (reader.hasNext()) {
            String key = reader.nextName();
            requireToken(file, METADATA, key, reader, JsonToken.STRING);
            into.put(key, reader.nextString());
        }
        reader.endObject();
    }

    private static long[] readLongArray(Path file, String name, String key, JsonReader reader) throws IOException {
        requireToken(file, name, key, reader, JsonToken.BEGIN_ARRAY);
        List<Long> values = new ArrayList<>();
        reader.beginArray();
        while (reader.hasNext()) {
            requireToken(file, name, key, reader, JsonToken.NUMBER);
            String text = reader.nextString();
            long v;
            try {
                v = Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new SafetensorsFormatException(file, "tensor '" + name + "': " + key + " holds '" + text
                        + "', not an integer");
            }
            if (v < 0) {
                throw new SafetensorsFormatException(file, "tensor '" + name + "': " + key + " holds negative " + v);
            }
            values.add(v);
        }
        reader.endArray();
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    private static int[] toInts(Path file, String name, long[] values) throws SafetensorsFormatException {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] > Integer.MAX_VALUE) {
                throw new SafetensorsFormatException(file, "tensor '" + name + "': dimension " + values[i] + " too large");
            }
            out[i] = (int) values[i];
        }
        return out;
    }

    private static void requireToken(Path file, String name, String key, JsonReader reader, JsonToken want)
            throws IOException {
        JsonToken got = reader.peek();
        if (got != want) {
            throw new SafetensorsFormatException(file, "tensor '" + name + "': " + key + " should be "
                    + want.name().toLowerCase() + ", found " + got.name().toLowerCase());
        }
    }

    /**
     * Writes F32 tensors (in map order) and string metadata, atomically (as {@link #writeEntries}).
     *
     * @param file     the file to write (replaced if it exists)
     * @param tensors  name → tensor, shared until written (a view over a slice or a buffer is copied)
     * @param metadata string pairs for the header's {@code __metadata__}, or null for none
     * @throws IOException if the file cannot be written
     */
    public static void write(Path file, Map<String, Tensor> tensors, @Nullable Map<String, String> metadata)
            throws IOException {
        java.util.Objects.requireNonNull(file, "file");
        java.util.Objects.requireNonNull(tensors, "tensors");
        List<SafetensorsEntry> entries = new ArrayList<>();
        tensors.forEach((name, t) -> entries.add(SafetensorsEntry.of(name, t)));
        writeEntries(file, entries, metadata);
    }

    /**
     * Writes entries (in list order) and string metadata. The file appears complete or not at all
     * (a temporary file in the same folder renamed over {@code file}; a new file gets the usual
     * permissions, a replaced one keeps its mode).
     *
     * @param file     the file to write (replaced if it exists)
     * @param entries  the tensors; names must be distinct
     * @param metadata string pairs for the header's {@code __metadata__}, or null for none
     * @throws IOException if the file cannot be written
     */
    public static void writeEntries(Path file, List<SafetensorsEntry> entries, @Nullable Map<String, String> metadata)
            throws IOException {
        java.util.Objects.requireNonNull(file, "file");
        java.util.Objects.requireNonNull(entries, "entries");
        java.io.StringWriter headerText = new java.io.StringWriter();
        try (JsonWriter w = new JsonWriter(headerText)) {
            w.beginObject();
            if (metadata != null && !metadata.isEmpty()) {
                w.name(METADATA).beginObject();
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    w.name(m.getKey()).value(m.getValue());
                }
                w.endObject();
            }
            long offset = 0;
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (SafetensorsEntry e : entries) {
                if (!seen.add(e.name()) || e.name().equals(METADATA)) {
                    throw new IllegalArgumentException("duplicate or reserved tensor name '" + e.name() + "'");
                }
                w.name(e.name()).beginObject();
                w.name("dtype").value(e.dtype().name());
                w.name("shape").beginArray();
                for (int d : e.shape()) {
                    w.value(d);
                }
                w.endArray();
                w.name("data_offsets").beginArray().value(offset).value(offset + e.byteSize()).endArray();
                w.endObject();
                offset += e.byteSize();
            }
            w.endObject();
        }
        byte[] header = headerText.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8; // data starts 8-byte aligned, as the reference writer does
        byte[] headerPadded = Arrays.copyOf(header, padded);
        Arrays.fill(headerPadded, header.length, padded, (byte) ' ');

        AtomicFiles.write(file, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            len.flip();
            writeAll(ch, len);
            writeAll(ch, ByteBuffer.wrap(headerPadded));
            for (SafetensorsEntry e : entries) {
                e.writeTo(ch);
            }
        });
    }

    private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
