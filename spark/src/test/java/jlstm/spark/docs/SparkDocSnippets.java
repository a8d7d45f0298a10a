package jlstm.spark.docs;

// [example spark-score]
import jlstm.spark.*;

// [end]
import java.io.IOException;
import java.nio.file.Path;

import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.train.LinearHead;

/**
 * The blocks of docs/SPARK.md, as regions: this module's test compilation compiles them (outside
 * the package jlstm.spark, so against its public API only) and the core's ExamplesDocTest checks the
 * page against them. Never run: they need a Dataset {@code df} of the user's, a cluster's paths and a
 * SparkSession each, which ScoringTest and TrainingTest already run with real data.
 */
final class SparkDocSnippets {
    private SparkDocSnippets() {
    }

    /** SPARK.md, "Scoring" (its import line is this file's). */
    static Dataset<Row> score(Dataset<Row> df) throws IOException {
        // [example spark-score]
        ModelPayload model = ModelPayload.read(Path.of("checkpoint.safetensors"));   // train's checkpoint,
                                                                                      // a model file, or PyTorch's save_file
        Dataset<Row> scored = LstmScorer.score(df, model,
                ScoringOptions.predictions("x")        // the sequence column; the head's output in "prediction"
                        .withOutputCol("y")            // y of every step          array<array<float>> [T_b][D·R]
                        .withHiddenCol("h")            // h_n                      array<array<float>> [L·D][R]
                        .withBatchSize(256));          // rows per forward call in a partition
        // [end]
        return scored;
    }

    /** SPARK.md, the Spark ML stage. */
    static PipelineModel pipeline(Dataset<Row> df, ModelPayload model) throws IOException {
        // [example spark-pipeline]
        LstmTransformer lstm = new LstmTransformer(model).setInputCol("x").setHiddenCol("h").setBatchSize(256);
        PipelineModel pipeline = new Pipeline().setStages(new PipelineStage[] {lstm}).fit(df);
        pipeline.write().overwrite().save("hdfs:///models/lstm-pipeline");
        PipelineModel back = PipelineModel.load("hdfs:///models/lstm-pipeline");
        // [end]
        return back;
    }

    /** SPARK.md, "Training". */
    static DataParallelTrainer.TrainingRun train(Dataset<Row> df) {
        // [example spark-train]
        ModelPayload initial = ModelPayload.of(LstmParameters.initialize(LstmConfig.of(16, 64), 42),
                LinearHead.initialize(64, 1, LinearHead.Mode.LAST_STEP, 43));
        TrainingOptions options = TrainingOptions.of("x", "y", 4, 20)    // input, target, 4 replicas, 20 epochs
                .withBatchSize(64)                                       // rows per replica per step (0: whole shard)
                .withOptimizer(OptimizerSpec.adam(1e-3))
                .withMaxGradNorm(1.0)
                .withEpochsPerStage(5)                                   // a checkpoint every 5 epochs
                .withCheckpoint(Path.of("/shared/run1/checkpoint.safetensors"));
        DataParallelTrainer.TrainingRun run = DataParallelTrainer.fit(df, initial, options);
        // [end]
        return run;
    }
}
