package jlstm;

import org.junit.jupiter.api.Tag;

import jlstm.internal.Backends;

/**
 * The golden cases of {@link GoldenCaseTest} on the CUDA backend: on a GPU, or without one on the
 * CPU stand-in ({@code -Djlstm.cuda.standin}, set by the build for the {@code cuda} test group),
 * which runs the real kernels through JCuda.
 */
@Tag("cuda")
class CudaGoldenCaseTest extends GoldenCaseTest {

    @Override
    LstmBackend backend() {
        return Backends.cuda();
    }

    @Override
    void theCommittedCasesCoverTheRequiredFamilies() {
        // backend-independent: checked once, by GoldenCaseTest
    }
}
