package jlstm.spark;

import java.util.List;

import org.apache.spark.sql.Row;

import jlstm.Tensor;

/**
 * A batch of rows read as one LSTM input. A row's sequence is either an array of steps, each an
 * array of I features ({@code array<array<float>>}, [T_b][I]), or one flat array of T_b·I values
 * ({@code array<float>}, step after step). Rows may differ in length: the batch is padded with
 * zeros to the longest, and the lengths go to the LSTM (PyTorch's {@code pack_padded_sequence}).
 *
 * @param x       the input in the model's layout: [T, B, I], or [B, T, I] when batch-first
 * @param lengths [B]: each row's steps T_b
 * @param steps   T, the longest
 */
record SequenceRows(Tensor x, int[] lengths, int steps) {

    /** Whether every row has the longest length (no lengths need to be passed). */
    boolean allFull() {
        for (int l : lengths) {
            if (l != steps) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads a batch.
     *
     * @param rows       the rows (at least one)
     * @param column     index of the sequence column
     * @param name       its name, for messages
     * @param inputSize  I, features per step
     * @param batchFirst whether to build [B, T, I] instead of [T, B, I]
     */
    static SequenceRows read(List<Row> rows, int column, String name, int inputSize, boolean batchFirst) {
        int batch = rows.size();
        int[] lengths = new int[batch];
        float[][] flat = new float[batch][];
        int steps = 0;
        for (int b = 0; b < batch; b++) {
            flat[b] = stepsOf(rows.get(b), column, name, inputSize);
            lengths[b] = flat[b].length / inputSize;
            steps = Math.max(steps, lengths[b]);
        }
        float[] x = new float[steps * batch * inputSize];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < lengths[b]; t++) {
                int to = batchFirst ? (b * steps + t) * inputSize : (t * batch + b) * inputSize;
                System.arraycopy(flat[b], t * inputSize, x, to, inputSize);
            }
        }
        Tensor tensor = batchFirst ? Tensor.of(x, batch, steps, inputSize) : Tensor.of(x, steps, batch, inputSize);
        return new SequenceRows(tensor, lengths, steps);
    }

    /** One row's sequence, flattened step after step: T_b·I values. */
    static float[] stepsOf(Row row, int column, String name, int inputSize) {
        if (row.isNullAt(column)) {
            throw new IllegalArgumentException("column '" + name + "' is null in a row; every row needs a sequence");
        }
        Object value = row.get(column);
        int outer = SequenceValues.length(value, name);
        if (outer == 0) {
            throw new IllegalArgumentException("column '" + name + "' holds an empty sequence; every sequence needs at"
                    + " least one step");
        }
        Object first = SequenceValues.element(value, 0);
        boolean nested = !(first instanceof Number);
        if (!nested) {
            if (outer % inputSize != 0) {
                throw new IllegalArgumentException("column '" + name + "' holds a flat array of " + outer
                        + " values, not a whole number of steps of " + inputSize + " features");
            }
            float[] out = new float[outer];
            SequenceValues.copyFloats(value, out, 0, name);
            return out;
        }
        float[] out = new float[outer * inputSize];
        for (int t = 0; t < outer; t++) {
            Object step = SequenceValues.element(value, t);
            if (step == null || SequenceValues.length(step, name) != inputSize) {
                throw new IllegalArgumentException("column '" + name + "': step " + t + " has "
                        + (step == null ? "no value" : SequenceValues.length(step, name) + " features")
                        + ", the model reads " + inputSize);
            }
            SequenceValues.copyFloats(step, out, t * inputSize, name);
        }
        return out;
    }
}
