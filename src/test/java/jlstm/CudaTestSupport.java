package jlstm;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a CUDA test may skip: only where no CUDA backend was meant to be there. When the CPU
 * stand-in was built ({@code -Djlstm.cuda.standin=DIR} names a folder holding its
 * {@code libcuda.so.1}, as the build sets for the {@code cuda} test group) or CUDA is required
 * ({@code -Djlstm.test.requireCuda=true}, e.g. on a GPU machine), an unavailable backend fails the
 * test: otherwise a broken kernel build or a stand-in that no longer loads would leave the whole
 * group skipped and {@code mvn verify} green with no GPU-path coverage.
 */
public final class CudaTestSupport {
    private CudaTestSupport() {
    }

    /** Returns when the backend is available; else fails (see the class comment) or skips. */
    public static void requireOrSkip(LstmBackend.Availability availability) {
        if (availability.available()) {
            return;
        }
        requireOrSkip(availability, expectedBecause());
    }

    /** {@link #requireOrSkip(LstmBackend.Availability)} with the reason a backend is expected (null: none). */
    static void requireOrSkip(LstmBackend.Availability availability, String why) {
        if (availability.available()) {
            return;
        }
        if (why != null) {
            fail("the CUDA backend is unavailable although " + why + ": " + availability.detail());
        }
        assumeTrue(false, () -> "CUDA unavailable here (no stand-in built, no GPU required): " + availability.detail());
    }

    /** Why a CUDA backend must be there, or null when it may be missing. */
    static String expectedBecause() {
        return expectedBecause(System.getProperty("jlstm.cuda.standin"), Boolean.getBoolean("jlstm.test.requireCuda"));
    }

    /** {@link #expectedBecause()} for given property values. */
    static String expectedBecause(String standin, boolean required) {
        if (required) {
            return "-Djlstm.test.requireCuda=true";
        }
        if (standin != null && !standin.isBlank() && Files.isRegularFile(Path.of(standin, "libcuda.so.1"))) {
            return "the CPU stand-in is built (-Djlstm.cuda.standin=" + standin + ")";
        }
        return null;
    }
}
