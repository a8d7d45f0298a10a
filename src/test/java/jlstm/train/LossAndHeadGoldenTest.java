package jlstm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jlstm.Tensor;

/** Head, losses and clipping against PyTorch golden cases (tools/make_optimizer_golden.py). */
class LossAndHeadGoldenTest {
    // Float32 sums of a handful of O(1) products: a few ulps apart from PyTorch's order of summation.
    private static final double ATOL = 1e-6;
    private static final double RTOL = 1e-5;

    private static void checkHead(String file, LinearHead.Mode mode, Loss loss) throws Exception {
        Map<String, Tensor> g = Golden.tensors(file);
        LinearHead head = new LinearHead(g.get("head.weight").copy(), g.get("head.bias").copy(), mode);
        Tensor target = g.get("target");
        if (mode == LinearHead.Mode.LAST_STEP) {
            target = target.reshape(target.numel()); // class indices [B]
        }
        LossValue value = loss.compute(head.forward(g.get("y")), target);
        assertEquals(g.get("loss").data()[0], value.value(), 1e-6 * Math.max(1, Math.abs(value.value())),
                file + ": loss");
        LinearHead.Gradients grads = head.backward(value.gradient());
        Golden.assertClose(file + ": d head.weight", g.get("grad.head.weight"), grads.weight(), ATOL, RTOL);
        Golden.assertClose(file + ": d head.bias", g.get("grad.head.bias"), grads.bias(), ATOL, RTOL);
        Golden.assertClose(file + ": d y", g.get("grad.y"), grads.y(), ATOL, RTOL);
    }

    @Test
    void lastStepHeadWithCrossEntropyMatchesPyTorch() throws Exception {
        checkHead("head_ce.safetensors", LinearHead.Mode.LAST_STEP, new SoftmaxCrossEntropy());
    }

    @Test
    void everyStepHeadWithMeanSquaredErrorMatchesPyTorch() throws Exception {
        checkHead("head_mse.safetensors", LinearHead.Mode.EVERY_STEP, new MeanSquaredError());
    }

    @Test
    void clippingByGlobalNormMatchesPyTorch() throws Exception {
        Map<String, Tensor> g = Golden.tensors("clip.safetensors");
        double maxNorm = Double.parseDouble(Golden.metadata("clip.safetensors").get("max_norm"));
        Map<String, Tensor> grads = new LinkedHashMap<>();
        grads.put("a", g.get("grad.a").copy());
        grads.put("b", g.get("grad.b").copy());
        double norm = GradientClipping.clipByGlobalNorm(grads.values(), maxNorm);
        assertEquals(g.get("total_norm").data()[0], norm, 1e-5 * norm, "total norm");
        Golden.assertClose("clipped a", g.get("clipped.a"), grads.get("a"), ATOL, RTOL);
        Golden.assertClose("clipped b", g.get("clipped.b"), grads.get("b"), ATOL, RTOL);
    }

    @Test
    void clippingLeavesSmallGradientsAlone() {
        Tensor small = Tensor.of(new float[] {0.3f, -0.4f}, 2);
        List<Tensor> grads = new ArrayList<>(List.of(small));
        assertEquals(0.5, GradientClipping.clipByGlobalNorm(grads, 1.0), 1e-7);
        assertEquals(0.3f, small.data()[0]);
        assertEquals(-0.4f, small.data()[1]);
    }
}
