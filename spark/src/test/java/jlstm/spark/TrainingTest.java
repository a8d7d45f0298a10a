package jlstm.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.spark.SparkConf;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.Tensor;
import jlstm.train.Adam;
import jlstm.train.GradientClipping;
import jlstm.train.LinearHead;
import jlstm.train.MeanSquaredError;
import jlstm.train.SequenceModel;

/** Data-parallel training on local[2] against one-machine training on the concatenated batch. */
class TrainingTest {
    static final int STEPS = 6, INPUTS = 3, ROWS = 48;
    static final StructType SCHEMA = new StructType().add("part", DataTypes.IntegerType)
            .add("x", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType)))
            .add("y", DataTypes.createArrayType(DataTypes.FloatType));

    private static SparkSession spark;
    private static float[][][] inputs;   // [ROWS][STEPS][INPUTS]
    private static float[][] targets;    // [ROWS][2]
    private static Dataset<Row> data;

    @BeforeAll
    static void start() {
        spark = TestSessions.start("local[2]");
        buildData(spark);
    }

    /** 48 rows of [6][3] sequences and 2 targets, in two partitions of 30 and 18 rows. */
    static void buildData(SparkSession session) {
        SplittableRandom random = new SplittableRandom(7);
        inputs = new float[ROWS][][];
        targets = new float[ROWS][2];
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            inputs[i] = TestSessions.sequence(random, STEPS, INPUTS);
            float sum = 0;
            for (float[] step : inputs[i]) {
                sum += step[0] - step[1];
            }
            targets[i] = new float[] {sum / STEPS, inputs[i][STEPS - 1][2]};
            // 30 rows in one shard, 18 in the other: unequal weights
            rows.add(RowFactory.create(i < 30 ? 0 : 1, TestSessions.nested(inputs[i]),
                    List.of(targets[i][0], targets[i][1])));
        }
        data = session.createDataFrame(rows, SCHEMA).repartitionByRange(2, functions.col("part"));
    }

    static Dataset<Row> data() {
        return data;
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static ModelPayload initialModel() {
        return TestSessions.model(LstmConfig.of(INPUTS, 8), 2, LinearHead.Mode.LAST_STEP, 99);
    }

    @Test
    void twoReplicasEqualOneMachineOnTheConcatenatedBatchAndStayBitIdentical() {
        int steps = 20;
        TrainingOptions options = TrainingOptions.of("x", "y", 2, steps).withEpochsPerStage(steps)
                .withOptimizer(OptimizerSpec.adam(1e-2)).withMaxGradNorm(0.5).withRecordDigests(true)
                .withDevice(Device.CPU);
        DataParallelTrainer.TrainingRun run = DataParallelTrainer.fit(data, initialModel(), options);

        ReplicaResult[] replicas = run.stages().get(0);
        assertEquals(java.util.Set.of(30, 18), java.util.Set.of(replicas[0].shardRows(), replicas[1].shardRows()),
                "shards of 30 and 18 rows (weights 30/48 and 18/48)");
        assertEquals(steps, replicas[0].digests().length);
        assertArrayEquals(replicas[0].digests(), replicas[1].digests(), "the replicas differ at some step");
        assertEquals(new java.util.HashSet<>(List.of(replicas[0].digests())).size(), steps,
                "the parameters changed at every step");

        assertEqualsOneMachine(run, steps, 0.5);
        assertTrue(run.losses()[steps - 1] < 0.7 * run.losses()[0], "the loss fell: " + run.losses()[0] + " → "
                + run.losses()[steps - 1]);
    }

    @Test
    void aFailedReplicaFailsTheStageWhichRetriesFromTheCheckpoint(@TempDir Path dir) throws Exception {
        TrainingOptions options = TrainingOptions.of("x", "y", 2, 6).withEpochsPerStage(2).withBatchSize(8)
                .withOptimizer(OptimizerSpec.sgd(0.05, 0.9)).withDevice(Device.CPU);
        String uninterrupted = digest(DataParallelTrainer.fit(data, initialModel(), options).model());

        AtomicInteger failedTasks = new AtomicInteger();
        SparkListener listener = new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (!end.taskInfo().successful()) {
                    failedTasks.incrementAndGet();
                }
            }
        };
        spark.sparkContext().addSparkListener(listener);
        Path checkpoint = dir.resolve("faulty.safetensors");
        spark.sparkContext().setLocalProperty(ReplicaTask.FAULT_PROPERTY, "1:3:throw");
        DataParallelTrainer.TrainingRun faulty;
        try {
            faulty = DataParallelTrainer.fit(data, initialModel(), options.withCheckpoint(checkpoint));
        } finally {
            spark.sparkContext().setLocalProperty(ReplicaTask.FAULT_PROPERTY, null);
        }
        spark.sparkContext().listenerBus().waitUntilEmpty();
        spark.sparkContext().removeSparkListener(listener);
        assertTrue(failedTasks.get() >= 1, "a replica failed (the injected fault)");
        assertEquals(uninterrupted, digest(faulty.model()), "the retried stage restarted from the checkpoint");
        assertEquals("6", ModelPayload.read(checkpoint).decode().metadata().get("epoch"));

        // A new fit on an existing checkpoint resumes it: 4 epochs, then on to 6.
        Path resumed = dir.resolve("resumed.safetensors");
        DataParallelTrainer.fit(data, initialModel(), options.withEpochs(4).withCheckpoint(resumed));
        assertEquals("4", ModelPayload.read(resumed).decode().metadata().get("epoch"));
        DataParallelTrainer.TrainingRun rest = DataParallelTrainer.fit(data, initialModel(),
                options.withCheckpoint(resumed));
        assertEquals(1, rest.stages().size(), "only the last stage ran");
        assertEquals(uninterrupted, digest(rest.model()));
        assertTrue(Files.size(resumed) > 0);
    }

    @Test
    void constraintsAreCheckedBeforeTheStageStarts() {
        IllegalStateException tooMany = assertThrows(IllegalStateException.class,
                () -> DataParallelTrainer.fit(data, initialModel(), TrainingOptions.of("x", "y", 3, 1)));
        assertTrue(tooMany.getMessage().contains("3 replicas need 3 task slots"), tooMany.getMessage());
        SparkConf speculative = new SparkConf().set("spark.speculation", "true");
        IllegalStateException speculation = assertThrows(IllegalStateException.class,
                () -> BarrierChecks.require(speculative, "local[4]", 0, 2));
        assertTrue(speculation.getMessage().contains("spark.speculation=false"), speculation.getMessage());
        SparkConf dynamic = new SparkConf().set("spark.dynamicAllocation.enabled", "true");
        IllegalStateException allocation = assertThrows(IllegalStateException.class,
                () -> BarrierChecks.require(dynamic, "yarn", 4, 2));
        assertTrue(allocation.getMessage().contains("spark.dynamicAllocation.enabled=false"), allocation.getMessage());
        SparkConf twoCpus = new SparkConf().set("spark.task.cpus", "2");
        assertEquals(4, BarrierChecks.knownSlots(twoCpus, "local-cluster[4, 2, 1024]", 4));
        assertEquals(1, BarrierChecks.knownSlots(twoCpus, "local[3]", 0));
        assertEquals(0, BarrierChecks.knownSlots(new SparkConf(), "spark://host:7077", 2), "unknown: Spark checks it");
    }

    /**
     * The run's model and losses against one machine training on the 48 rows as one batch, with
     * the same clipping and Adam(1e-2).
     */
    static void assertEqualsOneMachine(DataParallelTrainer.TrainingRun run, int steps, double maxGradNorm) {
        // One machine: the 48 rows in one batch, the same clipping and Adam.
        ModelPayload.Decoded start = initialModel().decode();
        float[] x = new float[STEPS * ROWS * INPUTS];
        float[] y = new float[ROWS * 2];
        for (int b = 0; b < ROWS; b++) {
            for (int t = 0; t < STEPS; t++) {
                System.arraycopy(inputs[b][t], 0, x, (t * ROWS + b) * INPUTS, INPUTS);
            }
            System.arraycopy(targets[b], 0, y, b * 2, 2);
        }
        double[] oneMachineLosses = new double[steps];
        try (SequenceModel model = new SequenceModel(LstmLayer.create(start.lstm(), Device.CPU), start.head())) {
            Adam adam = new Adam(1e-2);
            for (int s = 0; s < steps; s++) {
                SequenceModel.StepResult r = model.lossAndGradients(Tensor.of(x, STEPS, ROWS, INPUTS),
                        Tensor.of(y, ROWS, 2), new MeanSquaredError());
                GradientClipping.clipByGlobalNorm(r.gradients().values(), maxGradNorm);
                adam.step(model.parameters(), r.gradients());
                model.lstm().parametersUpdated();
                oneMachineLosses[s] = r.loss();
            }
            ModelPayload.Decoded trained = run.model().decode();
            Map<String, Tensor> expected = model.parameters();
            Map<String, Tensor> actual = new java.util.LinkedHashMap<>(trained.lstm().asMap());
            actual.put(LinearHead.WEIGHT, trained.head().weight());
            actual.put(LinearHead.BIAS, trained.head().bias());
            assertEquals(expected.keySet(), actual.keySet());
            ModelPayload.Decoded initial = initialModel().decode();   // start's tensors trained in place above
            double largestChange = 0;
            for (String name : expected.keySet()) {
                assertArrayEquals(expected.get(name).data(), actual.get(name).data(), 2e-5f, name);
                float[] before = name.startsWith("head.") ? (name.endsWith("weight") ? initial.head().weight().data()
                        : initial.head().bias().data()) : initial.lstm().get(name).data();
                for (int i = 0; i < before.length; i++) {
                    largestChange = Math.max(largestChange, Math.abs(before[i] - actual.get(name).data()[i]));
                }
            }
            assertTrue(largestChange > 0.05, "training moved the parameters (largest change " + largestChange + ")");
            assertEquals("adam", trained.metadata().get("optimizer"));
            assertFalse(trained.optimizer().isEmpty(), "the optimizer state comes back");
        }
        for (int s = 0; s < steps; s++) {
            assertEquals(oneMachineLosses[s], run.losses()[s], 1e-5 * Math.max(1, oneMachineLosses[s]), "loss " + s);
        }
        }

    static String digest(ModelPayload model) {
        ModelPayload.Decoded d = model.decode();
        Map<String, Tensor> all = new java.util.LinkedHashMap<>(d.lstm().asMap());
        all.put(LinearHead.WEIGHT, d.head().weight());
        all.put(LinearHead.BIAS, d.head().bias());
        return ReplicaTask.digest(all);
    }
}
