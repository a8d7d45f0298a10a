package jlstm.examples;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.LstmParameters;
import jlstm.Tensor;

/** The tensor-views example of docs/API.md (region api-views), run by ExamplesDocTest. */
public final class ApiViewsProgram {
    private ApiViewsProgram() {
    }

    /** What the example computed, and the storage it viewed (for the test to recompute densely). */
    public record Result(LstmOutput out, float[] flat, FloatBuffer buffer) {
    }

    public static Result run() {
        // [example api-views]
        float[] flat = new float[4 + 20 * 2 * 3];          // x lives at offset 4 of a larger array
        Tensor x = Tensor.view(flat, 4, 20, 2, 3);         // [T, B, I] over flat[4, 124): not a copy
        x.set(0, 1f);                                      // writes through: flat[4] is 1 now
        FloatBuffer buffer = ByteBuffer.allocateDirect(2 * 4 * Float.BYTES)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();   // e.g. memory shared with native code
        buffer.put(0, 0.5f);
        Tensor h0 = Tensor.of(buffer, 1, 2, 4);            // [L·D, B, R] from the buffer's position
        try (LstmLayer lstm = LstmLayer.create(LstmParameters.initialize(LstmConfig.of(3, 4), 1), Device.CPU)) {
            LstmOutput out = lstm.forward(x, h0, null);    // each view is copied once for the engine
            System.out.println("y " + out.y() + ", x dense? " + x.isDense() + ", flat[4] = " + flat[4]);
            // [end]
            return new Result(out, flat, buffer);
        }
    }
}
