package jlstm.internal.cuda;

import jlstm.LstmConfig;

/**
 * The device buffers of one engine for a (T, B): regions of one allocation, each on a 64-float
 * (256-byte) boundary, which cuBLAS likes. Every field is an address; a layout built at base 0
 * gives each region's offset and {@link #floats} the size to allocate ({@link #floatsFor}).
 * Everything a pass reads or writes lives here (inputs are copied in, results copied out), so a
 * captured CUDA graph of a pass stays valid for every call with the same (T, B) and length
 * schedule.
 *
 * <p><b>Rows.</b> Per-step arrays hold the packed rows of a {@link jlstm.internal.cpu.LengthSchedule}
 * (N = Σ lengths ≤ T·B, step t's active positions at rows offset(t) + j); they are sized for
 * N = T·B, so one workspace serves every length schedule of its (T, B). With every length T the
 * packed rows are the padded rows t·B + b. States by position (sorted longest first) are what the
 * passes read and write; hn, cn and the staging regions are by sequence, as the caller has them.
 *
 * <p>Per-direction scratch (c, the recurrent product, dG, the carried dh and dc, the joined
 * h_prev and c_prev) exists once per direction, so the two directions of a bidirectional layer
 * can run at the same time on two streams.
 */
final class Workspace {
    final int steps;
    final int batch;
    /** Whether the layers above the first have input buffers of their own (dropout masks applied). */
    final boolean masked;
    /** Floats the layout needs from its base. */
    final long floats;

    // Per-step arrays, packed rows (N ≤ T·B), addresses.
    final long x;                   // [N, I] layer 0 input, kept for backward
    final long[] layerOutput;       // [layer] → [N, D·R]; the last one is y
    final long[] layerInput;        // [layer] → [N, D·R] the layer's input: layer 0 x; above, the output
                                    //   below ⊙ its mask when masked, else that output itself
    final long[] masks;             // [layer] → [N, D·R] mask of the layer below's output (0 where none)
    final long[][] gates;           // [layer][dir] → [N, 4H] Xp, then activated gates (training)
    final long[][] cells;           // [layer][dir] → [N, H] c_t (training)
    final long[][] preProjection;   // [layer][dir] → [N, H] m_t before W_hr (projection only, else 0)
    final long[] layerInputGrad;    // [layer] → [N, I_k] (layer 0: dx)
    final long dy;                  // [N, D·R] in
    final long outputGrad;          // [N, D·R] dL/d(layer output) below the top, through its mask
    final long[] gateGrad;          // [dir] → [N, 4H] dG of one layer
    final long[] hiddenGrad;        // [dir] → [N, R] dL/dh_t with the carry (projection only, else 0)
    final long ones;                // [N] of 1.0f: column sums by GEMV (bias gradients)

    // States, [L·D, B, width].
    final long h0;                  // by position (zeros when absent)
    final long c0;
    final long dhn;                 // by position (zeros when absent)
    final long dcn;
    final long dh0;                 // by position, out
    final long dc0;
    final long hn;                  // by sequence, out
    final long cn;
    final long stateStaging;        // by sequence: a state crossing to or from the host

    // Per-direction scratch, [B, width].
    final long[] cellState;         // [dir] → [B, H] c in place (inference)
    final long[] recurrent;         // [dir] → [B, 4H] h_prev · W_hhᵀ (GEMM schedule)
    final long[] dhCarry;           // [dir] → [B, R]
    final long[] dcCarry;           // [dir] → [B, H]
    final long[] joinedH;           // [dir] → [B, R] h_prev of a reverse step where sequences start
    final long[] joinedC;           // [dir] → [B, H] c_prev of that step (training)
    final long[] projectedGrad;     // [dir] → [B, H] dm = dH_t · W_hr (projection only, else 0)
    final long zeros;               // [B, H] of 0 (the carry the pointwise kernel adds under a projection)

    // Padded (host-layout) staging and the schedule's index arrays (int32).
    final long inputStaging;        // [T·B, I] x in, dx out, padded
    final long outputStaging;       // [T·B, D·R] y out, dy in, masks in, padded
    final long packIndex;           // [N]: packed row → padded row
    final long unpackIndex;         // [T·B]: padded row → packed row, -1 past a length
    final long positionIndex;       // [B]: sorted position → sequence
    final long sequenceIndex;       // [B]: sequence → sorted position
    final long[] finalRow;          // [dir] → [B]: sequence → packed row of its final state

