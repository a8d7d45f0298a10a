package jlstm;

import static jlstm.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;

/**
 * A layer over T steps equals T calls of {@link LstmCell#step}: per direction (the reverse one
 * walking time backwards) and through stacked layers (each reading [forward | reverse] of the one
 * below). The cell and the layer sum their products in different orders, so they agree to float32
 * rounding, not bit for bit.
 */
class CellLayerConsistencyTest {
    /** float32 rounding over a few steps of O(1) values stays near 1e-7; 1e-6 leaves margin. */
    private static final double CELL_VS_LAYER_TOLERANCE = 1e-6;

    @Test
    void oneLayerEqualsCellSteps() {
        checkAgainstCells(LstmConfig.of(5, 4), 7, 3, true);
    }

    @Test
    void oneLayerFromZeroStateEqualsCellSteps() {
        checkAgainstCells(LstmConfig.of(3, 6), 5, 2, false);
    }

    @Test
    void bidirectionalStackEqualsCellStepsPerDirection() {
        checkAgainstCells(LstmConfig.of(4, 3).withLayers(3).withBidirectional(true), 6, 2, true);
    }

    @Test
    void noBiasEqualsCellSteps() {
        checkAgainstCells(LstmConfig.of(3, 3).withLayers(2).withBias(false), 4, 1, true);
    }

    @Test
    void cellRejectsMismatchedShapes() {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(3, 2), 1);
        LstmCell cell = LstmCell.of(p, 0, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cell.step(Tensor.zeros(2, 4), null, null));
        assertEquals("x has shape [2, 4], expected [B, 3]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cell.step(Tensor.zeros(2, 3), Tensor.zeros(1, 2), null));
        assertEquals("state has shape [1, 2], expected [2, 2]", e.getMessage());
    }

    /** Runs the layer, then the same sequence through cells, and compares y, hn and cn. */
    private static void checkAgainstCells(LstmConfig config, int steps, int batch, boolean initialState) {
        LstmParameters params = LstmParameters.initialize(config, 5);
        SplittableRandom random = new SplittableRandom(6);
        int layers = config.numLayers(), dirs = config.directions(), hidden = config.hiddenSize();
        Tensor x = random(random, steps, batch, config.inputSize());
        Tensor h0 = initialState ? random(random, layers * dirs, batch, hidden) : null;
        Tensor c0 = initialState ? random(random, layers * dirs, batch, hidden) : null;

        LstmOutput layerOut;
        try (LstmLayer layer = LstmLayer.create(params, Backends.cpu())) {
            layerOut = layer.forward(x, h0, c0);
        }

        Tensor hn = Tensor.zeros(layers * dirs, batch, hidden);
        Tensor cn = Tensor.zeros(layers * dirs, batch, hidden);
        Tensor input = x; // [T, B, I_k]
        for (int k = 0; k < layers; k++) {
            Tensor output = Tensor.zeros(steps, batch, dirs * hidden);
            for (int d = 0; d < dirs; d++) {
                LstmCell cell = LstmCell.of(params, k, d);
                int slot = k * dirs + d;
                Tensor h = h0 == null ? null : slice(h0, slot);
                Tensor c = c0 == null ? null : slice(c0, slot);
                for (int n = 0; n < steps; n++) {
                    int t = d == 0 ? n : steps - 1 - n;
                    LstmCell.State s = cell.step(slice(input, t), h, c);
                    h = s.h();
                    c = s.c();
                    for (int b = 0; b < batch; b++) {
                        System.arraycopy(h.data(), b * hidden, output.data(), (t * batch + b) * dirs * hidden + d * hidden,
                                hidden);
                    }
                }
                System.arraycopy(h.data(), 0, hn.data(), slot * batch * hidden, batch * hidden);
                System.arraycopy(c.data(), 0, cn.data(), slot * batch * hidden, batch * hidden);
            }
            input = output;
        }
        assertClose(config + " y", input, layerOut.y(), CELL_VS_LAYER_TOLERANCE);
        assertClose(config + " hn", hn, layerOut.hn(), CELL_VS_LAYER_TOLERANCE);
        assertClose(config + " cn", cn, layerOut.cn(), CELL_VS_LAYER_TOLERANCE);
    }

    /** Row i of a rank-3 tensor as a [dim1, dim2] copy. */
    private static Tensor slice(Tensor t, int i) {
        int rows = t.dim(1), cols = t.dim(2);
        float[] out = new float[rows * cols];
        System.arraycopy(t.data(), i * rows * cols, out, 0, out.length);
        return Tensor.of(out, rows, cols);
    }

    private static Tensor random(SplittableRandom random, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) random.nextDouble(-1, 1);
        }
        return t;
    }
}
