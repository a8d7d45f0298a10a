package jlstm;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** The {@code cuda} group fails, not skips, when its backend was meant to be there (a host test). */
class CudaTestSupportTest {
    static final LstmBackend.Availability MISSING = LstmBackend.Availability.no("kernels not loaded");

    @Test
    void aBuiltStandInOrARequirementTurnsASkipIntoAFailure(@TempDir Path dir) throws IOException {
        assertNull(CudaTestSupport.expectedBecause(null, false));
        assertNull(CudaTestSupport.expectedBecause("", false));
        assertNull(CudaTestSupport.expectedBecause(dir.toString(), false), "nothing built there");
        Files.write(dir.resolve("libcuda.so.1"), new byte[] {0});
        String why = CudaTestSupport.expectedBecause(dir.toString(), false);
        assertTrue(why != null && why.contains(dir.toString()), why);
        assertTrue(CudaTestSupport.expectedBecause(null, true).contains("requireCuda"));

        AssertionFailedError failed = assertThrows(AssertionFailedError.class,
                () -> CudaTestSupport.requireOrSkip(MISSING, why));
        assertTrue(failed.getMessage().contains("kernels not loaded"), failed.getMessage());
        assertThrows(TestAbortedException.class, () -> CudaTestSupport.requireOrSkip(MISSING, null));
        CudaTestSupport.requireOrSkip(LstmBackend.Availability.yes("here"), why); // available: nothing happens
    }
}
