package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jlstm.internal.Backends;
import jlstm.Device;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import org.junit.jupiter.api.Test;

/**
 * Without a usable GPU the CUDA backend says exactly why, {@code auto} takes the CPU and
 * {@code cuda} fails with that reason. On a machine with a working GPU these tests skip.
 */
class CudaProbeFallbackTest {
    /** The first words of every reason the probe can give. */
    private static final List<String> KNOWN_REASONS = List.of("no JCuda natives", "no CUDA driver",
            "JCuda natives do not load", "CUDA driver too old", "no CUDA device", "CUDA driver does not initialise",
            "cuBLAS library missing", "kernels not built", "kernel module does not load", "probe kernel gave",
            "probe failed");

    private static LstmBackend.Availability unavailable() {
        LstmBackend.Availability a = Backends.cuda().availability();
        assumeFalse(a.available(), "a usable GPU is present (" + a.detail() + "): the fallback is not exercised");
        return a;
    }

    @Test
    void reasonIsOneOfTheKnownOnes() {
        String reason = unavailable().detail();
        assertTrue(KNOWN_REASONS.stream().anyMatch(reason::startsWith), "unexpected probe reason: " + reason);
    }

    @Test
    void withoutTheDriverLibraryTheReasonSaysSo() {
        String reason = unavailable().detail();
        List<String> dirs = new ArrayList<>(List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64",
                "/lib/x86_64-linux-gnu", "/usr/lib/wsl/lib"));
        String ldPath = System.getenv("LD_LIBRARY_PATH");
        if (ldPath != null) {
            dirs.addAll(List.of(ldPath.split(":")));
        }
        boolean driverInstalled = dirs.stream().anyMatch(d -> !d.isEmpty() && Files.exists(Path.of(d, "libcuda.so.1")));
        assumeFalse(driverInstalled, "libcuda.so.1 is installed here; the no-driver reason is not expected");
        assertEquals("no CUDA driver (libcuda.so.1 not found)", reason);
    }

    @Test
    void probeIsCached() {
        unavailable();
        assertSame(Backends.cuda().availability(), Backends.cuda().availability());
    }

    @Test
    void autoFallsBackToTheCpu() {
        unavailable();
        assertSame(Backends.cpu(), Backends.select(Device.AUTO));
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 4), 1);
        try (LstmLayer layer = LstmLayer.create(params, Device.AUTO)) {
            assertEquals("cpu", layer.deviceName());
        }
    }

    @Test
    void explicitCudaFailsWithTheReason() {
        String reason = unavailable().detail();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.select(Device.CUDA));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 4), 1);
        IllegalStateException open = assertThrows(IllegalStateException.class,
                () -> Backends.cuda().open(params));
        assertTrue(open.getMessage().contains(reason), open.getMessage());
        assertFalse(open.getMessage().isBlank());
    }

    @Test
    void driverVersionIsShownAsMajorMinor() {
        assertEquals("12.4", CudaProbe.versionText(12040));
        assertEquals("13.0", CudaProbe.versionText(13000));
    }
}
