package jlstm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jlstm.Tensor;

/**
 * SGD's state survives a save and load (a host test; the CUDA training tests had been the only
 * ones to notice a loadState that dropped the momentum buffers): the restored optimizer's next
 * steps are those of the one that never stopped, bit for bit.
 */
class SgdStateTest {
    private static Map<String, Tensor> parameters() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("w", Tensor.of(new float[] {0.5f, -1.25f, 2f}, 3));
        p.put("b", Tensor.of(new float[] {0.1f}, 1));
        return p;
    }

    private static Map<String, Tensor> gradients(int step) {
        Map<String, Tensor> g = new LinkedHashMap<>();
        g.put("w", Tensor.of(new float[] {0.3f * step, -0.2f, 0.05f + step}, 3));
        g.put("b", Tensor.of(new float[] {-0.4f / step}, 1));
        return g;
    }

    private static Map<String, Tensor> copy(Map<String, Tensor> m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v.copy()));
        return out;
    }

    @Test
    void loadStateKeepsTheMomentumBuffers() {
        Map<String, Tensor> straight = parameters();
        Sgd running = new Sgd(0.1, 0.9, 0.01);
        running.step(straight, gradients(1));
        running.step(straight, gradients(2));

        Map<String, Tensor> resumed = copy(straight);
        Sgd restored = new Sgd(0.1, 0.9, 0.01);
        restored.loadState(running.stateTensors(), running.stateMetadata(), resumed);

        for (int step = 3; step <= 5; step++) {
            running.step(straight, gradients(step));
            restored.step(resumed, gradients(step));
            for (String name : straight.keySet()) {
                assertArrayEquals(straight.get(name).data(), resumed.get(name).data(), name + " after step " + step);
            }
        }

        // Without the buffers (a fresh optimizer) the steps differ: the comparison above could fail.
        Map<String, Tensor> fresh = copy(resumed);
        Sgd forgetful = new Sgd(0.1, 0.9, 0.01);
        forgetful.step(fresh, gradients(6));
        running.step(straight, gradients(6));
        assertFalse(java.util.Arrays.equals(straight.get("w").data(), fresh.get("w").data()));
    }
}
