package jlstm.cuda;

import java.util.Locale;

/**
 * Every kernel entry point the Java code launches, with its {@code extern "C"} name in the
 * fatbin built from {@code cuda/*.cu} and its parameter kinds, one letter per parameter
 * ({@code i} int, {@code f} float, {@code p} pointer). The module loader resolves all of them up
 * front; {@code FatbinEntryPointsTest} checks that the packaged fatbin contains each name and
 * {@code KernelSignatureTest} that the kinds match the {@code extern "C"} declarations.
 */
enum Kernel {
    /** cuda/lstm_forward_pointwise.cu: forward cell update, saves nothing. */
    FORWARD_POINTWISE_INFERENCE("iipppppppi"),
    /** cuda/lstm_forward_pointwise.cu: forward cell update, saves gates and c_t. */
    FORWARD_POINTWISE_TRAINING("iipppppppip"),
    /** cuda/lstm_fused_step.cu: recurrent product + cell update in one launch, saves nothing. */
    FUSED_STEP_INFERENCE("iippippppppi"),
    /** cuda/lstm_fused_step.cu: the same, saves gates. */
    FUSED_STEP_TRAINING("iippippppppip"),
    /** cuda/lstm_backward_pointwise.cu: dG and the carried dc of one step. */
    BACKWARD_POINTWISE("iippppippp"),
    /** cuda/lstm_bias_grad.cu: deterministic column sums of dG. */
    BIAS_GRAD("iippp"),
    /** cuda/lstm_probe.cu: the probe's tiny kernel. */
    PROBE_FILL("iffp");

    private final String parameterKinds;

    Kernel(String parameterKinds) {
        this.parameterKinds = parameterKinds;
    }

    /** One letter per parameter: i int, f float, p pointer. */
    String parameterKinds() {
        return parameterKinds;
    }

    /** The entry point's name: {@code lstm_} + the constant in snake case. */
    String entryName() {
        return "lstm_" + name().toLowerCase(Locale.ROOT);
    }
}
