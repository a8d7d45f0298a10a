package jlstm.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import jlstm.Backends;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;

/**
 * Per-sequence lengths, projections and dropout are CPU-only so far: the CUDA engine must refuse
 * them with a message that says so (never compute something else), and still run what it supports.
 * On a GPU, or on the CPU stand-in of the {@code cuda} test group.
 */
@Tag("cuda")
class CudaRejectsCpuOnlyFeaturesTest {

    @BeforeEach
    void requireCuda() {
        LstmBackend.Availability a = Backends.cuda().availability();
        assumeTrue(a.available(), () -> "CUDA backend unavailable here: " + a.detail());
    }

    @Test
    void projectionIsRefusedWhenTheLayerIsCreated() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 5).withProjSize(2), 1);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> LstmLayer.create(params, Backends.cuda()));
        assertEquals("the CUDA engine does not support projections (proj_size = 2) yet; use the CPU backend "
                + "(Device.CPU)", e.getMessage());
    }

    @Test
    void lengthsAreRefused() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 5), 1);
        try (LstmLayer layer = LstmLayer.create(params, Backends.cuda())) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> layer.forward(Tensor.zeros(4, 2, 3), null, null, new int[] {4, 2}));
            assertEquals("the CUDA engine does not support per-sequence lengths yet; use the CPU backend (Device.CPU)",
                    e.getMessage());
        }
    }

    @Test
    void dropoutIsRefusedInTrainingAndOffInInference() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 5).withLayers(2).withDropout(0.5), 1);
        Tensor x = Tensor.zeros(4, 2, 3);
        x.data()[1] = 1f;
        try (LstmLayer layer = LstmLayer.create(params, Backends.cuda());
             LstmLayer cpu = LstmLayer.create(params, Backends.cpu())) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> layer.forwardTraining(x, null, null));
            assertEquals("the CUDA engine does not support dropout between layers yet; use the CPU backend "
                    + "(Device.CPU)", e.getMessage());
            float[] y = layer.forward(x).y().data(), expected = cpu.forward(x).y().data();
            for (int i = 0; i < y.length; i++) {
                assertEquals(expected[i], y[i], 1e-4, "inference (no dropout) at " + i);
            }
        }
    }
}
