package jlstm;

import org.junit.jupiter.api.Tag;

import jlstm.internal.Backends;

/** {@link EngineVsReferenceTest} on the CUDA backend (a GPU, or the CPU stand-in without one). */
@Tag("cuda")
class CudaEngineVsReferenceTest extends EngineVsReferenceTest {

    @Override
    LstmBackend backend() {
        return Backends.cuda();
    }
}
