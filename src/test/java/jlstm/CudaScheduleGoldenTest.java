package jlstm;

import static jlstm.TensorAssert.PYTORCH_RELATIVE_TOLERANCE;
import static jlstm.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import jlstm.internal.Backends;

/**
 * Every golden case from PyTorch through every CUDA schedule (gemm, fused, persistent), with CUDA
 * graphs off and on: forward and backward, every output and gradient within the accuracy
 * contract. The schedule and graphs are chosen by the system properties the engine reads when a
 * layer opens it ({@code jlstm.cuda.schedule}, {@code jlstm.cuda.graphs}).
 */
@Tag("cuda")
class CudaScheduleGoldenTest {

    static Stream<Arguments> casesAndVariants() {
        List<Arguments> out = new ArrayList<>();
        for (GoldenCase c : GoldenCase.all()) {
            for (String schedule : List.of("gemm", "fused", "persistent")) {
                for (String graphs : List.of("off", "on")) {
                    out.add(Arguments.of(c, schedule, graphs));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} schedule={1} graphs={2}")
    @MethodSource("casesAndVariants")
    void everyScheduleMatchesPyTorch(GoldenCase golden, String schedule, String graphs) throws Exception {
        LstmBackend.Availability a = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
        String oldSchedule = System.getProperty("jlstm.cuda.schedule");
        String oldGraphs = System.getProperty("jlstm.cuda.graphs");
        System.setProperty("jlstm.cuda.schedule", schedule);
        System.setProperty("jlstm.cuda.graphs", graphs);
        Map<String, Tensor> actual;
        try (LstmLayer layer = LstmLayer.create(golden.parameters(), Backends.cuda())) {
            actual = golden.runThrough(layer);
        } finally {
            restore("jlstm.cuda.schedule", oldSchedule);
            restore("jlstm.cuda.graphs", oldGraphs);
        }
        for (Map.Entry<String, Tensor> e : golden.expected().entrySet()) {
            Tensor got = actual.get(e.getKey());
            assertTrue(got != null, golden + ": no '" + e.getKey() + "'");
            assertClose(golden + " " + schedule + " graphs " + graphs + " " + e.getKey(), e.getValue(), got,
                    PYTORCH_RELATIVE_TOLERANCE);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
