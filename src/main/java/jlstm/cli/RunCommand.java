package jlstm.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jlstm.Device;
import jlstm.LstmGradients;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.DType;
import jlstm.io.Safetensors;
import jlstm.io.SafetensorsEntry;
import jlstm.io.SafetensorsFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code run}: model + input safetensors → output safetensors (ARCHITECTURE.md, "Interchange").
 * Backward runs when the input holds {@code dy}.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs a model on an input and writes outputs (and gradients when the input has dy).",
                "input:  x [T,B,I]; optional h0 [L*D,B,R], c0 [L*D,B,H]; optional dy [T,B,D*R], dhn [L*D,B,R],",
                "        dcn [L*D,B,H]; optional lengths [B] (I64 or I32: sequence b has its first lengths[b] steps);",
                "        optional dropout_mask_l0 .. dropout_mask_l{L-2} [T,B,D*R] (with dy: multipliers of each",
                "        layer's output before the next reads it)",
                "        (R = H, or P for a model with weight_hr_l* projections)",
                "output: y [T,B,D*R], hn [L*D,B,R], cn [L*D,B,H]; with dy also dx, dh0, dc0 (when h0/c0 given)",
                "        and grad.<parameter> for every parameter; with --dropout the masks drawn",
                "model:  a PyTorch state_dict: nn.LSTM names, optionally under a module prefix",
                "        (encoder.lstm.weight_ih_l0); other tensors are ignored",
                "F16, BF16 and F64 tensors are converted to float32; outputs are F32.",
                "--output must not be the model or the input; it is written whole or not at all."})
