package jlstm.cuda;

import java.util.Locale;

/**
 * Every kernel entry point the Java code launches, with its {@code extern "C"} name in the
 * fatbin built from {@code cuda/*.cu}. The module loader resolves all of them up front, and
 * {@code FatbinEntryPointsTest} checks that the packaged fatbin contains each name.
 */
enum Kernel {
    /** cuda/lstm_forward_pointwise.cu: forward cell update, saves nothing. */
    FORWARD_POINTWISE_INFERENCE,
    /** cuda/lstm_forward_pointwise.cu: forward cell update, saves gates and c_t. */
    FORWARD_POINTWISE_TRAINING,
    /** cuda/lstm_fused_step.cu: recurrent product + cell update in one launch, saves nothing. */
    FUSED_STEP_INFERENCE,
    /** cuda/lstm_fused_step.cu: the same, saves gates. */
    FUSED_STEP_TRAINING,
    /** cuda/lstm_backward_pointwise.cu: dG and the carried dc of one step. */
    BACKWARD_POINTWISE,
    /** cuda/lstm_bias_grad.cu: deterministic column sums of dG. */
    BIAS_GRAD,
    /** cuda/lstm_probe.cu: the probe's tiny kernel. */
    PROBE_FILL;

    /** The entry point's name: {@code lstm_} + the constant in snake case. */
    String entryName() {
        return "lstm_" + name().toLowerCase(Locale.ROOT);
    }
}
