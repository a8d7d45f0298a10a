package jlstm.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Synchronous data-parallel training of an LSTM with a last-step head (mean squared error) on
 * Spark: N replicas, one per partition, in a barrier stage (all start together or none), each
 * applying the same optimizer step to the same all-reduced gradients, so the result is the
 * one-machine training on the union of each step's batches up to float summation order.
 *
 * <pre>{@code
 * TrainingOptions options = TrainingOptions.of("x", "y", 2, 20).withCheckpoint(Path.of("ckpt.safetensors"));
 * TrainingRun run = DataParallelTrainer.fit(df, ModelPayload.of(lstmParameters, head), options);
 * }</pre>
 *
 * <p>Every {@code epochsPerStage} epochs form one barrier stage; after each the driver writes the
 * checkpoint (jlstm's usual file: parameters, optimizer state, epoch). When a replica fails, its
 * peers fail too (the ring breaks) and Spark retries the whole stage, which starts again from the
 * state of the last checkpoint; a new {@code fit} with the same checkpoint file resumes there.
 */
public final class DataParallelTrainer {
    private DataParallelTrainer() {
    }

    /**
     * What a run did.
     *
     * @param model      the trained model and optimizer state (checkpoint bytes)
     * @param epochsDone epochs done in all (with those of a resumed checkpoint)
     * @param losses     the global loss of each step this call ran, in order
     * @param stages     per barrier stage, every replica's report (by rank)
     */
    public record TrainingRun(ModelPayload model, int epochsDone, double[] losses, List<ReplicaResult[]> stages) {
    }

    /**
     * Trains. When {@code options.checkpoint()} names an existing file, training resumes from it
     * (its parameters, optimizer state and epoch count) and {@code initial} is not used.
     *
     * @param data    rows with the input and target columns (repartitioned to N when it has
     *                another partition count)
     * @param initial the starting model: an LSTM and a last-step head
     */
    public static TrainingRun fit(Dataset<Row> data, ModelPayload initial, TrainingOptions options) {
        SparkContext sc = data.sparkSession().sparkContext();
        BarrierChecks.require(sc, options.replicas());
        int inputColumn = data.schema().fieldIndex(options.inputCol());
        int targetColumn = data.schema().fieldIndex(options.targetCol());

        ModelPayload state = initial;
        int done = 0;
        Path checkpoint = options.checkpointPath();
        if (checkpoint != null && Files.exists(checkpoint)) {
            try {
                state = ModelPayload.read(checkpoint);
            } catch (IOException e) {
                throw new UncheckedIOException("could not read the checkpoint " + checkpoint + " to resume from", e);
            }
            done = Integer.parseInt(state.decode().metadata().getOrDefault(ReplicaTask.EPOCH, "0"));
        }
        if (state.decode().head() == null) {
            throw new IllegalArgumentException("training needs a model with a last-step head (ModelPayload.of(lstm,"
                    + " head))");
        }

        Dataset<Row> shards = data.rdd().getNumPartitions() == options.replicas() ? data
                : data.repartition(options.replicas());
        RDD<Row> rows = shards.rdd().persist(StorageLevel.MEMORY_AND_DISK());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        List<Double> losses = new ArrayList<>();
        List<ReplicaResult[]> stages = new ArrayList<>();
        try {
            while (done < options.epochs()) {
                int epochs = Math.min(options.epochsPerStage(), options.epochs() - done);
                Broadcast<ModelPayload> shipped = jsc.broadcast(state);
                ReplicaTask task = new ReplicaTask(shipped, options, inputColumn, targetColumn, done, epochs);
                // The shuffle after the barrier stage makes it a shuffle-map stage: Spark resubmits a
                // failed barrier shuffle-map stage (spark.stage.maxConsecutiveAttempts times), but
                // aborts the job when a barrier result stage fails.
                ReplicaResult[] results = (ReplicaResult[]) rows.barrier()
                        .mapPartitions(task, false, scala.reflect.ClassTag$.MODULE$.apply(ReplicaResult.class))
                        .repartition(1, null)
                        .collect();
                Arrays.sort(results, Comparator.comparingInt(ReplicaResult::rank));
                shipped.destroy();
                state = ModelPayload.fromBytes(results[0].checkpoint());
                done += epochs;
                if (checkpoint != null) {
                    writeAtomically(checkpoint, state.bytes());
                }
                for (double loss : results[0].losses()) {
                    losses.add(loss);
                }
                stages.add(results);
            }
        } finally {
            rows.unpersist(false);
        }
        return new TrainingRun(state, done, losses.stream().mapToDouble(Double::doubleValue).toArray(), stages);
    }

    /** The checkpoint appears whole or not at all (a temporary file renamed over it). */
    private static void writeAtomically(Path file, byte[] bytes) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the checkpoint " + file, e);
        }
    }
}
