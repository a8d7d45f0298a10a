package jlstm.spark;

import java.io.Serializable;
import java.nio.file.Path;

import jlstm.Device;

/**
 * How {@link DataParallelTrainer} trains.
 *
 * @param inputCol       the sequence column, as {@link ScoringOptions#inputCol()}; every row of
 *                       one step must have the same length
 * @param targetCol      the target: {@code array<float|double>} [O] (or a number, O = 1) for the
 *                       model's last-step head
 * @param replicas       N, the barrier tasks (one per partition; at most the cluster's free slots)
 * @param epochs         passes over the data in all (a resumed run counts the ones done)
 * @param epochsPerStage epochs per barrier stage: the driver writes a checkpoint after each
 *                       stage, and a retried stage restarts from it
 * @param batchSize      rows per replica per step (≥ 1), or 0 for the whole shard (full batch)
 * @param optimizer      the optimizer every replica runs
 * @param maxGradNorm    clip of the averaged gradients' global norm, 0 for none
 * @param device         the replicas' device ({@link Device#AUTO}: the task's GPU, else CPU)
 * @param timeoutMillis  how long a replica waits for a peer (connect, each ring message)
 * @param checkpoint     the path of the driver's checkpoint file (written after each stage,
 *                       resumed from when present), or null
 * @param recordDigests  whether each replica reports a hash of its parameters after every step
 *                       (to prove the replicas stay bit-identical; costs one pass over them)
 */
public record TrainingOptions(String inputCol, String targetCol, int replicas, int epochs, int epochsPerStage,
                              int batchSize, OptimizerSpec optimizer, double maxGradNorm, Device device,
                              long timeoutMillis, String checkpoint, boolean recordDigests) implements Serializable {
    public TrainingOptions {
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be at least 1, got " + replicas);
        }
        if (epochs < 1 || epochsPerStage < 1) {
            throw new IllegalArgumentException("epochs and epochs per stage must be at least 1, got " + epochs
                    + " and " + epochsPerStage);
        }
        if (batchSize < 0) {
            throw new IllegalArgumentException("batch size must be ≥ 1, or 0 for the whole shard, got " + batchSize);
        }
        if (maxGradNorm < 0) {
            throw new IllegalArgumentException("max gradient norm must be ≥ 0 (0: no clipping), got " + maxGradNorm);
        }
        if (timeoutMillis < 1) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeoutMillis + " ms");
        }
        if (device == null) {
            device = Device.AUTO;
        }
    }

    /** The checkpoint file, or null. */
    public Path checkpointPath() {
        return checkpoint == null ? null : Path.of(checkpoint);
    }

    /** Defaults: 1 epoch per stage, full-batch steps, Adam(1e-2), no clipping, 120 s timeout, no checkpoint. */
    public static TrainingOptions of(String inputCol, String targetCol, int replicas, int epochs) {
        return new TrainingOptions(inputCol, targetCol, replicas, epochs, 1, 0, OptimizerSpec.adam(1e-2), 0,
                Device.AUTO, 120_000, null, false);
    }

    public TrainingOptions withEpochsPerStage(int value) {
        return new TrainingOptions(inputCol, targetCol, replicas, epochs, value, batchSize, optimizer, maxGradNorm,
                device, timeoutMillis, checkpoint, recordDigests);
    }

    public TrainingOptions withBatchSize(int value) {
        return new TrainingOptions(inputCol, targetCol, replicas, epochs, epochsPerStage, value, optimizer, maxGradNorm,
                device, timeoutMillis, checkpoint, recordDigests);
    }

    public TrainingOptions withOptimizer(OptimizerSpec value) {
        return new TrainingOptions(inputCol, targetCol, replicas, epochs, epochsPerStage, batchSize, value, maxGradNorm,
                device, timeoutMillis, checkpoint, recordDigests);
    }

    public TrainingOptions withMaxGradNorm(double value) {
        return new TrainingOptions(inputCol, targetCol, replicas, epochs, epochsPerStage, batchSize, optimizer, value,
                device, timeoutMillis, checkpoint, recordDigests);
    }

    public TrainingOptions withDevice(Device value) {
        return new TrainingOptions(inputCol, targetCol, replicas, epochs, epochsPerStage, batchSize, optimizer,
                maxGradNorm, value, timeoutMillis, checkpoint, recordDigests);
    }

    public TrainingOptions withTimeoutMillis(long value) {
        return new TrainingOptions(inputCol, targetCol, replicas, epochs, epochsPerStage, batchSize, optimizer,
                maxGradNorm, device, value, checkpoint, recordDigests);
    }

    public TrainingOptions withCheckpoint(Path value) {
        return new TrainingOptions(inputCol, targetCol, replicas, epochs, epochsPerStage, batchSize, optimizer,
                maxGradNorm, device, timeoutMillis, value == null ? null : value.toString(), recordDigests);
    }

    public TrainingOptions withEpochs(int value) {
        return new TrainingOptions(inputCol, targetCol, replicas, value, epochsPerStage, batchSize, optimizer,
                maxGradNorm, device, timeoutMillis, checkpoint, recordDigests);
    }

    public TrainingOptions withRecordDigests(boolean value) {
        return new TrainingOptions(inputCol, targetCol, replicas, epochs, epochsPerStage, batchSize, optimizer,
                maxGradNorm, device, timeoutMillis, checkpoint, value);
    }
}
