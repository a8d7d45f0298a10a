package jlstm.cuda;

import static jlstm.cuda.DeviceAddress.at;

import java.util.Arrays;

import jlstm.LstmBackend;

/**
 * One LSTM cell step, forward and backward, on the GPU: what {@code jlstm.LstmCell} runs when it
 * was created for CUDA. The same kernels as the layer engine (the fused pointwise updates) and
 * cuBLAS products; the step's arrays cross to the device and back on every call (a cell is
 * stepped by the caller, one step at a time), so the layer API stays the fast way through a
 * sequence.
 *
 * <pre>
 * forward:  G = x·W_ihᵀ + h·W_hhᵀ; lstm_forward_pointwise (+ b_ih + b_hh) → activated gates, c_t, h_t
 * backward: lstm_backward_pointwise → dG, dc_{t-1} = dc ⊙ f; dx = dG·W_ih; dh_{t-1} = dG·W_hh;
 *           dW_ih = dGᵀ·x; dW_hh = dGᵀ·h_{t-1}; db = dGᵀ·1
 * </pre>
 * The weights are uploaded when they differ from the copy last uploaded (an optimizer changes them
 * in place), so no call is needed after an update. Calls are serialised (one step at a time on
 * the device); {@link #close()} frees the GPU memory.
 */
public final class CudaCellEngine implements AutoCloseable {
    private static final int BLOCK = 256;

    private final int inputSize;
    private final int hidden;
    private final float[] weightIh;   // [4H, I], the cell's live arrays
    private final float[] weightHh;   // [4H, H]
    private final float[] biasIh;     // [4H] or null
    private final float[] biasHh;
    private final float[][] uploaded; // copies of what the device holds
    private final CudaDevice device;
    private final long weights;       // [W_ih | W_hh | b_ih | b_hh]
    private long scratch;
    private long scratchFloats;
    private boolean closed;

    /** A cell engine on GPU 0 for these (live) weights; fails with the probe's reason without a usable GPU. */
    public CudaCellEngine(int inputSize, int hidden, float[] weightIh, float[] weightHh, float[] biasIh,
                          float[] biasHh) {
        LstmBackend.Availability a = CudaBackend.instance().availability();
        if (!a.available()) {
            throw new IllegalStateException("CUDA backend unavailable: " + a.detail());
        }
        this.inputSize = inputSize;
        this.hidden = hidden;
        this.weightIh = weightIh;
        this.weightHh = weightHh;
        this.biasIh = biasIh;
        this.biasHh = biasHh;
        this.uploaded = new float[4][];
        this.device = new CudaDevice();
        long w;
        try {
            w = device.inContext(() -> device.alloc(weightFloats(), "cell weights"));
        } catch (RuntimeException | Error e) {
            device.close();
            throw e;
        }
        this.weights = w;
    }

    private long weightFloats() {
        return 4L * hidden * (inputSize + hidden) + (biasIh != null ? 8L * hidden : 0);
    }

    private long wIh() {
        return weights;
    }

    private long wHh() {
        return at(weights, 4L * hidden * inputSize);
    }

    private long bIh() {
        return biasIh == null ? 0 : at(weights, 4L * hidden * (inputSize + hidden));
    }

    private long bHh() {
        return biasHh == null ? 0 : at(bIh(), 4L * hidden);
    }

    /** Uploads each weight array that changed since it was last uploaded. */
    private void syncWeights() {
        float[][] live = {weightIh, weightHh, biasIh, biasHh};
        long[] at = {wIh(), wHh(), bIh(), bHh()};
        for (int n = 0; n < live.length; n++) {
            if (live[n] != null && !Arrays.equals(live[n], uploaded[n])) {
                device.upload(at[n], live[n]);
                uploaded[n] = live[n].clone();
            }
        }
    }

    /** Scratch for one step of B rows: x, h, c_prev, G, c, h_out, dG, dh, dc, dx, dh_prev, dW_ih, dW_hh, db, ones. */
    private long ensureScratch(int batch) {
        long g4 = 4L * hidden;
        long needed = batch * (inputSize + 2L * hidden + g4 + 2 * hidden + g4 + 2 * hidden + inputSize + hidden)
                + g4 * (inputSize + hidden) + g4 + batch + 24 * 64;   // + each region's alignment
        if (needed > scratchFloats) {
            device.synchronize("before the cell scratch grows");
            device.free(scratch, "cell scratch");
            scratch = 0;
            scratchFloats = 0;
            scratch = device.alloc(needed, "cell scratch");
            scratchFloats = needed;
        }
        return scratch;
    }

    /** Bump allocator over the scratch: each region on 64 floats. */
    private static final class Regions {
        private long next;

        Regions(long base) {
            next = base;
        }

        long take(long floats) {
            long at = next;
            next = at(next, Workspace.align(Math.max(1, floats)));
            return at;
        }
    }

