package jlstm.internal.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;

import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;
import org.junit.jupiter.api.Test;

/**
 * The engine caches packed weights and a gate layout that depends on the batch size; a reused
 * engine must give exactly what a fresh engine gives (same code path, so the same bits) after
 * the batch size changes and after parameters are changed in place without any notification.
 * Correctness against PyTorch itself is the golden-file tests' job.
 */
class CpuEngineReuseTest {
    // H = 100: 2·B·4H·H is 80 000·B FLOPs a step, so with 2 or more workers B = 1 runs the time
    // loop on one worker (threshold 1e5), B = 2 and 3 split the hidden units (the gate layout
    // grouped per worker) and B = 40 splits the sequences: every switch of batch size below
    // changes how the loop is split, and some change the gate layout.
    private static final LstmConfig CONFIG = new LstmConfig(6, 100, 2, true, true, false);
    private static final int STEPS = 5;

    @Test
    void reusedEngineMatchesFreshEngineAcrossBatchSizesAndParameterUpdates() {
        LstmParameters params = LstmParameters.initialize(CONFIG, 7);
        try (LstmEngine reused = CpuBackend.INSTANCE.open(params)) {
            for (int batch : new int[] {40, 2, 1, 2, 40, 3}) {
                assertSameAsFresh(reused, params, batch);
            }
            // In-place updates, no parametersUpdated() call, same batch as the call before (so the
            // layout does not change either): the engine must notice by itself.
            params.weightHh(1, 1)[5] += 0.25f;
            params.weightIh(0, 0)[0] -= 0.5f;
            assertSameAsFresh(reused, params, 3);
            assertSameAsFresh(reused, params, 40);
            params.weightHh(0, 1)[3] += 0.125f;
            assertSameAsFresh(reused, params, 40);
        }
    }

    private static void assertSameAsFresh(LstmEngine reused, LstmParameters params, int batch) {
        float[][] a = runForwardBackward(reused, batch, params);
        try (LstmEngine fresh = CpuBackend.INSTANCE.open(params)) {
            float[][] b = runForwardBackward(fresh, batch, params);
            String[] names = {"y", "hn", "cn", "dx", "dh0", "dc0", "dW_ih_l0", "dW_hh_l1_reverse", "db_ih_l1"};
            for (int i = 0; i < a.length; i++) {
                assertArrayEquals(b[i], a[i], "batch " + batch + ": " + names[i] + " differs from a fresh engine's");
            }
        }
    }

    /** y, hn, cn, dx, dh0, dc0 and three gradients, for fixed random inputs. */
    private static float[][] runForwardBackward(LstmEngine engine, int batch, LstmParameters params) {
        int dirs = CONFIG.directions(), hidden = CONFIG.hiddenSize();
        int state = CONFIG.numLayers() * dirs * batch * hidden;
        float[] x = random(STEPS * batch * CONFIG.inputSize(), 1);
        float[] h0 = random(state, 2), c0 = random(state, 3);
        float[] dy = random(STEPS * batch * dirs * hidden, 4), dhn = random(state, 5), dcn = random(state, 6);
        float[] y = new float[STEPS * batch * dirs * hidden], hn = new float[state], cn = new float[state];
        float[] dx = new float[x.length], dh0 = new float[state], dc0 = new float[state];
        LstmParameters gradients = LstmParameters.zeros(CONFIG);
        engine.forward(STEPS, batch, x, h0, c0, y, hn, cn, true);
        engine.backward(dy, dhn, dcn, dx, dh0, dc0, gradients);
        return new float[][] {y, hn, cn, dx, dh0, dc0, gradients.weightIh(0, 0).clone(),
                gradients.weightHh(1, 1).clone(), gradients.biasIh(1, 0).clone()};
    }

    private static float[] random(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
