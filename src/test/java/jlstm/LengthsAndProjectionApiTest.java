package jlstm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The public API of per-sequence lengths and projections: shapes, what is rejected and how. The
 * numbers themselves are checked against PyTorch in GoldenCaseTest and against the double-precision
 * reference in GradientCheckTest.
 */
class LengthsAndProjectionApiTest {

    @Test
    void badLengthsAreRejectedClearly() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 4), 1);
        Tensor x = Tensor.zeros(5, 2, 3);
        try (LstmLayer layer = LstmLayer.create(params, Device.CPU)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layer.forward(x, null, null, new int[] {3}));
            assertEquals("lengths has 1 entries but the batch has 2 sequences", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> layer.forward(x, null, null, new int[] {3, 0}));
            assertEquals("lengths[1] = 0 is outside [1, T] = [1, 5] (every sequence needs at least one step, as in "
                    + "PyTorch's pack_padded_sequence)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> layer.forwardTraining(x, null, null, new int[] {6, 1}));
            assertTrue(e.getMessage().startsWith("lengths[0] = 6 is outside [1, T] = [1, 5]"), e.getMessage());
        }
    }

    @Test
    void fullLengthsGiveThePaddedResult() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 4).withBidirectional(true), 2);
        Tensor x = DropoutTest.random(3, 5, 2, 3);
        try (LstmLayer layer = LstmLayer.create(params, Device.CPU)) {
            LstmOutput padded = layer.forward(x);
            LstmOutput packed = layer.forward(x, null, null, new int[] {5, 5});
            TensorAssert.assertClose("y", padded.y(), packed.y(), 1e-6);
            TensorAssert.assertClose("hn", padded.hn(), packed.hn(), 1e-6);
        }
    }

    @Test
    void lengthsChangeOnlyTheShorterSequences() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 4), 4);
        Tensor x = DropoutTest.random(5, 6, 2, 3);
        try (LstmLayer layer = LstmLayer.create(params, Device.CPU)) {
            LstmOutput all = layer.forward(x);
            LstmOutput cut = layer.forward(x, null, null, new int[] {6, 2});
            float[] y = cut.y().data(), full = all.y().data();
            for (int t = 0; t < 6; t++) {
                for (int j = 0; j < 4; j++) {
                    assertEquals(full[(t * 2) * 4 + j], y[(t * 2) * 4 + j], 1e-6, "sequence 0 has all 6 steps");
                    float expected = t < 2 ? full[(t * 2 + 1) * 4 + j] : 0f;
                    assertEquals(expected, y[(t * 2 + 1) * 4 + j], 1e-6, "sequence 1: 2 steps, then zeros");
                }
            }
            for (int j = 0; j < 4; j++) {
                assertEquals(full[(1 * 2 + 1) * 4 + j], cut.hn().data()[4 + j], 1e-6, "hn of sequence 1 at step 1");
            }
        }
    }

    @Test
    void projectionShapesFollowPyTorch() {
        LstmConfig config = LstmConfig.of(3, 6).withProjSize(2).withLayers(2).withBidirectional(true);
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
                "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                "weight_hr_l0_reverse"), config.parameterNames().subList(0, 10));
        assertArrayEquals(new int[] {24, 2}, config.parameterShape("weight_hh_l1"));
        assertArrayEquals(new int[] {24, 4}, config.parameterShape("weight_ih_l1"), "layer 1 reads D·P");
        assertArrayEquals(new int[] {2, 6}, config.parameterShape("weight_hr_l1_reverse"));
        assertEquals("LSTM(I=3, H=6, L=2, D=2, P=2)", config.toString());
        try (LstmLayer layer = LstmLayer.create(LstmParameters.initialize(config, 1), Device.CPU)) {
            LstmOutput out = layer.forwardTraining(Tensor.zeros(4, 5, 3), Tensor.zeros(4, 5, 2), Tensor.zeros(4, 5, 6));
            assertArrayEquals(new int[] {4, 5, 4}, out.y().shape());
            assertArrayEquals(new int[] {4, 5, 2}, out.hn().shape());
            assertArrayEquals(new int[] {4, 5, 6}, out.cn().shape());
            LstmGradients g = layer.backward(Tensor.zeros(4, 5, 4), null, null);
            assertArrayEquals(new int[] {4, 5, 2}, g.dh0().shape());
            assertArrayEquals(new int[] {2, 6}, g.parameter("weight_hr_l0").shape());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layer.forward(Tensor.zeros(4, 5, 3), Tensor.zeros(4, 5, 6), null));
            assertEquals("h0 has shape [4, 5, 6], expected [4, 5, 2]", e.getMessage());
        }
    }

    @Test
    void badProjectionsAreRejectedClearly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LstmConfig.of(3, 4).withProjSize(4));
        assertEquals("projSize must be 0 (no projection) or from 1 to hiddenSize - 1 = 3, got 4", e.getMessage());

        Map<String, Tensor> tensors = new LinkedHashMap<>(LstmParameters.initialize(
                LstmConfig.of(3, 4).withProjSize(2).withLayers(2), 1).asMap());
        tensors.put("weight_hr_l0", Tensor.zeros(2, 5));
        e = assertThrows(IllegalArgumentException.class, () -> LstmParameters.fromTensors(tensors, false, "m"));
        assertEquals("m: tensor 'weight_hr_l0' has shape [2, 5], expected [P, H] = [P, 4] with 1 ≤ P < H "
                + "(H from weight_ih_l0 [16, 3])", e.getMessage());
        tensors.put("weight_hr_l0", Tensor.zeros(2, 4));
        tensors.remove("weight_hr_l1");
        e = assertThrows(IllegalArgumentException.class, () -> LstmParameters.fromTensors(tensors, false, "m"));
        assertTrue(e.getMessage().startsWith("m: missing tensor 'weight_hr_l1' required by LSTM(I=3, H=4, L=2, D=1, "
                + "P=2)"), e.getMessage());
        tensors.put("weight_hr_l1", Tensor.zeros(2, 4));
        LstmParameters loaded = LstmParameters.fromTensors(tensors, false, "m");
        assertEquals(2, loaded.config().projSize());
    }

    @Test
    void theCellHasNoProjection() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 4).withProjSize(2), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LstmCell.of(params, 0, 0));
        assertEquals("LstmCell has no projection (as torch.nn.LSTMCell); LSTM(I=3, H=4, L=1, D=1, P=2) has "
                + "proj_size 2", e.getMessage());
    }
}
