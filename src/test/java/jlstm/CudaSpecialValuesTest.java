package jlstm;

import static jlstm.TensorAssert.PYTORCH_RELATIVE_TOLERANCE;

import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import jlstm.internal.Backends;

/**
 * The special-value cases of {@link jlstm.internal.cpu.SpecialValuesTest} on the CUDA backend (on a GPU, or
 * on the CPU stand-in in the {@code cuda} test group).
 */
@Tag("cuda")
class CudaSpecialValuesTest {
    @ParameterizedTest(name = "{0}")
    @MethodSource("jlstm.GoldenCase#specialValues")
    void cudaMatchesPyTorch(GoldenCase golden) throws Exception {
        CudaTestSupport.requireOrSkip(Backends.cuda().availability());
        Map<String, Tensor> actual;
        try (LstmLayer layer = LstmLayer.create(golden.parameters(), Backends.cuda())) {
            actual = golden.runThrough(layer);
        }
        SpecialValueAssert.assertAllMatch(golden + " (cuda)", golden.expected(), actual, PYTORCH_RELATIVE_TOLERANCE);
    }
}
