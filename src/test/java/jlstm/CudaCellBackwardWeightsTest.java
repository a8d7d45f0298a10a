package jlstm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;

/** {@link CellBackwardWeightsTest} on a GPU cell (or the stand-in): a step's backward runs with that step's weights. */
@Tag("cuda")
class CudaCellBackwardWeightsTest {
    @BeforeEach
    void requireCuda() {
        CudaTestSupport.requireOrSkip(Backends.cuda().availability());
    }

    @Test
    void gpuCellBackwardIgnoresEditsAfterItsSteps() {
        CellBackwardWeightsTest.check(Device.CUDA);
    }
}
