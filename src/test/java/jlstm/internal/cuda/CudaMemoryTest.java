package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;
import jlstm.CudaTestSupport;
import jlstm.InsufficientMemoryException;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/**
 * A shape whose workspace the GPU cannot hold is refused before anything is allocated or
 * uploaded, with the device memory it needs (on the stand-in: 16 GiB of "device memory" unless
 * JLSTM_STANDIN_MEMORY_MB says otherwise), and the engine still works afterwards.
 */
@Tag("cuda")
class CudaMemoryTest {
    @Test
    void aWorkspaceLargerThanTheGpuIsRefusedBeforeAnyWork() {
        CudaTestSupport.requireOrSkip(Backends.cuda().availability());
        LstmConfig config = LstmConfig.of(1, 512);
        try (LstmEngine engine = Backends.cuda().open(LstmParameters.initialize(config, 1))) {
            long free = ((CudaLstmEngine) engine).deviceMemoryFree();
            // G alone is T·B·4H floats: make it twice the free memory. The host arrays are never read.
            int batch = 1024;
            int steps = (int) Math.min(Integer.MAX_VALUE / batch, 2 * free / (4L * 4 * 512 * batch) + 1);
            long start = System.nanoTime();
            InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class,
                    () -> engine.forward(steps, batch, new float[1], null, null, new float[1], new float[1],
                            new float[1], false));
            assertTrue((System.nanoTime() - start) / 1e9 < 5, "the refusal must come before the work");
            assertTrue(e.getMessage().contains("GPU memory") && e.getMessage().contains("T=" + steps), e.getMessage());
            float[] y = new float[3 * 2 * 512], hn = new float[2 * 512], cn = new float[2 * 512];
            engine.forward(3, 2, new float[3 * 2], null, null, y, hn, cn, false); // still works
        }
    }
}
