package jlstm.internal.cuda;

import static jlstm.internal.cuda.DeviceAddress.at;

import java.util.Arrays;

import jlstm.LstmBackend;

/**
 * One LSTM cell step, forward and backward, on the GPU: what {@code jlstm.LstmCell} runs when it
 * was created for CUDA. The same kernels as the layer engine (the fused pointwise updates) and
 * cuBLAS products.
 *
 * <pre>
 * forward:  G = x·W_ihᵀ + h·W_hhᵀ; lstm_forward_pointwise (+ b_ih + b_hh) → activated gates, c_t, h_t
 * backward: lstm_backward_pointwise → dG, dc_{t-1} = dc ⊙ f; dx = dG·W_ih; dh_{t-1} = dG·W_hh;
 *           dW_ih = dGᵀ·x; dW_hh = dGᵀ·h_{t-1}; db = dGᵀ·1
 * </pre>
 *
 * <p><b>What a cell holds.</b> Cells share their backend's device ({@link CudaBackend#acquireCellDevice}:
 * one context, its streams, cuBLAS handles and workspaces, the kernel module and the pinned
 * staging buffer for all cells), and their calls are serialised on it. A cell owns two device
 * allocations: its weights, uploaded when it opens and again only on {@link #parametersUpdated()}
 * (an optimizer that changes them in place must call it), and its scratch, sized for the largest
 * batch seen, so steps after the first of a batch size allocate nothing. Each upload goes through
 * host copies of W_ih and W_hh, which {@link #forward} returns: a step's {@link #backward} takes
 * them back and runs with them (a third allocation, made the first time a backward follows an
 * upload that came after its step), so it differentiates the step that ran.
 *
 * <p><b>What crosses per step.</b> A forward step uploads x_t and downloads [gates | c_t | h_t]
 * in one copy (gates only in training); h_{t-1} and c_{t-1} are uploaded only when they are not the
 * h_t and c_t this cell returned last (unchanged), which stay on the device. All copies go through
 * the device's pinned staging on its stream, asynchronously; a download waits for the step. A
 * backward step uploads its saved step and the incoming gradients and downloads [dx | dh_{t-1} |
 * dc_{t-1} | dW_ih | dW_hh | db] in one copy.
 */
public final class CudaCellEngine implements AutoCloseable {
    private static final int BLOCK = 256;

    private final int inputSize;
    private final int hidden;
    private final float[] weightIh;   // [4H, I], the cell's live arrays
    private final float[] weightHh;   // [4H, H]
    private final float[] biasIh;     // [4H] or null
    private final float[] biasHh;
    private final CudaBackend backend;
    private final CudaDevice device;  // shared with every cell of the backend
    private long weights;             // [W_ih | W_hh | b_ih | b_hh]
    private float[] uploadedIh;       // [4H, I]: copies of what weights holds, new arrays at each upload
    private float[] uploadedHh;       // [4H, H]
    private long olderWeights;        // [W_ih | W_hh] of a step made before the last upload, for its backward; 0 = none yet
    private float[] olderIh;          // the copies olderWeights holds (a backward loop uploads them once)
    private float[] olderHh;
    private long scratch;
    private long scratchFloats;
    private Regions regions;          // the scratch laid out for regions.batch rows
    /** The h_t, c_t arrays returned by the last forward step and copies of what they held; null: none. */
    private float[] lastH;
    private float[] lastC;
    private float[] lastHValues;
    private float[] lastCValues;
    private long allocations;
    private boolean closed;

