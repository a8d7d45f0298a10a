package jlstm.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import jlstm.LstmConfig;
import jlstm.LstmOutput;
import jlstm.Tensor;
import jlstm.train.LinearHead;

/**
 * Batch scoring of a Dataset's sequences with an LSTM (and its head): the model is broadcast once
 * as safetensors bytes, each executor JVM loads it once ({@link ExecutorModels}, by content hash),
 * and each partition runs {@code forward} on batches of rows.
 *
 * <pre>{@code
 * ModelPayload model = ModelPayload.read(Path.of("checkpoint.safetensors"));
 * Dataset<Row> scored = LstmScorer.score(df, model, ScoringOptions.predictions("x").withHiddenCol("h"));
 * }</pre>
 */
public final class LstmScorer {
    private LstmScorer() {
    }

    /**
     * The rows of {@code data} with the requested output columns appended (row order and
     * partitioning unchanged).
     */
    public static Dataset<Row> score(Dataset<Row> data, ModelPayload model, ScoringOptions options) {
        ModelPayload.Decoded decoded = model.decode();   // fails here, on the driver, for a bad model
        StructType out = outputSchema(data.schema(), decoded.lstm().config(), decoded.head(), options);
        Broadcast<ModelPayload> shipped =
                JavaSparkContext.fromSparkContext(data.sparkSession().sparkContext()).broadcast(model);
        int column = data.schema().fieldIndex(options.inputCol());
        return data.mapPartitions(new ScorePartition(shipped, options, column), Encoders.row(out));
    }

