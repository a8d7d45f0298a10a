package jlstm.internal.cuda;

import java.util.Locale;

/**
 * Every kernel entry point the Java code launches, with its {@code extern "C"} name in the
 * fatbin built from {@code cuda/*.cu} and its parameter kinds, one letter per parameter
 * ({@code i} int, {@code l} long long, {@code f} float, {@code d} double, {@code p} pointer). The module loader resolves all of them up
 * front; {@code FatbinEntryPointsTest} checks that the packaged fatbin contains each name and
 * {@code KernelSignatureTest} that the kinds match the {@code extern "C"} declarations.
 */
enum Kernel {
    /** cuda/lstm_forward_pointwise.cu: forward cell update, saves nothing. */
    FORWARD_POINTWISE_INFERENCE("iipppppppi"),
    /** cuda/lstm_forward_pointwise.cu: forward cell update, saves gates and c_t. */
    FORWARD_POINTWISE_TRAINING("iipppppppip"),
    /** cuda/lstm_fused_step.cu: recurrent product + cell update in one launch, saves nothing. */
    FUSED_STEP_INFERENCE("iiiippippppppi"),
    /** cuda/lstm_fused_step.cu: the same, saves gates. */
    FUSED_STEP_TRAINING("iiiippippppppip"),
    /** cuda/lstm_persistent.cu: every step of one layer and direction in one cooperative launch. */
    PERSISTENT_FORWARD_INFERENCE("iiiiipppppppip"),
    /** cuda/lstm_persistent.cu: the same, saving gates and c_t. */
    PERSISTENT_FORWARD_TRAINING("iiiiipppppppipp"),
    /** cuda/lstm_persistent.cu: every backward step (dG_t, dh = dG_t · W_hh) in one cooperative launch. */
    PERSISTENT_BACKWARD("iiiiippppipppppp"),
    /**
     * cuda/lstm_persistent_tiled.cu: every forward step of one layer and direction in one
     * cooperative launch, as tiles with the batch as N (tensor cores in tf32/bf16).
     */
    PERSISTENT_TILED_FORWARD_INFERENCE("iiiiiiipppppppip"),
    /** cuda/lstm_persistent_tiled.cu: the same, saving gates and c_t. */
    PERSISTENT_TILED_FORWARD_TRAINING("iiiiiiipppppppipp"),
    /**
     * cuda/lstm_persistent_tiled.cu: every backward step (dG_t, dh = dG_t · W_hh as tiles with the
     * batch as N) of one layer and direction in one cooperative launch.
     */
    PERSISTENT_TILED_BACKWARD("iiiiiiippppipppppp"),
    /** cuda/lstm_backward_pointwise.cu: dG and the carried dc of one step. */
    BACKWARD_POINTWISE("iippppippp"),
    /** cuda/lstm_rows.cu: rows gathered by an index (-1: zeros). */
    GATHER_ROWS("iipippi"),
    /** cuda/lstm_rows.cu: elementwise product. */
    MULTIPLY("lppp"),
    /** cuda/lstm_rows.cu: elementwise sum. */
    ADD("lppp"),
    /** cuda/lstm_training.cu: the head's bias added to every output row. */
    HEAD_BIAS("iipp"),
    /** cuda/lstm_training.cu: mean squared error terms and gradient. */
    MSE("ipppp"),
    /** cuda/lstm_training.cu: softmax cross-entropy per row and gradient. */
    SOFTMAX_CE("iipppp"),
    /** cuda/lstm_training.cu: per-block sums of squares (gradient norm). */
    SUM_SQUARES("llpp"),
    /** cuda/lstm_training.cu: one-block deterministic sum of doubles. */
    REDUCE("ipp"),
    /** cuda/lstm_training.cu: the global norm and the clipping factor. */
    CLIP_SCALE("ipppp"),
    /** cuda/lstm_training.cu: Adam's update of a flat parameter array. */
    ADAM_UPDATE("lppppppdddd"),
    /** cuda/lstm_training.cu: SGD with momentum on a flat parameter array. */
    SGD_UPDATE("lpppppdd"),
    /** cuda/lstm_probe.cu: the probe's tiny kernel. */
    PROBE_FILL("iffp");

    private final String entryName;
    private final String parameterKinds;

    Kernel(String parameterKinds) {
        this.parameterKinds = parameterKinds;
        this.entryName = "lstm_" + name().toLowerCase(Locale.ROOT);
    }

    /** Whether the kernel keeps weights in (dynamic) shared memory past the default 48 KiB limit. */
    boolean keepsWeightsOnChip() {
        return name().startsWith("PERSISTENT_");
    }

    /** One letter per parameter: i int, l long long, f float, d double, p pointer. */
    String parameterKinds() {
        return parameterKinds;
    }

    /** The entry point's name: {@code lstm_} + the constant in snake case. */
    String entryName() {
        return entryName;
    }
}
