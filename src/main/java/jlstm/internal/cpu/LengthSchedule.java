package jlstm.internal.cpu;

import java.util.Arrays;

/**
 * The packed-sequence schedule of a batch whose sequences have different lengths: PyTorch's
 * {@code PackedSequence} layout, which is also cuDNN's ({@code cudnnRNNDataDescriptor} with
 * {@code CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED}). A GPU engine mirrors it step for step.
 *
 * <p>The algorithm:
 * <ol>
 *   <li><b>Sort</b> the sequences by length, longest first (stable): sorted position j holds
 *       sequence {@link #sequence(int) sequence(j)}, and sequence b sits at {@link #position(int)
 *       position(b)}.</li>
 *   <li><b>Active batch per step:</b> at step t exactly the n_t = {@link #batchSize(int)
 *       batchSize(t)} sequences with length &gt; t are active, and because of the sort they are
 *       positions [0, n_t). n_t never grows with t: n_0 = B ≥ n_1 ≥ … ≥ n_{T'−1} ≥ 1, where T' =
 *       {@link #maxLength()} (steps past T' have no active sequence and are skipped).</li>
 *   <li><b>Packed rows:</b> step t's active sequences are the rows [{@link #offset(int) offset(t)},
 *       offset(t) + n_t) of every per-step array (x, gates, c, h, dG …), {@link #rows()} = Σ lengths
 *       rows in all. With every length T this is exactly the padded layout (row t·B + b).</li>
 *   <li><b>Forward direction:</b> step t reads h_{t−1}, c_{t−1} of positions [0, n_t) from step t−1's
 *       rows (the same positions, since n_{t−1} ≥ n_t), or h0, c0 at t = 0. A sequence's final state
 *       is at its step length − 1.</li>
 *   <li><b>Reverse direction:</b> steps run t = T'−1 … 0. Positions [0, n_{t+1}) continue from step
 *       t+1's rows; positions [n_{t+1}, n_t) start here, at their last valid step, from h0, c0. Every
 *       sequence's final state is at t = 0.</li>
 *   <li><b>Backward</b> runs each direction's steps in the opposite order with the same active
 *       prefixes; the carried dh, dc of position j start as dhn, dcn and end as dh0, dc0.</li>
 * </ol>
 * So the work of a step is proportional to n_t and the whole pass to Σ lengths, not to T·B: the
 * input projection, the weight gradients and dX are single products over the packed rows, and
 * each step's recurrent product and cell update shrink with the active batch.
 */
public final class LengthSchedule {
    private final int steps;
    private final int batch;
    private final int[] lengths;     // [B], by sequence
    private final int[] sequence;    // [B]: sorted position → sequence
    private final int[] position;    // [B]: sequence → sorted position
    private final int[] batchSizes;  // [T]: n_t (0 past the longest sequence)
    private final int[] offsets;     // [T + 1]: first packed row of step t; offsets[T] = rows
    private final int maxLength;

    private LengthSchedule(int steps, int batch, int[] lengths) {
        this.steps = steps;
        this.batch = batch;
        this.lengths = lengths;
        Integer[] byLength = new Integer[batch];
        for (int b = 0; b < batch; b++) {
            byLength[b] = b;
        }
        Arrays.sort(byLength, (a, b) -> Integer.compare(lengths[b], lengths[a])); // stable: ties keep batch order
        sequence = new int[batch];
        position = new int[batch];
        for (int j = 0; j < batch; j++) {
            sequence[j] = byLength[j];
            position[byLength[j]] = j;
        }
        maxLength = lengths[sequence[0]];
        batchSizes = new int[steps];
        offsets = new int[steps + 1];
        int active = batch;
        for (int t = 0; t < steps; t++) {
            while (active > 0 && lengths[sequence[active - 1]] <= t) {
                active--;
            }
            batchSizes[t] = active;
            offsets[t + 1] = offsets[t] + active;
        }
    }

    /**
     * The schedule of a batch.
     *
     * @param lengths [B], each in [1, T]; null means every sequence has T steps (the padded layout)
     * @throws IllegalArgumentException when a length is out of range or the count is not B
     */
    public static LengthSchedule of(int steps, int batch, int[] lengths) {
        if (steps < 1 || batch < 1) {
            throw new IllegalArgumentException("T and B must be at least 1, got T=" + steps + ", B=" + batch);
        }
        int[] copy = new int[batch];
        if (lengths == null) {
            Arrays.fill(copy, steps);
        } else {
            if (lengths.length != batch) {
                throw new IllegalArgumentException("lengths has " + lengths.length + " entries, expected B = " + batch);
            }
            for (int b = 0; b < batch; b++) {
                if (lengths[b] < 1 || lengths[b] > steps) {
                    throw new IllegalArgumentException("lengths[" + b + "] = " + lengths[b] + " is outside [1, "
                            + steps + "]");
                }
                copy[b] = lengths[b];
            }
        }
        return new LengthSchedule(steps, batch, copy);
    }

    /** T: the padded length of the batch. */
    public int steps() {
        return steps;
    }

    /** B. */
    public int batch() {
        return batch;
    }

    /** T' = the longest length; steps t ≥ T' are empty. */
    public int maxLength() {
        return maxLength;
    }

    /** Σ lengths: the packed rows of every per-step array. */
    public int rows() {
        return offsets[steps];
    }

