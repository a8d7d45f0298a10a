package jlstm.spark;

import java.io.Serializable;

/**
 * What one replica of a barrier stage reports to the driver. A plain class, not a record: Spark's
 * Kryo serializer (a common {@code spark.serializer}) cannot write records.
 */
public final class ReplicaResult implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int rank;
    private final int shardRows;
    private final byte[] checkpoint;
    private final double[] losses;
    private final String[] digests;
    private final double stepSeconds;
    private final double ringSeconds;
    private final long ringBytes;
    private final String device;

    /**
     * @param rank        the replica's rank (its partition)
     * @param shardRows   rows in its shard
     * @param checkpoint  rank 0 only: the checkpoint bytes (parameters, optimizer state, metadata)
     *                    after the stage's last step; null on the other ranks
     * @param losses      [steps] the global (all-replica, weighted) training loss of each step,
     *                    before its update
     * @param digests     [steps] a hash of this replica's parameters after each step, when
     *                    recorded (else empty): equal across replicas when they stay bit-identical
     * @param stepSeconds wall time of the stage's steps (compute and all-reduce)
     * @param ringSeconds of which in the all-reduce
     * @param ringBytes   bytes this replica sent in the all-reduce
     * @param device      the device the replica trained on, e.g. "cpu" or "cuda (Spark GPU 1)"
     */
    public ReplicaResult(int rank, int shardRows, byte[] checkpoint, double[] losses, String[] digests,
                         double stepSeconds, double ringSeconds, long ringBytes, String device) {
        this.rank = rank;
        this.shardRows = shardRows;
        this.checkpoint = checkpoint;
        this.losses = losses;
        this.digests = digests;
        this.stepSeconds = stepSeconds;
        this.ringSeconds = ringSeconds;
        this.ringBytes = ringBytes;
        this.device = device;
    }

    public int rank() {
        return rank;
    }

    public int shardRows() {
        return shardRows;
    }

    public byte[] checkpoint() {
        return checkpoint;
    }

    public double[] losses() {
        return losses;
    }

    public String[] digests() {
        return digests;
    }

    public double stepSeconds() {
        return stepSeconds;
    }

    public double ringSeconds() {
        return ringSeconds;
    }

    public long ringBytes() {
        return ringBytes;
    }

    public String device() {
        return device;
    }
}
