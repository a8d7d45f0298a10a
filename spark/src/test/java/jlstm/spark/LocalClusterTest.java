package jlstm.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import jlstm.Device;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.train.LinearHead;

/**
 * On local-cluster[2,1,1024]: two executor JVMs apart from the driver, so the model really travels
 * (broadcast bytes) and the ring really crosses processes.
 */
class LocalClusterTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = TestSessions.start("local-cluster[2,1,1024]", TestSessions.fakeGpus());
        // Executors register a moment after the session starts; a barrier stage needs both.
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (spark.sparkContext().statusTracker().getExecutorInfos().length < 3 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void scoringInOtherJvmsIsBitIdenticalToThisJvm() {
        LstmConfig config = LstmConfig.of(3, 6).withLayers(2);
        ModelPayload model = TestSessions.model(config, 2, LinearHead.Mode.LAST_STEP, 31);
        SplittableRandom random = new SplittableRandom(5);
        List<Row> rows = new ArrayList<>();
        for (int id = 0; id < 64; id++) {
            rows.add(RowFactory.create(id, TestSessions.seq(TestSessions.nested(
                    TestSessions.sequence(random, 1 + random.nextInt(7), 3)))));
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Dataset<Row> df = spark.createDataFrame(jsc.parallelize(rows, 2), ScoringTest.NESTED);
        // CPU: the executors have (fake) GPUs from Spark's scheduling, so AUTO would pick CUDA.
        ScoringOptions options = ScoringOptions.predictions("x").withHiddenCol("h").withBatchSize(16)
                .withDevice(Device.CPU);
        List<Row> scored = LstmScorer.score(df, model, options).collectAsList();
        ModelPayload.Decoded decoded = model.decode();
        try (LstmLayer lstm = LstmLayer.create(decoded.lstm(), Device.CPU)) {
            LstmScorer.BatchScorer scorer = new LstmScorer.BatchScorer(
                    new ExecutorModels.Loaded(lstm, decoded.head()), options, 1);
            List<Row> oneJvm = new ArrayList<>();
            for (List<Row> slice : List.of(rows.subList(0, 32), rows.subList(32, 64))) {
                for (int from = 0; from < slice.size(); from += 16) {
                    oneJvm.addAll(scorer.score(slice.subList(from, from + 16)));
                }
            }
            for (int i = 0; i < 64; i++) {
                ScoringTest.assertRowsEqual((float[][]) oneJvm.get(i).get(2), scored.get(i).getList(2), "h_n " + i);
                assertArrayEquals((float[]) oneJvm.get(i).get(3), ScoringTest.floats(scored.get(i).getList(3)),
                        "prediction " + i);
            }
        }
        assertEquals(0, ExecutorModels.loads(), "the driver never loaded the model: the executors did");
    }

    /**
     * Spark's GPU scheduling reaches the task: each worker offers GPUs "0" and "1" (a discovery
     * script, no real GPU), each executor and task takes one, and the task's device follows.
     */
    @Test
    void eachTaskSeesTheGpuSparkAssignedIt() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<String> seen = jsc.parallelize(List.of(0, 1), 2)
                .map(i -> TaskResources.gpuOrdinal() + " " + TaskResources.deviceFor(Device.AUTO).label()
                        + " " + TaskResources.deviceFor(Device.CUDA).label() + " "
                        + TaskResources.deviceFor(Device.CPU).label() + " " + TaskResources.engineOptions().cpuThreads())
                .collect();
        assertEquals(2, seen.size());
        for (String s : seen) {
            // GPU k → Device.cuda(k), labelled cuda for 0 and cuda:k past it; the CPU stays the CPU.
            assertTrue(s.equals("0 cuda cuda cpu 1") || s.equals("1 cuda:1 cuda:1 cpu 1"), "task saw " + s);
        }
    }

    @Test
    void trainingAcrossExecutorsEqualsTrainingInOneJvm() {
        // The same run in this JVM's local mode would need a second session; instead: replicas
        // bit-identical, and the result equal to one machine on the concatenated batch.
        TrainingTest.buildData(spark);
        TrainingOptions options = TrainingOptions.of("x", "y", 2, 8).withEpochsPerStage(8)
                .withMaxGradNorm(0.5).withRecordDigests(true).withDevice(Device.CPU);
        DataParallelTrainer.TrainingRun run = DataParallelTrainer.fit(TrainingTest.data(), TrainingTest.initialModel(),
                options);
        ReplicaResult[] replicas = run.stages().get(0);
        assertArrayEquals(replicas[0].digests(), replicas[1].digests(), "the replicas differ at some step");
        assertNotEquals(replicas[0].shardRows(), replicas[1].shardRows());
        TrainingTest.assertEqualsOneMachine(run, 8, 0.5);
        assertTrue(replicas[0].ringBytes() > 0);
    }

    /**
     * A real kill: replica 1's executor JVM halts at epoch 2 (of 4, two per stage). Its peer sees
     * the ring break, the stage fails, Spark replaces the executor and resubmits the stage, which
     * starts again from the checkpoint of epoch 2: the result equals a run without the kill
     * (within float rounding: see below).
     */
    @Test
    void aKilledExecutorFailsTheStageWhichRetriesFromTheCheckpoint(@org.junit.jupiter.api.io.TempDir
                                                                   java.nio.file.Path dir) throws Exception {
        TrainingTest.buildData(spark);
        // Full-shard steps: the lost executor's shuffle output is recomputed, and Spark does not keep
        // the order of rows within a partition across that, so mini-batches would differ (and the
        // bits of a full-shard sum may): compared within float rounding, not bit for bit.
        TrainingOptions options = TrainingOptions.of("x", "y", 2, 4).withEpochsPerStage(2).withBatchSize(0)
                .withOptimizer(OptimizerSpec.sgd(0.05, 0.9)).withDevice(Device.CPU).withTimeoutMillis(60_000);
        ModelPayload uninterrupted =
                DataParallelTrainer.fit(TrainingTest.data(), TrainingTest.initialModel(), options).model();

        java.util.concurrent.atomic.AtomicInteger lostExecutors = new java.util.concurrent.atomic.AtomicInteger();
        org.apache.spark.scheduler.SparkListener listener = new org.apache.spark.scheduler.SparkListener() {
            @Override
            public void onExecutorRemoved(org.apache.spark.scheduler.SparkListenerExecutorRemoved removed) {
                lostExecutors.incrementAndGet();
            }
        };
        spark.sparkContext().addSparkListener(listener);
        java.nio.file.Path checkpoint = dir.resolve("killed.safetensors");
        spark.sparkContext().setLocalProperty(ReplicaTask.FAULT_PROPERTY, "1:2:halt");
        DataParallelTrainer.TrainingRun run;
        try {
            run = DataParallelTrainer.fit(TrainingTest.data(), TrainingTest.initialModel(),
                    options.withCheckpoint(checkpoint));
        } finally {
            spark.sparkContext().setLocalProperty(ReplicaTask.FAULT_PROPERTY, null);
        }
        spark.sparkContext().listenerBus().waitUntilEmpty();
        spark.sparkContext().removeSparkListener(listener);
        assertTrue(lostExecutors.get() >= 1, "an executor JVM died (the injected halt)");
        ModelPayload.Decoded expected = uninterrupted.decode(), actual = run.model().decode();
        for (String name : expected.lstm().names()) {
            assertArrayEquals(expected.lstm().get(name).data(), actual.lstm().get(name).data(), 1e-5f,
                    "the retried stage restarted from epoch 2: " + name);
        }
        assertArrayEquals(expected.head().weight().data(), actual.head().weight().data(), 1e-5f, "head.weight");
        assertEquals("4", ModelPayload.read(checkpoint).decode().metadata().get("epoch"));
    }
}
