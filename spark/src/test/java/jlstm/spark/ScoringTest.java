package jlstm.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.Tensor;
import jlstm.train.LinearHead;

/** Scoring on local[2] against the same model run in this JVM, sequence by sequence. */
class ScoringTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = TestSessions.start("local[2]");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static final StructType NESTED = new StructType().add("id", DataTypes.IntegerType)
            .add("x", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType)));

    /** Variable-length sequences, a 2-layer bidirectional time-major model, last-step head. */
    @Test
    void variableLengthScoresAreBitIdenticalToOneJvm() {
        LstmConfig config = LstmConfig.of(3, 6).withLayers(2).withBidirectional(true);
        ModelPayload model = TestSessions.model(config, 2, LinearHead.Mode.LAST_STEP, 5);
        SplittableRandom random = new SplittableRandom(11);
        List<Row> rows = new ArrayList<>();
        Map<Integer, float[][]> inputs = new HashMap<>();
        for (int id = 0; id < 96; id++) {
            float[][] x = TestSessions.sequence(random, 1 + random.nextInt(9), 3);
            inputs.put(id, x);
            rows.add(RowFactory.create(id, TestSessions.seq(TestSessions.nested(x))));
        }
        Dataset<Row> df = spark.createDataFrame(jsc().parallelize(rows, 2), NESTED);
        int loadsBefore = ExecutorModels.loads();
        ScoringOptions options = ScoringOptions.predictions("x").withOutputCol("y").withHiddenCol("h").withBatchSize(16);
        List<Row> scored = LstmScorer.score(df, model, options).collectAsList();
        List<Row> again = LstmScorer.score(df, model, options).collectAsList();
        assertEquals(96, scored.size());
        assertEquals(96, again.size());
        assertEquals(loadsBefore + 1, ExecutorModels.loads(), "one load of the model in this JVM for 2 jobs × 2 tasks");

        ModelPayload.Decoded decoded = model.decode();
        try (LstmLayer lstm = LstmLayer.create(decoded.lstm(), Device.CPU)) {
            // Bit for bit: this JVM scoring the same batches (parallelize's two slices, 16 rows a call).
            List<Row> oneJvm = new ArrayList<>();
            LstmScorer.BatchScorer scorer = new LstmScorer.BatchScorer(
                    new ExecutorModels.Loaded(lstm, decoded.head()), options, 1);
            for (List<Row> slice : List.of(rows.subList(0, 48), rows.subList(48, 96))) {
                for (int from = 0; from < slice.size(); from += 16) {
                    oneJvm.addAll(scorer.score(slice.subList(from, Math.min(slice.size(), from + 16))));
                }
            }
            for (int i = 0; i < 96; i++) {
                Row expected = oneJvm.get(i), actual = scored.get(i);
                assertEquals(expected.getInt(0), actual.getInt(0));
                for (int c = 2; c <= 3; c++) {
                    float[][] e = (float[][]) expected.get(c);
                    assertRowsEqual(e, actual.getList(c), "column " + c + " of sequence " + actual.getInt(0));
                }
                assertArrayEquals((float[]) expected.get(4), floats(actual.getList(4)), "prediction " + i);
                assertEquals(actual, again.get(i), "the second job gives the same bits");
            }
            // Within float rounding: each sequence alone (another batch composition can move the
            // last bit: the engine's products block the batch differently).
            for (Row row : scored) {
                float[][] x = inputs.get(row.getInt(0));
                Reference ref = Reference.of(lstm, decoded.head(), x, false);
                assertRowsClose(ref.y, row.getList(2), "y of sequence " + row.getInt(0));
                assertRowsClose(ref.h, row.getList(3), "h_n of sequence " + row.getInt(0));
                assertArrayEquals(ref.prediction, floats(row.getList(4)), 1e-5f, "prediction of " + row.getInt(0));
            }
        }
    }

    private static org.apache.spark.api.java.JavaSparkContext jsc() {
        return org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    /** A batch-first model reading a flat array<double> column, every-step head. */
    @Test
    void batchFirstFlatColumnEveryStepHead() {
        LstmConfig config = LstmConfig.of(2, 4).withBatchFirst(true);
        ModelPayload model = TestSessions.model(config, 3, LinearHead.Mode.EVERY_STEP, 8);
        StructType schema = new StructType().add("id", DataTypes.IntegerType)
                .add("flat", DataTypes.createArrayType(DataTypes.DoubleType));
        SplittableRandom random = new SplittableRandom(3);
        List<Row> rows = new ArrayList<>();
        Map<Integer, float[][]> inputs = new HashMap<>();
        for (int id = 0; id < 40; id++) {
            float[][] x = TestSessions.sequence(random, 5, 2);
            inputs.put(id, x);
            List<Double> flat = new ArrayList<>();
            for (float[] step : x) {
                for (float v : step) {
                    flat.add((double) v);
                }
            }
            rows.add(RowFactory.create(id, TestSessions.seq(flat)));
        }
        Dataset<Row> df = spark.createDataFrame(jsc().parallelize(rows, 2), schema);
        ScoringOptions options = ScoringOptions.predictions("flat").withBatchSize(7);
        List<Row> scored = LstmScorer.score(df, model, options).collectAsList();
        ModelPayload.Decoded decoded = model.decode();
        try (LstmLayer lstm = LstmLayer.create(decoded.lstm(), Device.CPU)) {
            LstmScorer.BatchScorer scorer = new LstmScorer.BatchScorer(
                    new ExecutorModels.Loaded(lstm, decoded.head()), options, 1);
            List<Row> oneJvm = new ArrayList<>();
            for (List<Row> slice : List.of(rows.subList(0, 20), rows.subList(20, 40))) {
                for (int from = 0; from < slice.size(); from += 7) {
                    oneJvm.addAll(scorer.score(slice.subList(from, Math.min(slice.size(), from + 7))));
                }
            }
            for (int i = 0; i < 40; i++) {
                Row row = scored.get(i);
                assertRowsEqual((float[][]) oneJvm.get(i).get(2), row.getList(2), "every-step prediction of " + i);
                Reference ref = Reference.of(lstm, decoded.head(), inputs.get(row.getInt(0)), true);
                assertRowsClose(ref.everyStep, row.getList(2), "every-step prediction of " + row.getInt(0));
            }
        }
    }

    /** The Transformer in a Pipeline, saved and loaded back: same params, same model, same bits. */
    @Test
    void transformerSavesAndLoadsInAPipeline(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        LstmConfig config = LstmConfig.of(3, 5);
        ModelPayload model = TestSessions.model(config, 1, LinearHead.Mode.LAST_STEP, 21);
        SplittableRandom random = new SplittableRandom(4);
        List<Row> rows = new ArrayList<>();
        for (int id = 0; id < 24; id++) {
            rows.add(RowFactory.create(id, TestSessions.seq(TestSessions.nested(TestSessions.sequence(random, 4, 3)))));
        }
        Dataset<Row> df = spark.createDataFrame(jsc().parallelize(rows, 2), NESTED);
        LstmTransformer stage = new LstmTransformer(model).setInputCol("x").setHiddenCol("h").setBatchSize(8);
        org.apache.spark.ml.PipelineModel fitted = new org.apache.spark.ml.Pipeline()
                .setStages(new org.apache.spark.ml.PipelineStage[] {stage}).fit(df);
        List<Row> before = fitted.transform(df).collectAsList();
        String path = dir.resolve("pipeline").toString();
        try {
            fitted.write().overwrite().save(path);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        org.apache.spark.ml.PipelineModel loaded = org.apache.spark.ml.PipelineModel.load(path);
        LstmTransformer back = (LstmTransformer) loaded.stages()[0];
        assertEquals(stage.uid(), back.uid());
        assertEquals(model.sha256(), back.model().sha256());
        assertEquals("h", back.getOrDefault(back.hiddenCol()));
        assertEquals(8, (int) (Integer) back.getOrDefault(back.batchSize()));
        assertEquals(List.of("id", "x", "h", "prediction"), List.of(loaded.transform(df).schema().fieldNames()));
        assertEquals(before, loaded.transform(df).collectAsList());
    }

    @Test
    void badInputsFailOnTheDriverWithTheColumnNamed() {
        ModelPayload bare = ModelPayload.of(jlstm.LstmParameters.initialize(LstmConfig.of(3, 4), 1), null);
        Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create(1, List.of(List.of(1f, 2f, 3f)))), NESTED);
        IllegalArgumentException noHead = assertThrows(IllegalArgumentException.class,
                () -> LstmScorer.score(df, bare, ScoringOptions.predictions("x")));
        assertTrue(noHead.getMessage().contains("head"), noHead.getMessage());
        IllegalArgumentException noColumn = assertThrows(IllegalArgumentException.class,
                () -> LstmScorer.score(df, bare, ScoringOptions.predictions("nope").withOutputCol("y")
                        .withPredictionCol(null)));
        assertTrue(noColumn.getMessage().contains("nope"), noColumn.getMessage());
    }

    /** The one-JVM result of one sequence alone (batch of 1, no lengths). */
    record Reference(float[][] y, float[][] h, float[] prediction, float[][] everyStep) {
        static Reference of(LstmLayer lstm, LinearHead head, float[][] x, boolean batchFirst) {
            int steps = x.length, inputs = x[0].length;
            float[] flat = new float[steps * inputs];
            for (int t = 0; t < steps; t++) {
                System.arraycopy(x[t], 0, flat, t * inputs, inputs);
            }
            // [T, 1, I] and [1, T, I] hold the same values in the same order
            Tensor in = batchFirst ? Tensor.of(flat, 1, steps, inputs) : Tensor.of(flat, steps, 1, inputs);
            LstmOutput out = lstm.forward(in);
            int f = out.y().dim(2);
            Tensor yTimeMajor = Tensor.of(out.y().data(), steps, 1, f);
            float[][] y = split(out.y().data(), steps, f);
            float[][] h = split(out.hn().data(), out.hn().dim(0), out.hn().dim(2));
            Tensor p = head.apply(yTimeMajor);
            float[] last = head.mode() == LinearHead.Mode.LAST_STEP ? p.data() : null;
            float[][] every = head.mode() == LinearHead.Mode.EVERY_STEP ? split(p.data(), steps, p.dim(2)) : null;
            return new Reference(y, h, last, every);
        }

        static float[][] split(float[] data, int rows, int cols) {
            float[][] out = new float[rows][cols];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(data, r * cols, out[r], 0, cols);
            }
            return out;
        }
    }

    static float[] floats(List<?> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) values.get(i)).floatValue();
        }
        return out;
    }

    static void assertRowsClose(float[][] expected, List<?> actual, String what) {
        assertEquals(expected.length, actual.size(), what + ": rows");
        for (int i = 0; i < expected.length; i++) {
            Object row = actual.get(i);
            List<?> values = row instanceof scala.collection.Seq<?> s
                    ? scala.jdk.javaapi.CollectionConverters.asJava(s) : (List<?>) row;
            assertArrayEquals(expected[i], floats(values), 1e-5f, what + ", row " + i);
        }
    }

    static void assertRowsEqual(float[][] expected, List<?> actual, String what) {
        assertEquals(expected.length, actual.size(), what + ": rows");
        for (int i = 0; i < expected.length; i++) {
            Object row = actual.get(i);
            List<?> values = row instanceof scala.collection.Seq<?> s
                    ? scala.jdk.javaapi.CollectionConverters.asJava(s) : (List<?>) row;
            assertArrayEquals(expected[i], floats(values), what + ", row " + i);
        }
    }
}
