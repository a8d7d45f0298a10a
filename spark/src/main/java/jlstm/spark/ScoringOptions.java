package jlstm.spark;

import java.io.Serializable;

import jlstm.Device;

/**
 * What {@link LstmScorer} reads and writes. A column name that is null or empty is not produced.
 *
 * @param inputCol      the sequence column: {@code array<array<float|double>>} [T_b][I] or a flat
 *                      {@code array<float|double>} of T_b·I values; lengths may differ by row
 * @param outputCol     y of the row's own steps: {@code array<array<float>>} [T_b][D·R]
 * @param hiddenCol     the last hidden state h_n: {@code array<array<float>>} [L·D][R]
 * @param predictionCol the head's output (needs a model with a head): {@code array<float>} [O]
 *                      for a last-step head (read at the row's last valid step), or
 *                      {@code array<array<float>>} [T_b][O] for an every-step head
 * @param batchSize     rows per {@code forward} call within a partition (≥ 1)
 * @param device        {@link Device#AUTO}: the GPU Spark assigned the task, else the CPU
 */
public record ScoringOptions(String inputCol, String outputCol, String hiddenCol, String predictionCol,
                             int batchSize, Device device) implements Serializable {

    public ScoringOptions {
        if (inputCol == null || inputCol.isEmpty()) {
            throw new IllegalArgumentException("scoring needs an input column");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (!produced(outputCol) && !produced(hiddenCol) && !produced(predictionCol)) {
            throw new IllegalArgumentException("scoring produces nothing: name at least one of the output, hidden"
                    + " and prediction columns");
        }
        if (device == null) {
            device = Device.AUTO;
        }
    }

    /** Reads {@code inputCol}, writes the head's prediction to "prediction", 256 rows per call. */
    public static ScoringOptions predictions(String inputCol) {
        return new ScoringOptions(inputCol, null, null, "prediction", 256, Device.AUTO);
    }

    public ScoringOptions withOutputCol(String name) {
        return new ScoringOptions(inputCol, name, hiddenCol, predictionCol, batchSize, device);
    }

    public ScoringOptions withHiddenCol(String name) {
        return new ScoringOptions(inputCol, outputCol, name, predictionCol, batchSize, device);
    }

    public ScoringOptions withPredictionCol(String name) {
        return new ScoringOptions(inputCol, outputCol, hiddenCol, name, batchSize, device);
    }

    public ScoringOptions withBatchSize(int rows) {
        return new ScoringOptions(inputCol, outputCol, hiddenCol, predictionCol, rows, device);
    }

    public ScoringOptions withDevice(Device value) {
        return new ScoringOptions(inputCol, outputCol, hiddenCol, predictionCol, batchSize, value);
    }

    static boolean produced(String column) {
        return column != null && !column.isEmpty();
    }
}