    /** The input schema plus the output columns; checks the input column's type and the head. */
    static StructType outputSchema(StructType in, LstmConfig config, LinearHead head, ScoringOptions options) {
        if (!List.of(in.fieldNames()).contains(options.inputCol())) {
            throw new IllegalArgumentException("no column '" + options.inputCol() + "' in " + in.simpleString());
        }
        DataType type = in.apply(options.inputCol()).dataType();
        if (!isNumericArray(type, 2)) {
            throw new IllegalArgumentException("column '" + options.inputCol() + "' is " + type.simpleString()
                    + ", expected array<array<float>> ([T][I]) or array<float> (T·I values), float or double");
        }
        DataType matrix = DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType, false), false);
        DataType vector = DataTypes.createArrayType(DataTypes.FloatType, false);
        StructType out = in;
        if (ScoringOptions.produced(options.outputCol())) {
            out = out.add(requireNew(in, options.outputCol()), matrix, false);
        }
        if (ScoringOptions.produced(options.hiddenCol())) {
            out = out.add(requireNew(in, options.hiddenCol()), matrix, false);
        }
        if (ScoringOptions.produced(options.predictionCol())) {
            if (head == null) {
                throw new IllegalArgumentException("a prediction column '" + options.predictionCol()
                        + "' needs a model with a head (head.weight, head.bias); this one is a bare LSTM");
            }
            out = out.add(requireNew(in, options.predictionCol()),
                    head.mode() == LinearHead.Mode.LAST_STEP ? vector : matrix, false);
        }
        return out;
    }

    private static String requireNew(StructType in, String name) {
        if (List.of(in.fieldNames()).contains(name)) {
            throw new IllegalArgumentException("output column '" + name + "' already exists in the input");
        }
        return name;
    }

    /** array<number> nested at most {@code depth} deep. */
    private static boolean isNumericArray(DataType type, int depth) {
        if (!(type instanceof org.apache.spark.sql.types.ArrayType array) || depth == 0) {
            return false;
        }
        DataType e = array.elementType();
        return e instanceof org.apache.spark.sql.types.NumericType || isNumericArray(e, depth - 1);
    }

    /** The task's work: batches of rows through the executor's shared model. */
    private static final class ScorePartition implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<ModelPayload> model;
        private final ScoringOptions options;
        private final int column;

        ScorePartition(Broadcast<ModelPayload> model, ScoringOptions options, int column) {
            this.model = model;
            this.options = options;
            this.column = column;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            ExecutorModels.Loaded loaded = ExecutorModels.get(model.value(), TaskResources.deviceFor(options.device()));
            BatchScorer scorer = new BatchScorer(loaded, options, column);
            return new Iterator<>() {
                private Iterator<Row> ready = java.util.Collections.emptyIterator();

                @Override
                public boolean hasNext() {
                    while (!ready.hasNext() && rows.hasNext()) {
                        List<Row> batch = new ArrayList<>(options.batchSize());
                        while (batch.size() < options.batchSize() && rows.hasNext()) {
                            batch.add(rows.next());
                        }
                        ready = scorer.score(batch).iterator();
                    }
                    return ready.hasNext();
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new java.util.NoSuchElementException();
                    }
                    return ready.next();
                }
            };
        }
    }

    /** Scores one batch of rows; also what a single JVM runs (the tests compare against it). */
    static final class BatchScorer {
        private final ExecutorModels.Loaded model;
        private final ScoringOptions options;
        private final int column;

        BatchScorer(ExecutorModels.Loaded model, ScoringOptions options, int column) {
            this.model = model;
            this.options = options;
            this.column = column;
        }

        List<Row> score(List<Row> rows) {
            LstmConfig config = model.lstm().config();
            boolean batchFirst = config.batchFirst();
            SequenceRows in = SequenceRows.read(rows, column, options.inputCol(), config.inputSize(), batchFirst);
            LstmOutput out = model.lstm().forward(in.x(), null, null, in.allFull() ? null : in.lengths());
            Tensor y = batchFirst ? out.y().swapFirstTwoAxes() : out.y();   // [T, B, F]
            int batch = rows.size();
            Object[] predictions = ScoringOptions.produced(options.predictionCol())
                    ? predictions(y, in.lengths()) : null;
            List<Row> result = new ArrayList<>(batch);
            for (int b = 0; b < batch; b++) {
                Row row = rows.get(b);
                List<Object> values = new ArrayList<>(row.length() + 3);
                for (int i = 0; i < row.length(); i++) {
                    values.add(row.get(i));
                }
                if (ScoringOptions.produced(options.outputCol())) {
                    values.add(stepsOfRow(y, b, in.lengths()[b]));
                }
                if (ScoringOptions.produced(options.hiddenCol())) {
                    values.add(slicesOfRow(out.hn(), b));
                }
                if (predictions != null) {
                    values.add(predictions[b]);
                }
                result.add(RowFactory.create(values.toArray()));
            }
            return result;
        }

        /** The head on each row's own steps: float[O] (last step) or float[T_b][O] per row. */
        private Object[] predictions(Tensor y, int[] lengths) {
            LinearHead head = model.head();
            int batch = y.dim(1), f = y.dim(2);
            Object[] out = new Object[batch];
            if (head.mode() == LinearHead.Mode.LAST_STEP) {
                // The row's last valid step (not the padded last one): [1, B, F] → [B, O].
                float[] last = new float[batch * f];
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(y.data(), ((lengths[b] - 1) * batch + b) * f, last, b * f, f);
                }
                Tensor p = head.apply(Tensor.of(last, 1, batch, f));
                int o = p.dim(1);
                for (int b = 0; b < batch; b++) {
                    float[] row = new float[o];
                    System.arraycopy(p.data(), b * o, row, 0, o);
                    out[b] = row;
                }
            } else {
                Tensor p = head.apply(y);   // [T, B, O]
                for (int b = 0; b < batch; b++) {
                    out[b] = stepsOfRow(p, b, lengths[b]);
                }
            }
            return out;
        }

        /** t[0..steps, b, :] of a time-major [T, B, F] tensor as [steps][F]. */
        private static float[][] stepsOfRow(Tensor t, int b, int steps) {
            int batch = t.dim(1), f = t.dim(2);
            float[][] rows = new float[steps][f];
            for (int s = 0; s < steps; s++) {
                System.arraycopy(t.data(), (s * batch + b) * f, rows[s], 0, f);
            }
            return rows;
        }

        /** t[:, b, :] of an [S, B, F] tensor (h_n: S = L·D) as [S][F]. */
        private static float[][] slicesOfRow(Tensor t, int b) {
            return stepsOfRow(t, b, t.dim(0));
        }
    }
}
