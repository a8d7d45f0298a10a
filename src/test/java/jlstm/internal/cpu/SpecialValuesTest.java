package jlstm.internal.cpu;

import static jlstm.TensorAssert.PYTORCH_RELATIVE_TOLERANCE;

import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import jlstm.GoldenCase;
import jlstm.LstmLayer;
import jlstm.SpecialValueAssert;
import jlstm.Tensor;

/**
 * Special values (±Inf, NaN, ±1e30, −0.0 in x, h0, c0 and the weights) as PyTorch's float32
 * nn.LSTM handles them (tools/make_special_golden.py), on every CPU path, at H = 7 and 17 (padded
 * vector lanes on both native paths), 16 and 33: an Inf or NaN stays in its batch row, saturated
 * gates have a derivative of exactly 0 (x = ±1e30 trains to the gradients PyTorch gives), NaN
 * positions and infinities exactly as PyTorch's.
 */
class SpecialValuesTest {
    static Stream<Arguments> casesOnEveryPath() {
        return GoldenCase.specialValues().stream()
                .flatMap(c -> Stream.of(CpuPathsTest.Path.values()).map(p -> Arguments.of(c, p)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("casesOnEveryPath")
    void everyPathMatchesPyTorch(GoldenCase golden, CpuPathsTest.Path path) throws Exception {
        Map<String, Tensor> actual;
        try (LstmLayer layer = LstmLayer.create(golden.parameters(), path.backend())) {
            actual = golden.runThrough(layer);
        }
        SpecialValueAssert.assertAllMatch(golden + " (" + path + ")", golden.expected(), actual,
                PYTORCH_RELATIVE_TOLERANCE);
    }
}
