package jlstm.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.apache.spark.sql.Row;

import jlstm.LstmConfig;
import jlstm.Tensor;

/**
 * One replica's rows, read once when its task starts and kept as ready batches for every step of
 * every epoch the task runs.
 *
 * @param batches the step batches in order (the last may be smaller)
 * @param rows    the shard's row count
 */
record Shard(List<Batch> batches, int rows) {

    /**
     * One step's input and target.
     *
     * @param x      [T, b, I], or [b, T, I] for a batch-first model
     * @param target [b, O]
     */
    record Batch(Tensor x, Tensor target) {
        int size() {
            return target.dim(0);
        }
    }

    /** Step k's batch, or null when this shard has none (it then contributes with weight 0). */
    Batch batch(int step) {
        return step < batches.size() ? batches.get(step) : null;
    }

    /**
     * Reads a partition.
     *
     * @param batchSize rows per step, 0 for all rows in one step
     */
    static Shard read(Iterator<Row> rows, int inputColumn, int targetColumn, TrainingOptions options,
                      LstmConfig config) {
        List<Row> all = new ArrayList<>();
        rows.forEachRemaining(all::add);
        int size = options.batchSize() == 0 ? Math.max(1, all.size()) : options.batchSize();
        List<Batch> batches = new ArrayList<>();
        for (int from = 0; from < all.size(); from += size) {
            List<Row> part = all.subList(from, Math.min(all.size(), from + size));
            SequenceRows in = SequenceRows.read(part, inputColumn, options.inputCol(), config.inputSize(),
                    config.batchFirst());
            if (!in.allFull()) {
                throw new IllegalArgumentException("training needs sequences of one length within a step; column '"
                        + options.inputCol() + "' has lengths from " + java.util.Arrays.stream(in.lengths()).min()
                        .getAsInt() + " to " + in.steps() + " (pad them, or group rows of equal length)");
            }
            batches.add(new Batch(in.x(), targets(part, targetColumn, options.targetCol())));
        }
        return new Shard(batches, all.size());
    }

    /** The targets of rows: [b, O] from array columns, [b, 1] from a number column. */
    private static Tensor targets(List<Row> rows, int column, String name) {
        int outputs = -1;
        float[] data = null;
        for (int b = 0; b < rows.size(); b++) {
            Row row = rows.get(b);
            if (row.isNullAt(column)) {
                throw new IllegalArgumentException("target column '" + name + "' is null in a row");
            }
            Object v = row.get(column);
            int n = v instanceof Number ? 1 : SequenceValues.length(v, name);
            if (outputs < 0) {
                outputs = n;
                data = new float[rows.size() * n];
            } else if (n != outputs) {
                throw new IllegalArgumentException("target column '" + name + "' has rows of " + outputs + " and "
                        + n + " values");
            }
            if (v instanceof Number number) {
                data[b] = number.floatValue();
            } else {
                SequenceValues.copyFloats(v, data, b * n, name);
            }
        }
        return Tensor.of(data, rows.size(), outputs);
    }
}
