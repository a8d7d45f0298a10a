package jlstm.internal.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import jlstm.LstmConfig;
import jlstm.LstmParameters;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The native workspace estimate counted before any work ({@link NativeLstm#workspaceBytes}, what
 * LstmLayer counts against -Xmx) is exactly what a fresh engine allocates for the shape: with and
 * without a projection, dropout masks, padded units (H = 7, 17), both directions, in inference
 * and training.
 */
class NativeWorkspaceEstimateTest {

    private static final LstmConfig[] CONFIGS = {
            new LstmConfig(5, 7, 1, false, true, false),
            new LstmConfig(6, 17, 2, true, true, false, 0, 0.3),
            new LstmConfig(10, 40, 3, true, false, false, 9, 0.5),
            new LstmConfig(3, 33, 2, false, true, false, 20, 0),
    };

    @ParameterizedTest
    @ValueSource(strings = {"avx512", "avx2"})
    void theEstimateIsWhatAFreshEngineAllocates(String kernels) {
        int block = NativeKernels.unitBlockFor(kernels);
        assumeTrue(block > 0, () -> kernels + " kernels cannot run here: " + NativeKernels.status().description());
        for (int threads : new int[] {1, 3}) {
            WorkerPool pool = WorkerPool.forThreads(threads);
            for (LstmConfig config : CONFIGS) {
                for (boolean training : new boolean[] {false, true}) {
                    int t = 4, b = 3;
                    try (NativeLstm engine = new NativeLstm(LstmParameters.initialize(config, 5), block, pool,
                            CpuTuning.DEFAULT)) {
                        run(engine, config, t, b, training);
                        assertEquals(NativeLstm.workspaceBytes(config, block, threads, t, b, training),
                                engine.workspaceBytesHeld(), config + " " + kernels + " threads " + threads
                                        + (training ? " training" : " inference"));
                    }
                }
            }
        }
    }

    /** One call as LstmLayer makes it: in training, masks drawn when the config has dropout, and a backward pass. */
    private static void run(NativeLstm engine, LstmConfig config, int t, int b, boolean training) {
        int l = config.numLayers(), d = config.directions(), r = config.realHiddenSize(), h = config.hiddenSize();
        int in = config.inputSize();
        float[] x = new float[t * b * in];
        Arrays.fill(x, 0.5f);
        float[] y = new float[t * b * d * r], hn = new float[l * d * b * r], cn = new float[l * d * b * h];
        float[][] masks = null;
        if (training && l > 1 && config.dropout() > 0) {
            masks = new float[l - 1][t * b * d * r];
            for (float[] m : masks) {
                Arrays.fill(m, 1f);
            }
        }
        engine.forward(t, b, x, null, null, y, hn, cn, training, null, masks);
        if (training) {
            engine.backward(new float[y.length], null, null, new float[x.length], new float[hn.length],
                    new float[cn.length], LstmParameters.zeros(config));
        }
    }
}
