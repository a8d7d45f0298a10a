package jlstm;

import static jlstm.GradientCheckTest.FLOAT_VS_DOUBLE_TOLERANCE;
import static jlstm.TensorAssert.assertClose;
import static jlstm.TensorAssert.toDoubles;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import jlstm.GradientCheckTest.Problem;
import jlstm.GradientCheckTest.Values;
import jlstm.internal.Backends;

/**
 * An engine's float32 forward and backward against the double-precision
 * {@link DoubleLstmReference} (itself checked by finite differences in {@link GradientCheckTest}),
 * on the CPU; {@link CudaEngineVsReferenceTest} runs the same on the CUDA backend.
 */
class EngineVsReferenceTest {

    /** The backend under test. */
    LstmBackend backend() {
        return Backends.cpu();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jlstm.GradientCheckTest#problems")
    void engineAgreesWithDoubleReference(Problem p) {
        LstmBackend backend = backend();
        GoldenCaseTest.assumeUsable(backend);
        Values v = new Values(p, 23);
        LstmConfig c = p.config();
        int[] xShape = {p.steps(), p.batch(), c.inputSize()};
        int[] yShape = {p.steps(), p.batch(), c.outputSize()};
        int[] hShape = {c.numLayers() * c.directions(), p.batch(), c.realHiddenSize()};
        int[] stateShape = {c.numLayers() * c.directions(), p.batch(), c.hiddenSize()};

        DoubleLstmReference ref = DoubleLstmReference.of(v.parameters);
        DoubleLstmReference.Pass pass = ref.forward(p.steps(), p.batch(), toDoubles(v.x),
                v.h0 == null ? null : toDoubles(v.h0), v.c0 == null ? null : toDoubles(v.c0), p.lengths(),
                v.maskDoubles());
        DoubleLstmReference.Gradients expected = ref.backward(pass, toDoubles(v.dy),
                v.dhn == null ? null : toDoubles(v.dhn), v.dcn == null ? null : toDoubles(v.dcn));

        try (LstmLayer layer = LstmLayer.create(v.parameters, backend)) {
            LstmOutput out = layer.forwardTraining(Tensor.of(v.x, xShape), tensor(v.h0, hShape),
                    tensor(v.c0, stateShape), p.lengths(), v.maskTensors(p));
            LstmGradients g = layer.backward(Tensor.of(v.dy, yShape), tensor(v.dhn, hShape),
                    tensor(v.dcn, stateShape));
            assertClose(p + " y", yShape, pass.y, out.y().data(), FLOAT_VS_DOUBLE_TOLERANCE);
            assertClose(p + " hn", hShape, pass.hn, out.hn().data(), FLOAT_VS_DOUBLE_TOLERANCE);
            assertClose(p + " cn", stateShape, pass.cn, out.cn().data(), FLOAT_VS_DOUBLE_TOLERANCE);
            assertClose(p + " dx", xShape, expected.dx(), g.dx().data(), FLOAT_VS_DOUBLE_TOLERANCE);
            assertClose(p + " dh0", hShape, expected.dh0(), g.dh0().data(), FLOAT_VS_DOUBLE_TOLERANCE);
            assertClose(p + " dc0", stateShape, expected.dc0(), g.dc0().data(), FLOAT_VS_DOUBLE_TOLERANCE);
            for (String name : c.parameterNames()) {
                assertClose(p + " grad." + name, c.parameterShape(name), expected.parameters().get(name),
                        g.parameter(name).data(), FLOAT_VS_DOUBLE_TOLERANCE);
            }
        }
    }

    private static Tensor tensor(float[] data, int[] shape) {
        return data == null ? null : Tensor.of(data, shape);
    }
}
