package jlstm;

/**
 * The backend seam: one engine instance runs one model's forward and backward passes on one
 * device. Implemented by {@code jlstm.cpu.CpuLstmEngine} and {@code jlstm.cuda.CudaLstmEngine};
 * users reach it through {@link LstmLayer}, which validates shapes and handles the batch-first
 * layout, so engines see time-major arrays only and may trust their sizes.
 *
 * <p>An engine is not thread-safe: one caller at a time. {@link LstmLayer} gives concurrent
 * callers one engine each (a small pool), which is how a layer is shared between threads.
 */
public interface LstmEngine extends AutoCloseable {

    /** The device this engine runs on: {@code cpu} or {@code cuda}. */
    String deviceName();

    /**
     * Runs all layers and directions over a sequence.
     *
     * @param steps    T ≥ 1
     * @param batch    B ≥ 1
     * @param x        input [T, B, I] (read only)
     * @param h0       initial hidden state [L·D, B, H], or null for zeros (read only)
     * @param c0       initial cell state [L·D, B, H], or null for zeros (read only)
     * @param y        output [T, B, D·H], overwritten
     * @param hn       final hidden state [L·D, B, H], overwritten
     * @param cn       final cell state [L·D, B, H], overwritten
     * @param training when true, keeps what {@link #backward} needs
     */
    void forward(int steps, int batch, float[] x, float[] h0, float[] c0,
                 float[] y, float[] hn, float[] cn, boolean training);

    /**
     * Back-propagates through the last training-mode forward pass.
     *
     * @param dy        gradient of the loss w.r.t. y: [T, B, D·H] (read only)
     * @param dhn       gradient w.r.t. hn: [L·D, B, H], or null for zeros
     * @param dcn       gradient w.r.t. cn: [L·D, B, H], or null for zeros
     * @param dx        gradient w.r.t. x: [T, B, I], overwritten
     * @param dh0       gradient w.r.t. h0: [L·D, B, H], overwritten
     * @param dc0       gradient w.r.t. c0: [L·D, B, H], overwritten
     * @param gradients one tensor per parameter, overwritten with that parameter's gradient
     * @throws IllegalStateException when no training-mode forward pass precedes it
     */
    void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                  LstmParameters gradients);

    /** Tells the engine that the parameter tensors were changed in place (an engine may cache them). */
    void parametersUpdated();

    /** Frees every resource the engine holds; idempotent. */
    @Override
    void close();
}
