package jlstm.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;

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
import picocli.CommandLine.Option;

/**
 * {@code run}: model + input safetensors → output safetensors (ARCHITECTURE.md, "Interchange").
 * Backward runs when the input holds {@code dy}.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs a model on an input and writes outputs (and gradients when the input has dy).",
                "input:  x [T,B,I]; optional h0, c0 [L*D,B,H]; optional dy [T,B,D*H], dhn, dcn [L*D,B,H]",
                "output: y [T,B,D*H], hn, cn [L*D,B,H]; with dy also dx, dh0, dc0 (when h0/c0 given)",
                "        and grad.<parameter> for every parameter",
                "model:  a PyTorch state_dict: nn.LSTM names, optionally under a module prefix",
                "        (encoder.lstm.weight_ih_l0); other tensors are ignored",
                "F16, BF16 and F64 tensors are converted to float32; outputs are F32.",
                "--output must not be the model or the input; it is written whole or not at all."})
final class RunCommand implements Callable<Integer> {
    static final Set<String> INPUT_NAMES = Set.of("x", "h0", "c0", "dy", "dhn", "dcn");

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "model parameters (safetensors, PyTorch nn.LSTM names)")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "input tensors (safetensors)")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "where to write the results (safetensors); written whole or not at all")
    Path output;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda", description = "backend (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--batch-first", description = "x, y, dy and dx are [B,T,.] instead of [T,B,.]")
    boolean batchFirst;

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
        Map<String, Tensor> in = readInput(input);
        Tensor x = in.get("x");
        if (x == null) {
            throw new SafetensorsFormatException(input, "missing tensor 'x'");
        }
        Tensor dy = in.get("dy");
        if (dy == null && (in.containsKey("dhn") || in.containsKey("dcn"))) {
            throw new SafetensorsFormatException(input, "dhn/dcn given without dy: backward needs dy");
        }

        Map<String, Tensor> out = new LinkedHashMap<>();
        try (LstmLayer lstm = LstmLayer.create(params, chosen)) {
            LstmOutput result;
            try {
                result = dy == null ? lstm.forward(x, in.get("h0"), in.get("c0"))
                        : lstm.forwardTraining(x, in.get("h0"), in.get("c0"));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(input + ": " + e.getMessage() + " (model " + model + ": "
                        + params.config() + ")", e);
            }
            out.put("y", result.y());
            out.put("hn", result.hn());
            out.put("cn", result.cn());
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
            System.err.printf("wrote %s (%s, device %s%s)%n", output, params.config(), lstm.deviceName(),
                    dy == null ? "" : ", with gradients");
        }
        return 0;
    }

    /**
     * The input file's tensors, all with known names, as float32: F16, BF16 and F64 are converted
     * (and the conversion logged); other dtypes are an error.
     */
    static Map<String, Tensor> readInput(Path file) throws java.io.IOException {
        Safetensors.Contents contents = Safetensors.read(file);
        Set<String> unknown = new TreeSet<>(contents.entries().keySet());
        unknown.removeAll(INPUT_NAMES);
        if (!unknown.isEmpty()) {
            throw new SafetensorsFormatException(file, "unexpected tensor(s) " + unknown
                    + " (an input holds x and optionally h0, c0, dy, dhn, dcn)");
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        Map<String, String> converted = new TreeMap<>();
        for (SafetensorsEntry e : contents.entries().values()) {
            out.put(e.name(), Safetensors.floatTensor(file, e));
            if (e.dtype() != DType.F32) {
                converted.put(e.name(), e.dtype().name());
            }
        }
        if (!converted.isEmpty()) {
            System.getLogger("jlstm").log(System.Logger.Level.INFO, "jlstm: " + file + ": converted to float32: "
                    + converted.toString().replaceAll("[{}]", ""));
        }
        return out;
    }
}
