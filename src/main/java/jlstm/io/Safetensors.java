package jlstm.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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

import jlstm.Tensor;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of
 * JSON ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"k": "v"}}}), then the raw little-endian data, offsets relative to its start.
 *
 * <p>Reading is strict, and every error names the file and the tensor: a file shorter than its
 * header, invalid JSON, a missing or ill-typed field, an unknown dtype, a byte count that is not
 * shape × dtype size, offsets out of range, overlapping or leaving holes, duplicate names.
 */
public final class Safetensors {
    /** Headers above this are rejected before allocation (the reference implementation uses 100 MB). */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final String METADATA = "__metadata__";

    private Safetensors() {
    }

    /** The parsed contents of a file: tensors in header order and the optional string metadata. */
    public record Contents(Map<String, SafetensorsEntry> entries, Map<String, String> metadata) {
        /** The entry of a name, or an error naming the file when it is absent. */
        public SafetensorsEntry require(Path file, String name) throws SafetensorsFormatException {
            SafetensorsEntry e = entries.get(name);
            if (e == null) {
                throw new SafetensorsFormatException(file, "missing tensor '" + name + "'");
            }
            return e;
        }
    }

    /** Reads and validates a whole file. */
    public static Contents read(Path file) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "file not found");
        }
        return parse(file, all);
    }

    /** Reads a file whose tensors are all F32, as name → tensor in header order. */
    public static Map<String, Tensor> readFloatTensors(Path file) throws IOException {
        Contents c = read(file);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (SafetensorsEntry e : c.entries().values()) {
            if (e.dtype() != DType.F32) {
                throw new SafetensorsFormatException(file, "tensor '" + e.name() + "' has dtype " + e.dtype()
                        + ", expected F32");
            }
            out.put(e.name(), e.toTensor());
        }
        return out;
    }

    /** Parses the bytes of a safetensors file; {@code file} is used for messages only. */
    public static Contents parse(Path file, byte[] all) throws SafetensorsFormatException {
        if (all.length < 8) {
            throw new SafetensorsFormatException(file, "truncated: " + all.length
                    + " bytes, shorter than the 8-byte header length");
        }
        long headerLength = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(file, "header length " + Long.toUnsignedString(headerLength)
                    + " is not plausible (2 to " + MAX_HEADER_BYTES + " bytes)");
        }
        if (8 + headerLength > all.length) {
            throw new SafetensorsFormatException(file, "header length " + headerLength + " runs past the end of the "
                    + all.length + "-byte file (truncated?)");
        }
        String json = new String(all, 8, (int) headerLength, StandardCharsets.UTF_8);
        int dataStart = (int) (8 + headerLength);
        long dataLength = all.length - dataStart;

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
            throw new SafetensorsFormatException(file, "invalid JSON header: " + e.getMessage());
        } catch (IOException e) {
            throw new SafetensorsFormatException(file, "invalid JSON header: " + e.getMessage());
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

        Map<String, SafetensorsEntry> entries = new LinkedHashMap<>();
        for (Header h : headers.values()) {
            byte[] bytes = Arrays.copyOfRange(all, dataStart + (int) h.begin, dataStart + (int) h.end);
            entries.put(h.name, new SafetensorsEntry(h.name, h.dtype, h.shape, bytes));
        }
        return new Contents(entries, metadata);
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
                    + dtypeName + "' (supported: F32, I32, I64)");
        }
        if (offsets.length != 2 || offsets[0] > offsets[1]) {
            throw new SafetensorsFormatException(file, "tensor '" + name + "': data_offsets must be [begin, end] with "
                    + "begin ≤ end, got " + Arrays.toString(offsets));
        }
        long numel = 1;
        for (int d : shape) {
            numel *= d;
            if (numel > Integer.MAX_VALUE) {
                throw new SafetensorsFormatException(file, "tensor '" + name + "': shape " + Arrays.toString(shape)
                        + " is too large");
            }
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

    /** Writes F32 tensors (in map order) and string metadata, atomically. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        List<SafetensorsEntry> entries = new ArrayList<>();
        tensors.forEach((name, t) -> entries.add(SafetensorsEntry.of(name, t)));
        writeEntries(file, entries, metadata);
    }

    /**
     * Writes entries (in list order) and string metadata. The file appears complete or not at all:
     * the bytes go to a temporary file in the same folder, which is then renamed over {@code file}.
     */
    public static void writeEntries(Path file, List<SafetensorsEntry> entries, Map<String, String> metadata)
            throws IOException {
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
                w.name("data_offsets").beginArray().value(offset).value(offset + e.bytes().length).endArray();
                w.endObject();
                offset += e.bytes().length;
            }
            w.endObject();
        }
        byte[] header = headerText.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8; // data starts 8-byte aligned, as the reference writer does
        byte[] headerPadded = Arrays.copyOf(header, padded);
        Arrays.fill(headerPadded, header.length, padded, (byte) ' ');

        Path dir = file.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new NoSuchFileException(file.toString(), null, "folder " + dir + " does not exist");
        }
        Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
                out.write(len.array());
                out.write(headerPadded);
                for (SafetensorsEntry e : entries) {
                    out.write(e.bytes());
                }
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
