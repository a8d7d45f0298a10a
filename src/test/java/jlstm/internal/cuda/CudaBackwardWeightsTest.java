package jlstm.internal.cuda;

import static jlstm.internal.cpu.BackwardUsesForwardWeightsTest.edit;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import java.util.stream.Stream;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.internal.Backends;
import jlstm.internal.cpu.BackwardUsesForwardWeightsTest;
import jlstm.internal.cpu.BackwardUsesForwardWeightsTest.Pass;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract of {@link jlstm.LstmEngine#backward} on the CUDA engine (GPU or stand-in): weights
 * edited in place and announced with {@code parametersUpdated()} between a training-mode forward
 * and its backward do not reach that backward (bit for bit the unedited pass's gradients), in every
 * schedule, with and without graphs, and with lengths, a projection and dropout masks; the next
 * forward runs with them. As {@code BackwardUsesForwardWeightsTest} on the CPU paths.
 */
@Tag("cuda")
class CudaBackwardWeightsTest {

    @BeforeEach
    void requireGpu() {
        jlstm.CudaTestSupport.requireOrSkip(Backends.cuda().availability());
    }

    static Stream<Arguments> schedules() {
        return Stream.of(CudaLstmEngine.Schedule.GEMM, CudaLstmEngine.Schedule.FUSED,
                CudaLstmEngine.Schedule.PERSISTENT).flatMap(s -> Stream.of(Arguments.of(s, false), Arguments.of(s, true)));
    }

    @ParameterizedTest(name = "{0} graphs={1}")
    @MethodSource("schedules")
    void backwardIgnoresEditsAfterItsForward(CudaLstmEngine.Schedule schedule, boolean graphs) {
        LstmConfig config = new LstmConfig(6, 40, 1, true, true, false);
        check(config, Pass.random(config, 4, 3, false, 3), null, schedule, graphs);
    }

    @Test
    void withLengthsProjectionAndDropoutMasks() {
        LstmConfig config = new LstmConfig(3, 6, 2, true, true, false, 4, 0);
        check(config, Pass.random(config, 5, 3, true, 4), new int[] {5, 2, 4}, CudaLstmEngine.Schedule.AUTO, true);
    }

    private static void check(LstmConfig config, Pass inputs, int[] lengths, CudaLstmEngine.Schedule schedule,
                              boolean graphs) {
        LstmParameters params = LstmParameters.initialize(config, 7);
        try (CudaLstmEngine engine = open(params, schedule, graphs)) {
            Pass unedited = inputs.forward(engine, lengths).backward(engine);

            Pass pass = inputs.forward(engine, lengths);
            edit(params);
            engine.parametersUpdated();
            pass.backward(engine);
            pass.assertSameBits(unedited, "backward after an in-place edit and parametersUpdated()");

            Pass after = inputs.forward(engine, lengths).backward(engine);
            Pass fresh;
            try (CudaLstmEngine other = open(params, schedule, graphs)) {
                fresh = inputs.forward(other, lengths).backward(other);
            }
            after.assertSameBits(fresh, "the next pass, against a new engine on the edited weights");
            assertFalse(Arrays.equals(after.y, unedited.y), "the edit changes y: the test can tell the weights apart");
        }
    }

    private static CudaLstmEngine open(LstmParameters params, CudaLstmEngine.Schedule schedule, boolean graphs) {
        CudaLstmEngine engine = CudaLstmEngine.open(params);
        engine.setSchedule(schedule);
        engine.setGraphs(graphs);
        return engine;
    }

    /** Through the public API on Device.CUDA. */
    @Test
    void layerBackwardDifferentiatesItsForwardTraining() {
        BackwardUsesForwardWeightsTest.layerBackwardDifferentiatesItsForward(Device.CUDA);
    }
}
