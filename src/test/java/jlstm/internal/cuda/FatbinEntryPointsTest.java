package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/**
 * The packaged fatbin (built by cuda/build.sh during the Maven build, uncompressed) holds every
 * entry point the Java code launches: as a symbol of each SASS image and as an {@code .entry} of
 * the PTX. Runs wherever nvcc is available (CI requires it); a build without nvcc has no fatbin,
 * which {@link CudaProbeFallbackTest} covers as "kernels not built".
 */
class FatbinEntryPointsTest {
    /** SASS images in the fatbin: sm_75, sm_80, sm_86, sm_89, sm_90 (cuda/build.sh). */
    private static final int SASS_IMAGES = 5;

    private static boolean nvccAvailable() {
        return NativeTools.onPath("nvcc") || Files.isExecutable(Path.of("/usr/local/cuda/bin/nvcc"))
                || Boolean.getBoolean("jlstm.requireNvcc");
    }

    @Test
    void everyLaunchedKernelIsInThePackagedFatbin() {
        assumeTrue(nvccAvailable(), "nvcc not available: the build made no fatbin to check");
        byte[] fatbin = CudaModule.readFatbin();
        assertNotNull(fatbin, CudaModule.FATBIN_RESOURCE + " missing from the classpath although nvcc is available");
        String bytes = new String(fatbin, StandardCharsets.ISO_8859_1);
        assertEquals(SASS_IMAGES, count(bytes, "\u007fELF"), "SASS images (ELF) in the fatbin");
        for (Kernel kernel : Kernel.values()) {
            String name = kernel.entryName();
            assertEquals(SASS_IMAGES, count(bytes, "\0" + name + "\0"),
                    name + ": expected as a symbol in each of the " + SASS_IMAGES + " SASS images");
            assertTrue(bytes.contains(".entry " + name + "("), name + ": no .entry in the fatbin's PTX");
        }
    }

    @Test
    void entryNamesFollowTheKernelFiles() {
        // The snake_case names the Java side derives must be the extern "C" names in cuda/*.cu.
        assertEquals("lstm_forward_pointwise_training", Kernel.FORWARD_POINTWISE_TRAINING.entryName());
        assertEquals("lstm_fused_step_inference", Kernel.FUSED_STEP_INFERENCE.entryName());
        assertEquals("lstm_persistent_backward", Kernel.PERSISTENT_BACKWARD.entryName());
    }

    private static int count(String haystack, String needle) {
        int n = 0;
        for (int at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) {
            n++;
        }
        return n;
    }
}
