package jlstm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.cli.CommandRun;

/**
 * A valid file may list more tensors than a process may hold memory mappings (Linux allows
 * 65,530): the reader maps the data section once (a window per GiB), never once per tensor, so a
 * model with 70,000 tiny extra tensors loads and runs. A header listing more than
 * {@link Safetensors#MAX_TENSORS} tensors is refused with a message naming the file.
 */
class ManyTensorsTest {
    static final int EXTRA = 70_000;

    @TempDir
    Path dir;

    /** The model's own tensors, then {@code extra} tensors of two floats each. */
    private Path modelWithExtraTensors(LstmParameters params, int extra) throws IOException {
        Path file = dir.resolve("many.safetensors");
        List<SafetensorsEntry> entries = new ArrayList<>();
        params.asMap().forEach((name, t) -> entries.add(SafetensorsEntry.of(name, t)));
        for (int k = 0; k < extra; k++) {
            entries.add(SafetensorsEntry.of("extra." + k, Tensor.of(new float[] {k, -k}, 2)));
        }
        Safetensors.writeEntries(file, entries, Map.of());
        return file;
    }

    @Test
    void seventyThousandTensorsLoadWithAHandfulOfMappings() throws IOException {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 5), 7);
        Path file = modelWithExtraTensors(params, EXTRA);
        long before = mappingsOfThisProcess();
        Safetensors.Contents contents = Safetensors.read(file);
        long during = mappingsOfThisProcess();
        assertEquals(EXTRA + params.asMap().size(), contents.entries().size());
        if (before >= 0) {
            assertTrue(during - before < 16, "reading one small file added " + (during - before) + " mappings");
        }
        assertArrayEquals(new float[] {69_999, -69_999}, contents.entries().get("extra.69999").toTensor().data());

        LstmParameters loaded = LstmParameters.load(file);
        for (Map.Entry<String, Tensor> e : params.asMap().entrySet()) {
            assertArrayEquals(e.getValue().data(), loaded.asMap().get(e.getKey()).data(), e.getKey());
        }
    }

    @Test
    void runAcceptsAModelWithSeventyThousandExtraTensors() throws IOException {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 5), 7);
        Path model = modelWithExtraTensors(params, EXTRA);
        Path input = dir.resolve("x.safetensors");
        Path output = dir.resolve("y.safetensors");
        Safetensors.write(input, Map.of("x", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 1, 3)), null);
        CommandRun.Outcome r = CommandRun.execute("run", "--model", model.toString(), "--input", input.toString(),
                "--output", output.toString(), "--device", "cpu");
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of(2, 1, 5), toList(Safetensors.read(output).require(output, "y").shape()));
    }

    @Test
    void aHeaderListingTooManyTensorsIsRefusedNamingTheFile() throws IOException {
        // MAX_TENSORS + 1 empty tensors: otherwise a valid file (offsets [0, 0] cover no bytes).
        StringBuilder json = new StringBuilder("{");
        for (int k = 0; k <= Safetensors.MAX_TENSORS; k++) {
            json.append(k == 0 ? "" : ",").append("\"t").append(k)
                    .append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
        }
        byte[] header = json.append('}').toString().getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[8 + header.length];
        java.nio.ByteBuffer.wrap(all).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header);
        Path file = dir.resolve("too-many.safetensors");
        Files.write(file, all);
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("more than " + Safetensors.MAX_TENSORS + " tensors"), e.getMessage());
    }

    private static List<Integer> toList(int[] shape) {
        return java.util.Arrays.stream(shape).boxed().toList();
    }

    /** Lines of /proc/self/maps (one per mapping), or −1 where there is no such file. */
    private static long mappingsOfThisProcess() throws IOException {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return -1;
        }
        try (var lines = Files.lines(maps)) {
            return lines.count();
        }
    }
}
