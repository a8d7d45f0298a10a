package jlstm;

import org.jspecify.annotations.Nullable;

/**
 * The backend seam: one engine instance runs one model's forward and backward passes on one
 * device. Implemented by {@code jlstm.internal.cpu.CpuLstmEngine} and {@code jlstm.internal.cuda.CudaLstmEngine};
 * users reach it through {@link LstmLayer}, which validates shapes and handles the batch-first
 * layout, so engines see time-major arrays only and may trust their sizes.
 *
 * <p>State sizes: h0, hn, dh0, dhn are [L·D, B, R] and c0, cn, dc0, dcn [L·D, B, H], where R = P
 * for a model with a projection and R = H otherwise ({@link LstmConfig#realHiddenSize()}).
 *
 * <p>An engine is not thread-safe: one caller at a time. {@link LstmLayer} gives concurrent
 * callers one engine each (a small pool), which is how a layer is shared between threads.
 */
public interface LstmEngine extends AutoCloseable {

    /**
     * The device this engine runs on.
     *
     * @return {@code cpu} or {@code cuda}
     */
    String deviceName();

    /**
     * Runs all layers and directions over a sequence.
     *
     * @param steps    T ≥ 1
     * @param batch    B ≥ 1
     * @param x        input [T, B, I] (read only)
     * @param h0       initial hidden state [L·D, B, R], or null for zeros (read only)
     * @param c0       initial cell state [L·D, B, H], or null for zeros (read only)
     * @param y        output [T, B, D·R], overwritten
     * @param hn       final hidden state [L·D, B, R], overwritten
     * @param cn       final cell state [L·D, B, H], overwritten
     * @param training when true, keeps what {@link #backward} needs
     */
    void forward(int steps, int batch, float[] x, float @Nullable [] h0, float @Nullable [] c0,
                 float[] y, float[] hn, float[] cn, boolean training);

    /**
     * A forward pass with per-sequence lengths and/or dropout between layers (the plain call when
     * both are null). Semantics are PyTorch's: with lengths, sequence b runs steps [0, lengths[b])
     * only, as a {@code PackedSequence} does: its outputs past its length are zero, its hn/cn are
     * taken at its last valid step, its reverse direction starts at that step, and backward sends
     * nothing through the padded steps. Dropout multiplies layer k's output by
     * {@code dropoutMasks[k]} before layer k + 1 reads it (hn, cn and the last layer's y are not
     * masked); backward multiplies the gradient by the same mask.
     *
     * <p>The default implementation supports neither and says so: an engine that lacks a feature
     * throws {@link UnsupportedOperationException} naming it (today the CUDA engine; the CPU engine
     * runs both).
     *
     * @param steps    T ≥ 1
     * @param batch    B ≥ 1
     * @param x        input [T, B, I] (read only)
     * @param h0       initial hidden state [L·D, B, R], or null for zeros (read only)
     * @param c0       initial cell state [L·D, B, H], or null for zeros (read only)
     * @param y        output [T, B, D·R], overwritten
     * @param hn       final hidden state [L·D, B, R], overwritten
     * @param cn       final cell state [L·D, B, H], overwritten
     * @param training when true, keeps what {@link #backward} needs
     * @param lengths      [B], each in [1, T], or null: every sequence has T steps (read only)
     * @param dropoutMasks L − 1 arrays [T, B, D·R], the multipliers of layers 0 … L−2's outputs
     *                     (0 or 1/(1−p) for dropout p), or null for no dropout (read only)
     * @throws UnsupportedOperationException if the engine lacks lengths or dropout and they are given
     */
    default void forward(int steps, int batch, float[] x, float @Nullable [] h0, float @Nullable [] c0, float[] y,
                         float[] hn, float[] cn, boolean training, int @Nullable [] lengths,
                         float @Nullable [][] dropoutMasks) {
        if (lengths != null) {
            throw new UnsupportedOperationException("the " + deviceName()
                    + " engine does not support per-sequence lengths yet; use the CPU backend (Device.CPU)");
        }
        if (dropoutMasks != null) {
            throw new UnsupportedOperationException("the " + deviceName()
                    + " engine does not support dropout between layers yet; use the CPU backend (Device.CPU)");
        }
        forward(steps, batch, x, h0, c0, y, hn, cn, training);
    }

    /**
     * Back-propagates through the last training-mode forward pass (with its lengths and dropout
     * masks, when it had them).
     *
     * <p>It differentiates the forward that ran: the weights are those that forward read, on every
     * engine, even when the parameters were changed in place since (and announced with
     * {@link #parametersUpdated()}); the next forward runs with the changed ones. (PyTorch raises an
     * error in that case; here backward neither fails nor mixes the forward's activations with
     * other weights.)
     *
     * @param dy        gradient of the loss w.r.t. y: [T, B, D·R] (read only)
     * @param dhn       gradient w.r.t. hn: [L·D, B, R], or null for zeros
     * @param dcn       gradient w.r.t. cn: [L·D, B, H], or null for zeros
     * @param dx        gradient w.r.t. x: [T, B, I], overwritten
     * @param dh0       gradient w.r.t. h0: [L·D, B, R], overwritten
     * @param dc0       gradient w.r.t. c0: [L·D, B, H], overwritten
     * @param gradients one tensor per parameter, overwritten with that parameter's gradient
     * @throws IllegalStateException when no training-mode forward pass precedes it
     */
    void backward(float[] dy, float @Nullable [] dhn, float @Nullable [] dcn, float[] dx, float[] dh0, float[] dc0,
                  LstmParameters gradients);

    /** Tells the engine that the parameter tensors were changed in place (an engine may cache them). */
    void parametersUpdated();

    /** Frees every resource the engine holds; idempotent. */
    @Override
    void close();
}
