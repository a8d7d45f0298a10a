package jlstm.cuda;

import java.util.LinkedHashMap;
import java.util.Map;

import jlstm.LstmConfig;

/**
 * The device buffers of one engine for a (T, B): float offsets into one allocation, each region on
 * a 64-float (256-byte) boundary, which cuBLAS likes. {@link #bind} turns offsets into addresses.
 * Everything a pass reads or writes lives here (inputs are copied in, results copied out), so a
 * captured CUDA graph of a pass stays valid for every call with the same (T, B).
 *
 * <p>Per-direction scratch (c, the recurrent product, dG, the carried dh and dc) exists once per
 * direction, so the two directions of a bidirectional layer can run at the same time on two
 * streams.
 */
final class Workspace {
    final int steps;
    final int batch;
    /** Floats the layout needs. */
    final long floats;
    private final LstmConfig config;
    private final Map<String, Long> offsets = new LinkedHashMap<>();
    private long next;

    // Addresses, valid after bind().
    long x;                   // [T, B, I] layer 0 input, kept for backward
    long h0;                  // [L·D, B, H] (zeros when absent)
    long c0;                  // [L·D, B, H]
    long hn;                  // [L·D, B, H] out
    long cn;                  // [L·D, B, H] out
    long[] layerOutput;       // [layer] → [T, B, D·H]; the last one is y
    long[][] gates;           // [layer][dir] → [T, B, 4H] Xp, then activated gates (training)
    long[][] cells;           // [layer][dir] → [T, B, H] c_t (training)
    long[] cellState;         // [dir] → [B, H] c in place (inference)
    long[] recurrent;         // [dir] → [B, 4H] h_prev · W_hhᵀ (GEMM schedule)
    long[] gateGrad;          // [dir] → [T, B, 4H] dG of one layer
    long[] dhCarry;           // [dir] → [B, H]
    long[] dcCarry;           // [dir] → [B, H]
    long[] layerInputGrad;    // [layer] → [T, B, I_k] (layer 0: dx)
    long dy;                  // [T, B, D·H] in
    long dhn;                 // [L·D, B, H] in (zeros when absent)
    long dcn;                 // [L·D, B, H] in
    long dh0;                 // [L·D, B, H] out
    long dc0;                 // [L·D, B, H] out
    long ones;                // [T·B] of 1.0f: column sums by GEMV (bias gradients)

    Workspace(LstmConfig config, int steps, int batch) {
        this.config = config;
        this.steps = steps;
        this.batch = batch;
        int layers = config.numLayers(), dirs = config.directions(), h = config.hiddenSize();
        long rows = (long) steps * batch;
        long state = (long) layers * dirs * batch * h;
        reserve("x", rows * config.inputSize());
        for (String name : new String[] {"h0", "c0", "hn", "cn", "dhn", "dcn", "dh0", "dc0"}) {
            reserve(name, state);
        }
        for (int k = 0; k < layers; k++) {
            reserve("out" + k, rows * dirs * h);
            reserve("inGrad" + k, rows * config.layerInputSize(k));
            for (int d = 0; d < dirs; d++) {
                reserve("gates" + k + d, rows * 4 * h);
                reserve("cells" + k + d, rows * h);
            }
        }
        for (int d = 0; d < dirs; d++) {
            reserve("cellState" + d, (long) batch * h);
            reserve("recurrent" + d, (long) batch * 4 * h);
            reserve("gateGrad" + d, rows * 4 * h);
            reserve("dhCarry" + d, (long) batch * h);
            reserve("dcCarry" + d, (long) batch * h);
        }
        reserve("dy", rows * dirs * h);
        reserve("ones", rows);
        this.floats = next;
    }

    static long align(long floats) {
        return (floats + 63) / 64 * 64;
    }

    private void reserve(String name, long size) {
        offsets.put(name, next);
        next += align(Math.max(1, size));
    }

    private long at(long base, String name) {
        return DeviceAddress.at(base, offsets.get(name));
    }

    /** Resolves every region against the allocation at {@code base}. */
    void bind(long base) {
        int layers = config.numLayers(), dirs = config.directions();
        x = at(base, "x");
        h0 = at(base, "h0");
        c0 = at(base, "c0");
        hn = at(base, "hn");
        cn = at(base, "cn");
        dhn = at(base, "dhn");
        dcn = at(base, "dcn");
        dh0 = at(base, "dh0");
        dc0 = at(base, "dc0");
        dy = at(base, "dy");
        ones = at(base, "ones");
        layerOutput = new long[layers];
        layerInputGrad = new long[layers];
        gates = new long[layers][dirs];
        cells = new long[layers][dirs];
        for (int k = 0; k < layers; k++) {
            layerOutput[k] = at(base, "out" + k);
            layerInputGrad[k] = at(base, "inGrad" + k);
            for (int d = 0; d < dirs; d++) {
                gates[k][d] = at(base, "gates" + k + d);
                cells[k][d] = at(base, "cells" + k + d);
            }
        }
        cellState = new long[dirs];
        recurrent = new long[dirs];
        gateGrad = new long[dirs];
        dhCarry = new long[dirs];
        dcCarry = new long[dirs];
        for (int d = 0; d < dirs; d++) {
            cellState[d] = at(base, "cellState" + d);
            recurrent[d] = at(base, "recurrent" + d);
            gateGrad[d] = at(base, "gateGrad" + d);
            dhCarry[d] = at(base, "dhCarry" + d);
            dcCarry[d] = at(base, "dcCarry" + d);
        }
    }

    /** The last layer's output: y [T, B, D·H]. */
    long y() {
        return layerOutput[layerOutput.length - 1];
    }

    /** Gradient w.r.t. the layer-0 input: dx [T, B, I]. */
    long dx() {
        return layerInputGrad[0];
    }
}
