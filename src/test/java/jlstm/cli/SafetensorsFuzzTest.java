package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.GoldenCase;
import jlstm.LstmParameters;
import jlstm.io.SafetensorsEntry;
import jlstm.io.Safetensors;

/**
 * Damaged files never crash, hang or end in a stack trace: a seeded run of a few thousand
 * mutations (bit flips, truncations, inserted and deleted bytes, zeroed ranges, edits of the JSON
 * header and of its length) of the model and input files of PyTorch-made golden cases, each read
 * by the reader (every tensor converted), loaded as a model, and every tenth run through the
 * {@code run} command in this JVM. The only failures allowed are the documented ones: an
 * {@link IOException} (a {@link jlstm.io.SafetensorsFormatException} naming the file), an
 * {@link IllegalArgumentException} with a message, or {@link jlstm.InsufficientMemoryException};
 * {@code run} must print one {@code error:} line and no stack trace. Each attempt has a time limit,
 * so a hang fails the test instead of stalling the build.
 */
class SafetensorsFuzzTest {
    static final long SEED = 20261207L;
    static final int MUTATIONS = 3000;
    static final int RUN_EVERY = 10;

    @TempDir
    Path dir;

    private final List<String> problems = new ArrayList<>();

    @Test
    void mutatedFilesFailCleanlyOrWork() throws Exception {
        List<GoldenCase> cases = Stream.of("forward_only", "lengths", "dropout", "projection")
                .map(GoldenCase::named).toList();
        SplittableRandom random = new SplittableRandom(SEED);
        ExecutorService worker = Executors.newSingleThreadExecutor();
        int runs = 0, accepted = 0;
        try {
            for (int i = 0; i < MUTATIONS && problems.size() < 10; i++) {
                GoldenCase golden = cases.get(random.nextInt(cases.size()));
                boolean mutateModel = random.nextBoolean();
                Path original = mutateModel ? golden.modelFile() : golden.inputFile();
                byte[] mutated = mutate(Files.readAllBytes(original), random);
                String description = "mutation " + i + " of " + golden.name() + "/" + original.getFileName();
                Path file = dir.resolve(mutateModel ? "model.safetensors" : "input.safetensors");
                Files.write(file, mutated);
                boolean viaRun = i % RUN_EVERY == 0;
                Future<Boolean> attempt = worker.submit(() -> viaRun
                        ? runCommand(golden, mutateModel ? file : golden.modelFile(),
                        mutateModel ? golden.inputFile() : file, description)
                        : readEverything(file, mutateModel, description));
                try {
                    accepted += attempt.get(30, TimeUnit.SECONDS) ? 1 : 0;
                } catch (TimeoutException e) {
                    attempt.cancel(true);
                    problems.add(description + ": no answer within 30 s (a hang)");
                    break;
                }
                runs += viaRun ? 1 : 0;
            }
        } finally {
            worker.shutdownNow();
        }
        assertEquals(List.of(), problems, problems.size() + " unexpected outcome(s)");
        assertTrue(runs >= MUTATIONS / RUN_EVERY && accepted < MUTATIONS, runs + " runs, " + accepted + " accepted");
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList(),
                    "temporary files left behind");
        }
    }

    /** Reads every tensor, then loads the file as a model; true when the file was accepted. */
    private boolean readEverything(Path file, boolean asModel, String description) {
        try {
            Safetensors.Contents contents = Safetensors.read(file);
            for (SafetensorsEntry e : contents.entries().values()) {
                if (e.dtype().isFloat()) {
                    e.toTensor();
                } else if (e.dtype().name().startsWith("I") || e.dtype().name().startsWith("U")) {
                    e.toLongs();
                }
            }
            if (asModel) {
                LstmParameters.load(file);
            }
            return true;
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            String message = e.getMessage();
            if (message == null || message.isBlank()) {
                problems.add(description + ": " + e.getClass().getName() + " without a message");
            } else if (e instanceof jlstm.io.SafetensorsFormatException && !message.startsWith(file.toString())) {
                problems.add(description + ": the message does not name the file: " + message);
            } else if (e instanceof IllegalStateException && !(e instanceof jlstm.InsufficientMemoryException)) {
                problems.add(description + ": " + e);
            }
            return false;
        } catch (RuntimeException | Error e) {
            problems.add(description + ": " + e);
            return false;
        }
    }

    /** The run command on the files; true when it succeeded. */
    private boolean runCommand(GoldenCase golden, Path model, Path input, String description) {
        Path output = dir.resolve("out.safetensors");
        List<String> args = new ArrayList<>(List.of("run", "--model", model.toString(), "--input", input.toString(),
                "--output", output.toString(), "--device", "cpu"));
        if (golden.batchFirst()) {
            args.add("--batch-first");
        }
        CommandRun.Outcome r = CommandRun.execute(args.toArray(String[]::new));
        List<String> errors = r.err().lines().filter(l -> !l.startsWith("INFO: ")).toList();
        if (r.status() == 0) {
            if (r.err().contains("\tat ") || r.err().contains("Exception") || r.err().contains("error")) {
                problems.add(description + ": run succeeded but printed " + errors);
            }
            return true;
        }
        if (errors.size() != 1 || !errors.get(0).startsWith("error: ") || r.err().contains("\tat ")
                || r.err().contains("Exception")) {
            problems.add(description + ": run failed without one clean error line:\n" + r.err());
        }
        return false;
    }

    /** One random damage of a file's bytes. */
    static byte[] mutate(byte[] bytes, SplittableRandom random) {
        byte[] b = bytes.clone();
        int headerEnd = (int) Math.min(b.length, 8 + ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
        switch (random.nextInt(8)) {
            case 0 -> { // bit flips anywhere
                for (int k = random.nextInt(1, 9); k > 0; k--) {
                    int at = random.nextInt(b.length);
                    b[at] ^= (byte) (1 << random.nextInt(8));
                }
                return b;
            }
            case 1 -> { // bit flips in the header
                for (int k = random.nextInt(1, 4); k > 0; k--) {
                    int at = random.nextInt(headerEnd);
                    b[at] ^= (byte) (1 << random.nextInt(8));
                }
                return b;
            }
            case 2 -> { // truncation
                return java.util.Arrays.copyOf(b, random.nextInt(b.length));
            }
            case 3 -> { // a new header length
                long[] choices = {0, 1, 7, headerEnd - 9, headerEnd - 7, headerEnd + 1, b.length, Long.MAX_VALUE, -1,
                        1L << 31, random.nextLong()};
                ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(choices[random.nextInt(choices.length)]);
                return b;
            }
            case 4 -> { // bytes inserted or deleted
                int at = random.nextInt(b.length);
                int n = random.nextInt(1, 17);
                byte[] out;
                if (random.nextBoolean()) {
                    out = new byte[b.length + n];
                    System.arraycopy(b, 0, out, 0, at);
                    for (int k = 0; k < n; k++) {
                        out[at + k] = (byte) random.nextInt(256);
                    }
                    System.arraycopy(b, at, out, at + n, b.length - at);
                } else {
                    n = Math.min(n, b.length - at);
                    out = new byte[b.length - n];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + n, out, at, b.length - at - n);
                }
                return out;
            }
            case 5 -> { // a zeroed or 0xff range
                int at = random.nextInt(b.length);
                int n = Math.min(b.length - at, random.nextInt(1, 64));
                java.util.Arrays.fill(b, at, at + n, random.nextBoolean() ? (byte) 0 : (byte) 0xff);
                return b;
            }
            default -> { // header text edits, keeping the length field consistent
                return editHeader(b, headerEnd, random);
            }
        }
    }

    private static final String[] REPLACEMENTS = {"-1", "0", "1", "2147483647", "2147483648", "9223372036854775807",
            "99999999999999999999", "1e3", "1.5", "null", "true", "\"F32\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"I64\"",
            "\"BOOL\"", "\"X9\"", "[]", "[1,2,3]", "{}", "\"\"", "[0,0]", "[4,0]", "{\"a\":1}", "\"__metadata__\"",
            "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]"};

    /** Replaces a token of the JSON header (a number, a string, a bracket) with another, and fixes the length. */
    static byte[] editHeader(byte[] b, int headerEnd, SplittableRandom random) {
        if (headerEnd <= 8) {
            return b;
        }
        String header = new String(b, 8, headerEnd - 8, StandardCharsets.UTF_8);
        int at = random.nextInt(header.length());
        int end = at;
        while (end < header.length() && "{}[],:\"".indexOf(header.charAt(end)) < 0) {
            end++;
        }
        if (end == at) {
            end = Math.min(header.length(), at + 1);
        }
        String edited = header.substring(0, at) + REPLACEMENTS[random.nextInt(REPLACEMENTS.length)] + header.substring(end);
        if (random.nextInt(4) == 0) { // sometimes a duplicated entry instead
            int comma = header.indexOf("},", at);
            int quote = header.lastIndexOf("\"", at);
            int start = quote < 0 ? -1 : header.lastIndexOf("\"", quote - 1);
            if (comma > 0 && start > 0 && start < comma) {
                edited = header.substring(0, comma + 2) + header.substring(start, comma + 2) + header.substring(comma + 2);
            }
        }
        byte[] text = edited.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[8 + text.length + (b.length - headerEnd)];
        ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(text.length);
        System.arraycopy(text, 0, out, 8, text.length);
        System.arraycopy(b, headerEnd, out, 8 + text.length, b.length - headerEnd);
        return out;
    }
}
