package jlstm.cli;

import java.util.Locale;

import jlstm.EngineOptions;
import jlstm.EngineOptions.Precision;
import picocli.CommandLine.Option;

/**
 * {@code --precision fp32|tf32|bf16}, shared by {@code run}, {@code train} and {@code bench} (a
 * picocli mixin): the engines' options are the {@code -Djlstm.*} properties with this applied.
 * tf32 and bf16 run on the CUDA engine only (docs/PRECISION.md); the CPU engine refuses them.
 */
final class PrecisionOption {
    @Option(names = "--precision", paramLabel = "fp32|tf32|bf16",
            description = "matrix products: fp32 (default: the jlstm.precision property, else fp32), or the GPU's "
                    + "tf32 / bf16 tensor-core modes (CUDA only; docs/PRECISION.md)")
    private String value;

    /** The -Djlstm.* options with --precision applied. */
    EngineOptions options() {
        EngineOptions options = EngineOptions.fromSystemProperties();
        return value == null ? options
                : options.withPrecision(EngineOptions.parse(Precision.class, "--precision", value.trim()));
    }

    /** fp32, tf32 or bf16. */
    static String label(Precision precision) {
        return precision.name().toLowerCase(Locale.ROOT);
    }
}