    /** A cell engine on a backend's GPU for these (live) weights; fails with the probe's reason without a usable GPU. */
    public CudaCellEngine(CudaBackend backend, int inputSize, int hidden, float[] weightIh, float[] weightHh,
                          float[] biasIh, float[] biasHh) {
        LstmBackend.Availability a = backend.availability();
        if (!a.available()) {
            throw new IllegalStateException("CUDA backend unavailable: " + a.detail());
        }
        this.inputSize = inputSize;
        this.hidden = hidden;
        this.weightIh = weightIh;
        this.weightHh = weightHh;
        this.biasIh = biasIh;
        this.biasHh = biasHh;
        this.backend = backend;
        this.device = backend.acquireCellDevice();
        try {
            onDevice(() -> {
                weights = alloc(weightFloats(), "cell weights");
                uploadWeights();
            });
        } catch (RuntimeException | Error e) {
            backend.releaseCellDevice();
            throw e;
        }
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

    private void uploadWeights() {
        uploadedIh = weightIh.clone();
        uploadedHh = weightHh.clone();
        device.upload(wIh(), uploadedIh);
        device.upload(wHh(), uploadedHh);
        if (biasIh != null) {
            device.upload(bIh(), biasIh);
            device.upload(bHh(), biasHh);
        }
    }

    /** The weights changed (an optimizer step): uploads them before the next step. */
    public void parametersUpdated() {
        onDevice(this::uploadWeights);
    }

    private long alloc(long floats, String what) {
        allocations++;
        return device.alloc(floats, what);
    }

    /** Device allocations this cell has made (for tests: none per step after the first of a batch size). */
    public long deviceAllocations() {
        synchronized (device) {
            return allocations;
        }
    }

    /**
     * The scratch of one step of B rows, each region on 64 floats. The forward output block
     * [gates | c | h] and the backward result block are contiguous so that each leaves in one copy.
     */
    private final class Regions {
        final int batch;
        final long floats;
        final long x;            // [B, I]
        final long hIn;          // [B, H] h_{t-1} uploaded (when not resident)
        final long cIn;          // [B, H]
        final long recurrent;    // [B, 4H]
        final long gates;        // [B, 4H] G, then activated gates: start of the forward output block
        final long c;            // [B, H] c_t (right after gates)
        final long h;            // [B, H] h_t (right after c)
        final long savedX;       // [B, I] backward inputs: the step's x, h_{t-1}, c_{t-1}, gates, c_t
        final long savedH;       // [B, H]
        final long savedC;       // [B, H]
        final long savedGates;   // [B, 4H]
        final long savedCell;    // [B, H]
        final long dh;           // [B, H]
        final long dG;           // [B, 4H]
        final long zeros;        // [B, H]
        final long ones;         // [B]
        final long dx;           // [B, I] start of the backward result block
        final long dhPrev;       // [B, H]
        final long dcPrev;       // [B, H] in: dc_t; out: dc_{t-1}
        final long dWih;         // [4H, I]
        final long dWhh;         // [4H, H]
        final long db;           // [4H]
        private long used;
        private final long base;

        Regions(int batch, long base) {
            this.batch = batch;
            this.base = base;
            long g4 = 4L * hidden, state = (long) batch * hidden;
            x = take((long) batch * inputSize);
            hIn = take(state);
            cIn = take(state);
            recurrent = take(batch * g4);
            gates = take(batch * g4 + 2 * state);
            c = at(gates, batch * g4);
            h = at(c, state);
            savedX = take((long) batch * inputSize);
            savedH = take(state);
            savedC = take(state);
            savedGates = take(batch * g4);
            savedCell = take(state);
            dh = take(state);
            dG = take(batch * g4);
            zeros = take(state);
            ones = take(batch);
            dx = take((long) batch * inputSize + 2 * state + g4 * (inputSize + hidden) + g4);
            dhPrev = at(dx, (long) batch * inputSize);
            dcPrev = at(dhPrev, state);
            dWih = at(dcPrev, state);
            dWhh = at(dWih, g4 * inputSize);
            db = at(dWhh, g4 * hidden);
            floats = used;
        }

        private long take(long size) {
            long at = at(base, used);
            used += Workspace.align(Math.max(1, size));
            return at;
        }

        /** Floats of the backward result block. */
        long resultFloats() {
            return (long) batch * (inputSize + 2L * hidden) + 4L * hidden * (inputSize + hidden + 1);
        }
    }

    /** The scratch for B rows: allocated when a larger batch than ever before arrives, else reused. */
    private Regions regions(int batch) {
        if (regions != null && regions.batch == batch) {
            return regions;
        }
        long needed = new Regions(batch, 0).floats;
        if (needed > scratchFloats) {
            device.synchronize("before the cell scratch grows");
            device.free(scratch, "cell scratch");
            scratch = 0;
            scratchFloats = 0;
            scratch = alloc(needed, "cell scratch");
            scratchFloats = needed;
        }
        regions = new Regions(batch, scratch);
        device.fill(regions.zeros, (long) batch * hidden, 0);
        device.fill(regions.ones, batch, Float.floatToRawIntBits(1f));
        forgetResidentState();
        return regions;
    }

    private void forgetResidentState() {
        lastH = lastC = lastHValues = lastCValues = null;
    }

    /** Whether {@code state} is the array this cell returned last, unchanged (its values are on the device). */
    private static boolean resident(float[] state, float[] last, float[] lastValues) {
        return state != null && state == last && Arrays.equals(state, lastValues);
    }

    /**
     * One forward step.
     *
     * @param x        [B, I]
     * @param h        [B, H] or null (zeros)
     * @param c        [B, H] or null (zeros)
     * @param gatesOut [B, 4H] out: activated i, f, g, o; or null (an inference step: not downloaded)
     * @param cOut     [B, H] out
     * @param hOut     [B, H] out
     * @return the weights the step ran with, {W_ih [4H, I], W_hh [4H, H]}: copies, not to be changed; a
     *         training step hands them to its {@link #backward}
     */
    public float[][] forward(int batch, float[] x, float[] h, float[] c, float[] gatesOut, float[] cOut,
                             float[] hOut) {
        float[][] ranWith = new float[2][];
        onDevice(() -> {
            ranWith[0] = uploadedIh;
            ranWith[1] = uploadedHh;
            Regions r = regions(batch);
            int g4 = 4 * hidden;
            long state = (long) batch * hidden;
            device.upload(r.x, x);
            Cublas blas = device.blas(0);
            blas.gemm(false, true, batch, g4, inputSize, r.x, inputSize, wIh(), inputSize, false, r.gates, g4);
            if (h == null) {
                device.fill(r.recurrent, batch * (long) g4, 0);
            } else {
                long hPrev = r.h;   // last step's h_t, still on the device
                if (!resident(h, lastH, lastHValues)) {
                    device.upload(r.hIn, h);
                    hPrev = r.hIn;
                }
                blas.gemm(false, true, batch, g4, hidden, hPrev, hidden, wHh(), hidden, false, r.recurrent, g4);
            }
            long cPrev = r.c;       // c_prev may alias c_out: each thread reads its element before writing it
            if (c == null) {
                cPrev = r.cIn;
                device.fill(cPrev, state, 0);
            } else if (!resident(c, lastC, lastCValues)) {
                cPrev = r.cIn;
                device.upload(cPrev, c);
            }
            // one thread per (b, j); activated gates written over G
            device.kernel(Kernel.FORWARD_POINTWISE_TRAINING).begin().i(batch).i(hidden).p(r.gates).p(r.recurrent)
                    .p(bIh()).p(bHh()).p(cPrev).p(r.c).p(r.h).i(hidden).p(r.gates)
                    .launch(CudaModule.ceilDiv(state, BLOCK), 1, BLOCK, 1, 0, device.stream(0));
            int gateFloats = gatesOut == null ? 0 : batch * g4;
            float[] block = new float[gateFloats + 2 * (int) state];
            device.download(block, gatesOut == null ? r.c : r.gates);
            if (gatesOut != null) {
                System.arraycopy(block, 0, gatesOut, 0, gateFloats);
            }
            System.arraycopy(block, gateFloats, cOut, 0, (int) state);
            System.arraycopy(block, gateFloats + (int) state, hOut, 0, (int) state);
            lastH = hOut;
            lastC = cOut;
            lastHValues = hOut.clone();
            lastCValues = cOut.clone();
        });
        return ranWith;
    }

    /**
     * One backward step, with the weights its step ran with (not those uploaded since). Parameter
     * gradients are added into the given accumulators.
     *
     * @param ranIh  the W_ih [4H, I] the step ran with ({@link #forward}'s result, or any copy; read only)
     * @param ranHh  the W_hh [4H, H] the step ran with
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
    public void backward(float[] ranIh, float[] ranHh, int batch, float[] x, float[] hPrev, float[] cPrev,
                         float[] gates, float[] c, float[] dh, float[] dc, float[] dx, float[] dhPrev, float[] dcPrev,
                         float[] dWih, float[] dWhh, float[] dbIh, float[] dbHh) {
        onDevice(() -> {
            Regions r = regions(batch);
            long wIh = wIh(), wHh = wHh();
            if (ranIh != uploadedIh || ranHh != uploadedHh) { // the weights changed since the step: its own
                if (olderWeights == 0) {
                    olderWeights = alloc(4L * hidden * (inputSize + hidden), "cell weights of an earlier step");
                }
                wIh = olderWeights;
                wHh = at(olderWeights, 4L * hidden * inputSize);
                if (ranIh != olderIh || ranHh != olderHh) {
                    device.upload(wIh, ranIh);
                    device.upload(wHh, ranHh);
                    olderIh = ranIh;
                    olderHh = ranHh;
                }
            }
            int g4 = 4 * hidden;
            long state = (long) batch * hidden;
            device.upload(r.savedX, x);
            uploadOrZero(r.savedH, hPrev, state);
            uploadOrZero(r.savedC, cPrev, state);
            device.upload(r.savedGates, gates);
            device.upload(r.savedCell, c);
            uploadOrZero(r.dh, dh, state);
            uploadOrZero(r.dcPrev, dc, state);
            // dG and dc ⊙ f (written over dc); one thread per (b, j)
            device.kernel(Kernel.BACKWARD_POINTWISE).begin().i(batch).i(hidden).p(r.savedGates).p(r.savedCell)
                    .p(r.savedC).p(r.dh).i(hidden).p(r.zeros).p(r.dcPrev).p(r.dG)
                    .launch(CudaModule.ceilDiv(state, BLOCK), 1, BLOCK, 1, 0, device.stream(0));
            Cublas blas = device.blas(0);
            blas.gemm(false, false, batch, inputSize, g4, r.dG, g4, wIh, inputSize, false, r.dx, inputSize);
            blas.gemm(false, false, batch, hidden, g4, r.dG, g4, wHh, hidden, false, r.dhPrev, hidden);
            blas.gemm(true, false, g4, inputSize, batch, r.dG, g4, r.savedX, inputSize, false, r.dWih, inputSize);
            blas.gemm(true, false, g4, hidden, batch, r.dG, g4, r.savedH, hidden, false, r.dWhh, hidden);
            blas.columnSums(batch, g4, r.dG, g4, r.ones, r.db);
            float[] block = new float[(int) r.resultFloats()];
            device.download(block, r.dx);
            int at = 0;
            System.arraycopy(block, at, dx, 0, dx.length);
            at += dx.length;
            System.arraycopy(block, at, dhPrev, 0, dhPrev.length);
            at += dhPrev.length;
            System.arraycopy(block, at, dcPrev, 0, dcPrev.length);
            at += dcPrev.length;
            at = addInto(dWih, block, at);
            at = addInto(dWhh, block, at);
            if (dbIh != null) {
                addInto(dbIh, block, at);
                addInto(dbHh, block, at);
            }
        });
    }

    private static int addInto(float[] into, float[] block, int from) {
        for (int i = 0; i < into.length; i++) {
            into[i] += block[from + i];
        }
        return from + into.length;
    }

    private void uploadOrZero(long dst, float[] src, long floats) {
        if (src == null) {
            device.fill(dst, floats, 0);
        } else {
            device.upload(dst, src);
        }
    }

    /** Runs {@code body} in the shared device's context, one call at a time across all cells. */
    private void onDevice(Runnable body) {
        synchronized (device) {
            if (closed) {
                throw new IllegalStateException("this CUDA cell is closed");
            }
            device.inContext(() -> {
                body.run();
                return null;
            });
        }
    }

    @Override
    public void close() {
        synchronized (device) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            synchronized (device) {
                device.inContext(() -> {
                    device.synchronize("closing the cell");
                    device.free(scratch, "cell scratch");
                    device.free(weights, "cell weights");
                    device.free(olderWeights, "cell weights of an earlier step");
                    return null;
                });
            }
        } finally {
            scratch = weights = olderWeights = 0;
            // outside the device's lock: the backend locks itself, then the device
            backend.releaseCellDevice();
        }
    }
}