    /**
     * One forward step.
     *
     * @param x        [B, I]
     * @param h        [B, H] or null (zeros)
     * @param c        [B, H] or null (zeros)
     * @param gatesOut [B, 4H] out: activated i, f, g, o
     * @param cOut     [B, H] out
     * @param hOut     [B, H] out
     */
    public synchronized void forward(int batch, float[] x, float[] h, float[] c, float[] gatesOut, float[] cOut, float[] hOut) {
        requireOpen();
        device.inContext(() -> {
            syncWeights();
            int g4 = 4 * hidden;
            Regions r = new Regions(ensureScratch(batch));
            long dx = r.take((long) batch * inputSize), dh = r.take((long) batch * hidden);
            long dc = r.take((long) batch * hidden), dg = r.take((long) batch * g4);
            long dcOut = r.take((long) batch * hidden), dhOut = r.take((long) batch * hidden);
            long recurrent = r.take((long) batch * g4);
            device.upload(dx, x);
            Cublas blas = device.blas(0);
            blas.gemm(false, true, batch, g4, inputSize, dx, inputSize, wIh(), inputSize, false, dg, g4);
            if (h != null) {
                device.upload(dh, h);
                blas.gemm(false, true, batch, g4, hidden, dh, hidden, wHh(), hidden, false, recurrent, g4);
            } else {
                device.fill(recurrent, (long) batch * g4, 0);
            }
            if (c != null) {
                device.upload(dc, c);
            } else {
                device.fill(dc, (long) batch * hidden, 0);
            }
            // one thread per (b, j); activated gates written over G
            device.kernel(Kernel.FORWARD_POINTWISE_TRAINING).begin().i(batch).i(hidden).p(dg).p(recurrent).p(bIh())
                    .p(bHh()).p(dc).p(dcOut).p(dhOut).i(hidden).p(dg)
                    .launch(CudaModule.ceilDiv((long) batch * hidden, BLOCK), 1, BLOCK, 1, 0, device.stream(0));
            device.download(gatesOut, dg);
            device.download(cOut, dcOut);
            device.download(hOut, dhOut);
            return null;
        });
    }

    /**
     * One backward step. Parameter gradients are added into the given accumulators.
     *
     * @param x      the step's input [B, I]
     * @param hPrev  its h_{t-1} [B, H], or null (zeros)
     * @param cPrev  its c_{t-1} [B, H], or null (zeros)
     * @param gates  its activated gates [B, 4H]
     * @param c      its c_t [B, H]
     * @param dh     d loss / d h_t [B, H] or null
     * @param dc     d loss / d c_t [B, H] or null
     * @param dx     [B, I] out
     * @param dhPrev [B, H] out
     * @param dcPrev [B, H] out
     * @param dWih   [4H, I], added to
     * @param dWhh   [4H, H], added to
     * @param dbIh   [4H], added to (null without bias)
     * @param dbHh   [4H], added to (null without bias)
     */
    public synchronized void backward(int batch, float[] x, float[] hPrev, float[] cPrev, float[] gates, float[] c, float[] dh,
                         float[] dc, float[] dx, float[] dhPrev, float[] dcPrev, float[] dWih, float[] dWhh,
                         float[] dbIh, float[] dbHh) {
        requireOpen();
        device.inContext(() -> {
            syncWeights();
            int g4 = 4 * hidden;
            long state = (long) batch * hidden;
            Regions r = new Regions(ensureScratch(batch));
            long dX = r.take((long) batch * inputSize), dHPrev = r.take(state), dCPrev = r.take(state);
            long dGates = r.take((long) batch * g4), dC = r.take(state), dDh = r.take(state), dDc = r.take(state);
            long dG = r.take((long) batch * g4), zeros = r.take(state), dDx = r.take((long) batch * inputSize);
            long dDhPrev = r.take(state), dWIh = r.take((long) g4 * inputSize), dWHh = r.take((long) g4 * hidden);
            long dB = r.take(g4), ones = r.take(batch);
            device.upload(dX, x);
            uploadOrZero(dHPrev, hPrev, state);
            uploadOrZero(dCPrev, cPrev, state);
            device.upload(dGates, gates);
            device.upload(dC, c);
            uploadOrZero(dDh, dh, state);
            uploadOrZero(dDc, dc, state);
            device.fill(zeros, state, 0);
            device.fill(ones, batch, Float.floatToRawIntBits(1f));
            // dG and dc ⊙ f (written over dDc); one thread per (b, j)
            device.kernel(Kernel.BACKWARD_POINTWISE).begin().i(batch).i(hidden).p(dGates).p(dC).p(dCPrev).p(dDh)
                    .i(hidden).p(zeros).p(dDc).p(dG)
                    .launch(CudaModule.ceilDiv(state, BLOCK), 1, BLOCK, 1, 0, device.stream(0));
            Cublas blas = device.blas(0);
            blas.gemm(false, false, batch, inputSize, g4, dG, g4, wIh(), inputSize, false, dDx, inputSize);
            blas.gemm(false, false, batch, hidden, g4, dG, g4, wHh(), hidden, false, dDhPrev, hidden);
            blas.gemm(true, false, g4, inputSize, batch, dG, g4, dX, inputSize, false, dWIh, inputSize);
            blas.gemm(true, false, g4, hidden, batch, dG, g4, dHPrev, hidden, false, dWHh, hidden);
            blas.columnSums(batch, g4, dG, g4, ones, dB);
            device.download(dx, dDx);
            device.download(dhPrev, dDhPrev);
            device.download(dcPrev, dDc);
            addDownloaded(dWih, dWIh);
            addDownloaded(dWhh, dWHh);
            if (dbIh != null) {
                float[] db = new float[g4];
                device.download(db, dB);
                for (int j = 0; j < g4; j++) {
                    dbIh[j] += db[j];
                    dbHh[j] += db[j];
                }
            }
            return null;
        });
    }

    private void uploadOrZero(long dst, float[] src, long floats) {
        if (src == null) {
            device.fill(dst, floats, 0);
        } else {
            device.upload(dst, src);
        }
    }

    private void addDownloaded(float[] into, long src) {
        float[] values = new float[into.length];
        device.download(values, src);
        for (int i = 0; i < into.length; i++) {
            into[i] += values[i];
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("this CUDA cell is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            device.inContext(() -> {
                device.synchronize("closing the cell");
                device.free(scratch, "cell scratch");
                device.free(weights, "cell weights");
                return null;
            });
        } finally {
            device.close();
        }
    }
}