    /** The length of sequence b. */
    public int length(int b) {
        return lengths[b];
    }

    /** The sequence at sorted position j (longest first). */
    public int sequence(int j) {
        return sequence[j];
    }

    /** The sorted position of sequence b. */
    public int position(int b) {
        return position[b];
    }

    /** n_t: sequences active at step t, the positions [0, n_t). */
    public int batchSize(int t) {
        return batchSizes[t];
    }

    /** The first packed row of step t (row of position j: offset(t) + j). */
    public int offset(int t) {
        return offsets[t];
    }

    /** The packed row of the final state of sequence b in a direction (0 forward, 1 reverse). */
    public int finalRow(int b, int direction) {
        return direction == 0 ? offsets[lengths[b] - 1] + position[b] : position[b];
    }

    /**
     * True when {@link #of}(steps, batch, lengths) would give this schedule: the same T and B, and
     * the same lengths (null: every sequence T steps). Lets an engine keep the tables of its last call.
     */
    public boolean sameAs(int steps, int batch, int[] lengths) {
        if (steps != this.steps || batch != this.batch) {
            return false;
        }
        return lengths == null ? full() : Arrays.equals(lengths, this.lengths);
    }

    /** True when every sequence has all T steps (the layout is then the padded one, row t·B + b). */
    public boolean full() {
        return maxLength == steps && lengths[sequence[batch - 1]] == steps;
    }

    /**
     * Padded rows → packed rows: row (t, b) of {@code padded} [T·B, width] (flat, from offset 0) into
     * packed row offset(t) + position(b) of {@code packed}, for the active (t, b) only.
     */
    void pack(float[] padded, int width, float[][] packed) {
        for (int t = 0; t < maxLength; t++) {
            int row = offsets[t];
            for (int j = 0; j < batchSizes[t]; j++) {
                System.arraycopy(padded, (t * batch + sequence[j]) * width, packed[row + j], 0, width);
            }
        }
    }

    /**
     * Packed rows → padded rows: the inverse of {@link #pack}, columns [col0, col0 + width) of each
     * packed row into row (t, b) of {@code padded} [T·B, ld] at column outCol0; rows of inactive
     * (t, b) are left as they are (the caller zeroes them).
     */
    void unpack(float[][] packed, int col0, int width, float[] padded, int ld, int outCol0) {
        for (int t = 0; t < maxLength; t++) {
            int row = offsets[t];
            for (int j = 0; j < batchSizes[t]; j++) {
                System.arraycopy(packed[row + j], col0, padded, (t * batch + sequence[j]) * ld + outCol0, width);
            }
        }
    }

    // ---------------------------------------------------------------- tables for the native kernels

    /** [B]: sorted position → sequence (a copy). */
    int[] sequences() {
        return sequence.clone();
    }

    /** [N]: packed row → its padded row t·B + b. */
    int[] paddedRows() {
        int[] out = new int[rows()];
        for (int t = 0; t < maxLength; t++) {
            for (int j = 0; j < batchSizes[t]; j++) {
                out[offsets[t] + j] = t * batch + sequence[j];
            }
        }
        return out;
    }

    /** [B]: sequence b → the packed row of its final state in a direction (0 forward, 1 reverse). */
    int[] finalRows(int direction) {
        int[] out = new int[batch];
        for (int b = 0; b < batch; b++) {
            out[b] = finalRow(b, direction);
        }
        return out;
    }

    /** [T' + 1] row offsets, then [T'] active batch sizes n_t: the schedule as the kernels read it. */
    int[] kernelTable() {
        int[] out = new int[2 * maxLength + 1];
        System.arraycopy(offsets, 0, out, 0, maxLength + 1);
        System.arraycopy(batchSizes, 0, out, maxLength + 1, maxLength);
        return out;
    }

    /**
     * [N]: for each packed row of a direction, the packed row it reads h_prev and c_prev from
     * (steps 4 and 5 of the algorithm), or −1 − j when position j starts there from h0, c0.
     */
    int[] previousRows(int direction) {
        int[] out = new int[rows()];
        int last = maxLength - 1;
        for (int t = 0; t <= last; t++) {
            int continuing = direction == 0 ? (t == 0 ? 0 : batchSizes[t]) : (t == last ? 0 : batchSizes[t + 1]);
            int from = direction == 0 ? t - 1 : t + 1;
            for (int j = 0; j < batchSizes[t]; j++) {
                out[offsets[t] + j] = j < continuing ? offsets[from] + j : -1 - j;
            }
        }
        return out;
    }

    /**
     * The first position of each of W workers' blocks [W + 1], for a time loop that gives each
     * worker whole sequences: contiguous blocks (one product per step), cut where the running sum
     * of the lengths crosses w/W of Σ lengths, so each worker gets about the same number of rows.
     */
    int[] balancedBlocks(int workers) {
        int[] out = new int[workers + 1];
        for (int w = 1; w <= workers; w++) {
            if (w == workers) {
                out[w] = batch;
                continue;
            }
            long target = (long) rows() * w / workers, sum = 0;
            int j = 0;
            while (j < batch && sum + lengths[sequence[j]] / 2 < target) { // nearest boundary
                sum += lengths[sequence[j]];
                j++;
            }
            out[w] = Math.max(j, out[w - 1]);
        }
        return out;
    }
}
