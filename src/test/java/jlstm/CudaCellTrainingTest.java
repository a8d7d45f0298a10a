package jlstm;


import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

import jlstm.internal.Backends;

/**
 * {@link CellTrainingTest} with the cells stepping on CUDA ({@code LstmCell.on(Device.CUDA)}): the
 * hand-written loop against torch.nn.LSTMCell's golden files and against the layer's backward
 * through time. On a GPU, or on the CPU stand-in of the {@code cuda} test group.
 */
@Tag("cuda")
class CudaCellTrainingTest extends CellTrainingTest {

    @BeforeEach
    void requireCuda() {
        LstmBackend.Availability a = Backends.cuda().availability();
        jlstm.CudaTestSupport.requireOrSkip(a);
    }

    @Override
    Device device() {
        return Device.CUDA;
    }

    @Override
    void backwardRejectsStepsAndGradientsOfAnotherCell() {
        // device-independent: checked by CellTrainingTest
    }

    @Override
    void initializeLooksLikeTorchLstmCell() {
        // device-independent: checked by CellTrainingTest
    }
}