final class RunCommand implements Callable<Integer> {
    static final Set<String> INPUT_NAMES = Set.of("x", "h0", "c0", "dy", "dhn", "dcn", "lengths");
    /** Dropout masks of an input file: {@code dropout_mask_l{k}} for layers k = 0 … L−2. */
    static final Pattern MASK_NAME = Pattern.compile("dropout_mask_l(\\d{1,4})");

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "model parameters (safetensors, PyTorch nn.LSTM names)")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "input tensors (safetensors)")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "where to write the results (safetensors); written whole or not at all")
    Path output;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda", description = "backend (default: ${DEFAULT-VALUE})")
    String device;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--batch-first", description = "x, y, dy, dx and dropout masks are [B,T,.] instead of [T,B,.]")
    boolean batchFirst;

    @Option(names = "--dropout", paramLabel = "P", description = "with dy: dropout probability between layers "
            + "(as nn.LSTM's dropout), masks drawn from --dropout-seed and written to the output")
    Double dropout;

    @Option(names = "--dropout-seed", defaultValue = "0", paramLabel = "S", description = "seed of the dropout masks (default: ${DEFAULT-VALUE})")
    long dropoutSeed;

    @Option(names = "--prefix", paramLabel = "P", description = {"the LSTM's module prefix in the model file, e.g. "
            + "encoder.lstm. for encoder.lstm.weight_ih_l0 ('' for bare names);",
            "needed only when the file holds several LSTMs (default: the only one)"})
    String prefix;

    @Override
    public Integer call() throws Exception {
        Device chosen = Device.parse(device);
        OutputGuard.requireWritableFile(output, "--output");
        OutputGuard.refuseToReplace(output, "--output", Map.of("--model", model, "--input", input),
                "choose another --output");
        LstmParameters params = LstmParameters.load(model, batchFirst, prefix);
        Input read = readInput(input);
        Map<String, Tensor> in = read.tensors();
        Tensor x = in.get("x");
        if (x == null) {
            throw new SafetensorsFormatException(input, "missing tensor 'x'");
        }
        Tensor dy = in.get("dy");
        if (dy == null && (in.containsKey("dhn") || in.containsKey("dcn"))) {
            throw new SafetensorsFormatException(input, "dhn/dcn given without dy: backward needs dy");
        }
        if (dy == null && read.dropoutMasks() != null) {
            throw new SafetensorsFormatException(input, "dropout masks given without dy: dropout acts in training "
                    + "(with backward) only");
        }
        if (dropout != null) {
            if (!(dropout >= 0 && dropout <= 1)) {
                throw new IllegalArgumentException("--dropout must be a probability in [0, 1], got " + dropout);
            }
            if (dy == null || read.dropoutMasks() != null) {
                throw new IllegalArgumentException("--dropout needs an input with dy (training) and without "
                        + "dropout_mask_l* tensors");
            }
            params = params.withDropout(dropout);
        }

        Map<String, Tensor> out = new LinkedHashMap<>();
        jlstm.EngineOptions options = precision.options();
        try (LstmLayer lstm = LstmLayer.create(params, chosen, options)) {
            lstm.seedDropout(dropoutSeed);
            LstmOutput result;
            try {
                result = dy == null ? lstm.forward(x, in.get("h0"), in.get("c0"), read.lengths())
                        : lstm.forwardTraining(x, in.get("h0"), in.get("c0"), read.lengths(), read.dropoutMasks());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(input + ": " + e.getMessage() + " (model " + model + ": "
                        + params.config() + ")", e);
            }
            out.put("y", result.y());
            out.put("hn", result.hn());
            out.put("cn", result.cn());
            if (read.dropoutMasks() == null) {
                List<Tensor> drawn = lstm.dropoutMasks();
                for (int k = 0; k < drawn.size(); k++) {
                    out.put("dropout_mask_l" + k, drawn.get(k));
                }
            }
            if (dy != null) {
                LstmGradients g;
                try {
                    g = lstm.backward(dy, in.get("dhn"), in.get("dcn"));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(input + ": " + e.getMessage(), e);
                }
                out.put("dx", g.dx());
                if (in.containsKey("h0")) {
                    out.put("dh0", g.dh0());
                }
                if (in.containsKey("c0")) {
                    out.put("dc0", g.dc0());
                }
                g.parameters().forEach((name, t) -> out.put("grad." + name, t));
            }
            Safetensors.write(output, out, Map.of("producer", "jlstm", "device", lstm.deviceName()));
            System.err.printf("wrote %s (%s, device %s, precision %s%s)%n", output, params.config(), lstm.deviceName(),
                    PrecisionOption.label(options.precision()), dy == null ? "" : ", with gradients");
        }
        return 0;
    }

    /**
     * What an input file holds.
     *
     * @param tensors      the float tensors by name (x, h0, c0, dy, dhn, dcn), as float32
     * @param lengths      [B] from an I64 or I32 {@code lengths} tensor, or null
     * @param dropoutMasks {@code dropout_mask_l0} … in layer order, or null when there are none
     */
    record Input(Map<String, Tensor> tensors, int[] lengths, List<Tensor> dropoutMasks) {
    }

    /**
     * Reads an input file: known names only; float tensors as float32 (F16, BF16 and F64 are
     * converted, and the conversion logged), lengths as I64 or I32, masks as float tensors.
     */
    static Input readInput(Path file) throws java.io.IOException {
        Safetensors.Contents contents = Safetensors.read(file);
        Set<String> unknown = new TreeSet<>();
        for (String name : contents.entries().keySet()) {
            if (!INPUT_NAMES.contains(name) && !MASK_NAME.matcher(name).matches()) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new SafetensorsFormatException(file, "unexpected tensor(s) " + unknown
                    + " (an input holds x and optionally h0, c0, dy, dhn, dcn, lengths, dropout_mask_l<k>)");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<Integer, Tensor> masks = new TreeMap<>();
        Map<String, String> converted = new TreeMap<>();
        int[] lengths = null;
        for (SafetensorsEntry e : contents.entries().values()) {
            if (e.name().equals("lengths")) {
                lengths = readLengths(file, e);
                continue;
            }
            Tensor t = Safetensors.floatTensor(file, e);
            if (e.dtype() != DType.F32) {
                converted.put(e.name(), e.dtype().name());
            }
            Matcher mask = MASK_NAME.matcher(e.name());
            if (mask.matches()) {
                masks.put(Integer.parseInt(mask.group(1)), t);
            } else {
                tensors.put(e.name(), t);
            }
        }
        if (!converted.isEmpty()) {
            System.getLogger("jlstm").log(System.Logger.Level.INFO, "jlstm: " + file + ": converted to float32: "
                    + converted.toString().replaceAll("[{}]", ""));
        }
        List<Tensor> maskList = null;
        if (!masks.isEmpty()) {
            maskList = new ArrayList<>();
            for (int k = 0; k < masks.size(); k++) {
                Tensor m = masks.get(k);
                if (m == null) {
                    throw new SafetensorsFormatException(file, "dropout masks " + masks.keySet().stream()
                            .map(i -> "dropout_mask_l" + i).toList() + " skip dropout_mask_l" + k
                            + " (one mask per layer below the last, from l0)");
                }
                maskList.add(m);
            }
        }
        return new Input(tensors, lengths, maskList);
    }

    /** An I64 or I32 tensor [B] of lengths as ints (each checked against [1, T] by the layer). */
    private static int[] readLengths(Path file, SafetensorsEntry e) throws SafetensorsFormatException {
        if (e.dtype() != DType.I64 && e.dtype() != DType.I32) {
            throw new SafetensorsFormatException(file, "tensor 'lengths' has dtype " + e.dtype()
                    + ", expected I64 or I32");
        }
        if (e.shape().length != 1) {
            throw new SafetensorsFormatException(file, "tensor 'lengths' has shape "
                    + java.util.Arrays.toString(e.shape()) + ", expected [B]");
        }
        long[] values;
        try {
            values = e.toLongs();
        } catch (IllegalArgumentException ex) {
            throw new SafetensorsFormatException(file, ex.getMessage());
        }
        int[] out = new int[values.length];
        for (int b = 0; b < values.length; b++) {
            if (values[b] < 1 || values[b] > Integer.MAX_VALUE) {
                throw new SafetensorsFormatException(file, "lengths[" + b + "] = " + values[b]
                        + ": every sequence needs at least one step");
            }
            out[b] = (int) values[b];
        }
        return out;
    }
}
