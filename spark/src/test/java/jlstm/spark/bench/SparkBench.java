package jlstm.spark.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.spark.DataParallelTrainer;
import jlstm.spark.ModelPayload;
import jlstm.spark.OptimizerSpec;
import jlstm.spark.ReplicaResult;
import jlstm.spark.RingBench;
import jlstm.spark.TrainingOptions;
import jlstm.train.Adam;
import jlstm.train.LinearHead;
import jlstm.train.MeanSquaredError;
import jlstm.train.SequenceModel;

/**
 * The numbers of benchmarks/spark/README.md: (1) the ring all-reduce alone, threads on loopback,
 * time against model size for N = 2, 4, 8; (2) data-parallel training steps on local[8] with
 * N = 1, 2, 4, 8 replicas (weak scaling: the same rows per replica), against the same step in one
 * JVM without Spark. Run by benchmarks/spark/run.sh; prints Markdown tables.
 */
public final class SparkBench {
    private SparkBench() {
    }

    public static void main(String[] args) throws Exception {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        System.out.println("## Ring all-reduce on loopback (threads in one JVM)\n");
        System.out.println("| N | P (floats) | MB | median ms | bytes sent per rank | model 2(N−1)/N·P·4 |");
        System.out.println("|---|---|---|---|---|---|");
        for (int n : new int[] {2, 4, 8}) {
            for (int p : new int[] {10_000, 100_000, 1_000_000, 4_000_000}) {
                RingBench.Result r = RingBench.run(n, p, p >= 1_000_000 ? 5 : 15);
                System.out.printf(Locale.ROOT, "| %d | %,d | %.2f | %.2f | %,d | %,d |%n", n, p, p * 4 / 1e6,
                        r.medianMillis(), r.bytesPerRank(), 2L * (n - 1) * p * 4 / n);
            }
        }

        LstmConfig config = LstmConfig.of(16, 64);
        int seqLen = 20, perReplica = 32;
        LstmParameters lstm = LstmParameters.initialize(config, 1);
        LinearHead head = LinearHead.initialize(config.outputSize(), 1, LinearHead.Mode.LAST_STEP, 2);
        ModelPayload model = ModelPayload.of(lstm, head);
        long params = lstm.count() + head.weight().numel() + head.bias().numel();
        double oneJvm = oneJvmStepMillis(model, seqLen, perReplica, steps);

        SparkSession spark = SparkSession.builder().master("local[8]").appName("jlstm-spark-bench")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        System.out.printf(Locale.ROOT, "%n## Training steps, local[8], %s, T=%d, %d rows per replica, %,d parameters"
                + " (%.0f KB of gradients), %d full-batch steps in one barrier stage%n%n", config, seqLen, perReplica,
                params, params * 4 / 1e3, steps);
        System.out.printf(Locale.ROOT, "One JVM without Spark, the same %d-row step on 1 CPU thread: %.2f ms%n%n",
                perReplica, oneJvm);
        System.out.println("| N | stage wall s | steps/s (stage) | step ms in task | of which all-reduce ms |"
                + " step overhead vs one JVM ms |");
        System.out.println("|---|---|---|---|---|---|");
        // Warm-up (JIT, Spark's first jobs), not reported.
        Dataset<Row> warm = rows(spark, 2 * perReplica, seqLen, config.inputSize()).repartition(2);
        DataParallelTrainer.fit(warm, model, TrainingOptions.of("x", "y", 2, steps).withEpochsPerStage(steps)
                .withDevice(Device.CPU));
        for (int n : new int[] {1, 2, 4, 8}) {
            Dataset<Row> data = rows(spark, n * perReplica, seqLen, config.inputSize()).repartition(n).cache();
            data.count();
            TrainingOptions options = TrainingOptions.of("x", "y", n, steps).withEpochsPerStage(steps)
                    .withOptimizer(OptimizerSpec.adam(1e-3)).withDevice(Device.CPU);
            long begin = System.nanoTime();
            DataParallelTrainer.TrainingRun run = DataParallelTrainer.fit(data, model, options);
            double wall = (System.nanoTime() - begin) / 1e9;
            double step = 0, ring = 0;
            for (ReplicaResult r : run.stages().get(0)) {
                step = Math.max(step, r.stepSeconds() * 1e3 / steps);
                ring = Math.max(ring, r.ringSeconds() * 1e3 / steps);
            }
            System.out.printf(Locale.ROOT, "| %d | %.2f | %.1f | %.2f | %.2f | %+.2f |%n", n, wall, steps / wall,
                    step, ring, step - oneJvm);
            data.unpersist();
        }
        spark.stop();
    }

    /** The median time of a step (forward, backward, Adam) on one batch in this JVM. */
    private static double oneJvmStepMillis(ModelPayload model, int seqLen, int batch, int steps) {
        ModelPayload.Decoded d = model.decode();
        SplittableRandom random = new SplittableRandom(3);
        float[] x = new float[seqLen * batch * d.lstm().config().inputSize()];
        float[] y = new float[batch];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        double[] times = new double[steps];
        // One CPU thread, as a task with spark.task.cpus=1 gets (TaskResources.engineOptions).
        jlstm.EngineOptions oneThread = jlstm.EngineOptions.fromSystemProperties().withCpuThreads(1);
        try (SequenceModel m = new SequenceModel(LstmLayer.create(d.lstm(), Device.CPU, oneThread), d.head())) {
            Adam adam = new Adam(1e-3);
            for (int s = 0; s < steps; s++) {
                long begin = System.nanoTime();
                m.trainStep(Tensor.of(x, seqLen, batch, d.lstm().config().inputSize()), Tensor.of(y, batch, 1),
                        new MeanSquaredError(), adam, 0);
                times[s] = (System.nanoTime() - begin) / 1e6;
            }
        }
        Arrays.sort(times);
        return times[steps / 2];
    }

    private static Dataset<Row> rows(SparkSession spark, int count, int seqLen, int inputs) {
        SplittableRandom random = new SplittableRandom(5);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            List<Float> x = new ArrayList<>();
            for (int k = 0; k < seqLen * inputs; k++) {
                x.add((float) random.nextDouble(-1, 1));
            }
            rows.add(RowFactory.create(x, List.of((float) random.nextDouble(-1, 1))));
        }
        StructType schema = new StructType().add("x", DataTypes.createArrayType(DataTypes.FloatType))
                .add("y", DataTypes.createArrayType(DataTypes.FloatType));
        return spark.createDataFrame(rows, schema);
    }
}