    private final long base;
    private long used;              // floats taken so far

    /** Floats a workspace of this shape needs. */
    static long floatsFor(LstmConfig config, int steps, int batch, boolean masked) {
        return new Workspace(config, steps, batch, masked, 0).floats;
    }

    Workspace(LstmConfig config, int steps, int batch, boolean masked, long base) {
        this.steps = steps;
        this.batch = batch;
        this.masked = masked;
        this.base = base;
        int layers = config.numLayers(), dirs = config.directions(), h = config.hiddenSize();
        int r = config.realHiddenSize(), width = dirs * r;
        boolean projected = config.projSize() > 0;
        long rows = (long) steps * batch;
        long slots = (long) layers * dirs * batch;

        x = take(rows * config.inputSize());
        layerOutput = new long[layers];
        layerInput = new long[layers];
        masks = new long[layers];
        layerInputGrad = new long[layers];
        gates = new long[layers][dirs];
        cells = new long[layers][dirs];
        preProjection = new long[layers][dirs];
        for (int k = 0; k < layers; k++) {
            layerOutput[k] = take(rows * width);
            layerInputGrad[k] = take(rows * config.layerInputSize(k));
            if (k > 0 && masked) {
                layerInput[k] = take(rows * width);
                masks[k] = take(rows * width);
            } else {
                layerInput[k] = k == 0 ? x : layerOutput[k - 1];
            }
            for (int d = 0; d < dirs; d++) {
                gates[k][d] = take(rows * 4 * h);
                cells[k][d] = take(rows * h);
                preProjection[k][d] = projected ? take(rows * h) : 0;
            }
        }
        dy = take(rows * width);
        outputGrad = masked ? take(rows * width) : 0;
        ones = take(rows);

        h0 = take(slots * r);
        c0 = take(slots * h);
        dhn = take(slots * r);
        dcn = take(slots * h);
        dh0 = take(slots * r);
        dc0 = take(slots * h);
        hn = take(slots * r);
        cn = take(slots * h);
        stateStaging = take(slots * Math.max(r, h));

        gateGrad = new long[dirs];
        hiddenGrad = new long[dirs];
        cellState = new long[dirs];
        recurrent = new long[dirs];
        dhCarry = new long[dirs];
        dcCarry = new long[dirs];
        joinedH = new long[dirs];
        joinedC = new long[dirs];
        projectedGrad = new long[dirs];
        for (int d = 0; d < dirs; d++) {
            gateGrad[d] = take(rows * 4 * h);
            hiddenGrad[d] = projected ? take(rows * r) : 0;
            cellState[d] = take((long) batch * h);
            recurrent[d] = take((long) batch * 4 * h);
            dhCarry[d] = take((long) batch * r);
            dcCarry[d] = take((long) batch * h);
            joinedH[d] = take((long) batch * r);
            joinedC[d] = take((long) batch * h);
            projectedGrad[d] = projected ? take((long) batch * h) : 0;
        }
        zeros = take((long) batch * h);

        inputStaging = take(rows * config.inputSize());
        outputStaging = take(rows * width);
        packIndex = take(rows);
        unpackIndex = take(rows);
        positionIndex = take(batch);
        sequenceIndex = take(batch);
        finalRow = new long[dirs];
        for (int d = 0; d < dirs; d++) {
            finalRow[d] = take(batch);
        }
        this.floats = used;
    }

    static long align(long floats) {
        return (floats + 63) / 64 * 64;
    }

    /** The next region of {@code size} floats (or 32-bit ints). */
    private long take(long size) {
        long at = DeviceAddress.at(base, used);
        used += align(Math.max(1, size));
        return at;
    }

    /** The last layer's output: y [N, D·R]. */
    long y() {
        return layerOutput[layerOutput.length - 1];
    }

    /** Gradient w.r.t. the layer-0 input: dx [N, I]. */
    long dx() {
        return layerInputGrad[0];
    }
}
