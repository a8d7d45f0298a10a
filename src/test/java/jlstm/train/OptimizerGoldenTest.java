package jlstm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jlstm.Tensor;

/** Two optimizer steps against torch.optim on golden cases (tools/make_optimizer_golden.py). */
class OptimizerGoldenTest {
    // float32 updates of O(1) parameters: PyTorch rounds each intermediate to float, we keep the
    // scalar factors in double, so results differ by a few ulps (~1e-7); 1e-6 leaves margin and
    // still catches any rule error (a wrong bias correction moves values by ≥ 1e-3).
    private static final double ATOL = 1e-6;
    private static final double RTOL = 1e-5;
    private static final List<String> NAMES = List.of("a", "b");

    private static void checkTwoSteps(String file, Optimizer optimizer) throws Exception {
        Map<String, Tensor> golden = Golden.tensors(file);
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (String n : NAMES) {
            params.put(n, golden.get("param." + n).copy());
        }
        for (int step = 1; step <= 2; step++) {
            Map<String, Tensor> grads = new LinkedHashMap<>();
            for (String n : NAMES) {
                grads.put(n, golden.get("grad" + step + "." + n));
            }
            optimizer.step(params, grads);
            for (String n : NAMES) {
                Golden.assertClose(file + " step " + step + " param " + n, golden.get("expected" + step + "." + n),
                        params.get(n), ATOL, RTOL);
            }
        }
        assertEquals(2, optimizer.steps());
    }

    private static double meta(String file, String key) throws Exception {
        return Double.parseDouble(Golden.metadata(file).get(key));
    }

    @Test
    void adamMatchesPyTorch() throws Exception {
        String f = "adam.safetensors";
        checkTwoSteps(f, new Adam(meta(f, "lr"), meta(f, "beta1"), meta(f, "beta2"), meta(f, "eps"),
                meta(f, "weight_decay")));
    }

    @Test
    void adamWithWeightDecayMatchesPyTorch() throws Exception {
        String f = "adam_wd.safetensors";
        checkTwoSteps(f, new Adam(meta(f, "lr"), meta(f, "beta1"), meta(f, "beta2"), meta(f, "eps"),
                meta(f, "weight_decay")));
    }

    @Test
    void sgdWithMomentumMatchesPyTorch() throws Exception {
        String f = "sgd.safetensors";
        checkTwoSteps(f, new Sgd(meta(f, "lr"), meta(f, "momentum"), meta(f, "weight_decay")));
    }

    @Test
    void adamStateRoundTripsThroughTensorsAndMetadata() throws Exception {
        // One step, save the state, restore into a fresh Adam, second step: same as two steps straight.
        String f = "adam.safetensors";
        Map<String, Tensor> golden = Golden.tensors(f);
        Map<String, Tensor> params = new LinkedHashMap<>();
        Map<String, Tensor> grads1 = new LinkedHashMap<>();
        Map<String, Tensor> grads2 = new LinkedHashMap<>();
        for (String n : NAMES) {
            params.put(n, golden.get("param." + n).copy());
            grads1.put(n, golden.get("grad1." + n));
            grads2.put(n, golden.get("grad2." + n));
        }
        Adam first = new Adam(0.01);
        first.step(params, grads1);
        Adam second = new Adam(0.01);
        second.loadState(first.stateTensors(), first.stateMetadata(), params);
        second.step(params, grads2);
        for (String n : NAMES) {
            Golden.assertClose("resumed adam " + n, golden.get("expected2." + n), params.get(n), ATOL, RTOL);
        }
    }

    @Test
    void optimizerStateOfAnotherShapeIsRejected() {
        Map<String, Tensor> params = Map.of("a", Tensor.zeros(2, 2));
        Adam adam = new Adam(0.01);
        adam.step(params, Map.of("a", Tensor.zeros(2, 2)));
        Map<String, Tensor> other = Map.of("a", Tensor.zeros(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Adam(0.01).loadState(adam.stateTensors(), adam.stateMetadata(), other));
        assertEquals(true, e.getMessage().contains("optimizer.exp_avg.a"), e.getMessage());
    }

    @Test
    void gradientOfUnknownParameterIsRejected() {
        Map<String, Tensor> params = Map.of("a", Tensor.zeros(2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Sgd(0.1, 0.9, 0).step(params, Map.of("b", Tensor.zeros(2))));
        assertEquals(true, e.getMessage().contains("'b'"), e.getMessage());
    }
}
