package jlstm.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.BarrierTaskInfo;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;

import jlstm.Device;
import jlstm.LstmLayer;
import jlstm.Tensor;
import jlstm.train.Checkpoint;
import jlstm.train.GradientClipping;
import jlstm.train.Loss;
import jlstm.train.MeanSquaredError;
import jlstm.train.Optimizer;
import jlstm.train.SequenceModel;

/**
 * The body of one barrier task: a replica. It reads its shard once, meets the others once
 * ({@code allGather} of listening ports, shard sizes and rank 0's fresh secret), joins the ring,
 * and then runs the stage's steps: local gradients weighted by the share of the step's rows it
 * holds, a ring all-reduce of the flattened gradients (and loss), clipping of the sum, and the same
 * optimizer update as every other replica. Rank 0 returns the checkpoint of the result.
 */
final class ReplicaTask extends scala.runtime.AbstractFunction1<scala.collection.Iterator<Row>,
        scala.collection.Iterator<ReplicaResult>> implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /**
     * Local property (test hook): {@code rank:epoch:throw} makes that replica fail at the start of
     * that epoch in the stage's first attempt ({@code halt} instead ends its executor JVM, for a
     * cluster only).
     */
    static final String FAULT_PROPERTY = "jlstm.spark.test.fault";
    /** Checkpoint metadata: epochs done. */
    static final String EPOCH = "epoch";

    private final Broadcast<ModelPayload> state;
    private final TrainingOptions options;
    private final int inputColumn;
    private final int targetColumn;
    private final int firstEpoch;
    private final int epochs;

    /**
     * @param state      the model and optimizer state the stage starts from (the last checkpoint)
     * @param firstEpoch epochs already done
     * @param epochs     epochs this stage runs
     */
    ReplicaTask(Broadcast<ModelPayload> state, TrainingOptions options, int inputColumn, int targetColumn,
                int firstEpoch, int epochs) {
        this.state = state;
        this.options = options;
        this.inputColumn = inputColumn;
        this.targetColumn = targetColumn;
        this.firstEpoch = firstEpoch;
        this.epochs = epochs;
    }

    @Override
    public scala.collection.Iterator<ReplicaResult> apply(scala.collection.Iterator<Row> rows) {
        BarrierTaskContext context = BarrierTaskContext.get();
        int rank = context.partitionId();
        BarrierTaskInfo[] infos = context.getTaskInfos();
        int size = infos.length;
        ModelPayload.Decoded start = state.value().decode();
        Shard shard = Shard.read(scala.jdk.javaapi.CollectionConverters.asJava(rows), inputColumn, targetColumn,
                options, start.lstm().config());

        Rendezvous meeting;
        RingAllReduce ring;
        try {
            ServerSocket server = new ServerSocket(0);
            byte[] mySecret = rank == 0 ? RingPeers.newSecret() : null;
            String message = server.getLocalPort() + "," + shard.rows() + ","
                    + (mySecret == null ? "-" : HexFormat.of().formatHex(mySecret));
            meeting = Rendezvous.parse(context.allGather(message), infos);
            ring = RingPeers.connect(rank, size, meeting.hosts(), meeting.ports(), server, meeting.secret(),
                    options.timeoutMillis());
        } catch (IOException e) {
            throw new UncheckedIOException("replica " + rank + ": could not open its ring socket", e);
        }

        Device device = TaskResources.deviceFor(options.device());
        String deviceName = device.label() + (TaskResources.gpuOrdinal() >= 0
                ? " (Spark GPU " + TaskResources.gpuOrdinal() + ")" : "");
        try (ring; SequenceModel model = new SequenceModel(
                LstmLayer.create(start.lstm(), device, TaskResources.engineOptions()), start.head())) {
            if (start.head() == null) {
                throw new IllegalArgumentException("training needs a model with a head (head.weight, head.bias)");
            }
            Optimizer optimizer = options.optimizer().create();
            if (!start.optimizer().isEmpty()) {
                optimizer.loadState(start.optimizer(), start.metadata(), model.parameters());
            }
            StepLoop loop = new StepLoop(model, optimizer, ring, shard, meeting.shardRows());
            for (int epoch = firstEpoch; epoch < firstEpoch + epochs; epoch++) {
                injectFault(context, rank, epoch);
                loop.runEpoch();
            }
            byte[] checkpoint = rank == 0 ? checkpointBytes(model, optimizer, firstEpoch + epochs, start) : null;
            ReplicaResult result = new ReplicaResult(rank, shard.rows(), checkpoint, loop.losses(), loop.digests(),
                    loop.stepSeconds(), loop.ringSeconds(), ring.bytesSent(), deviceName);
            return scala.jdk.javaapi.CollectionConverters.asScala(List.of(result).iterator());
        }
    }

    /** The steps of the stage, with what they measured. */
    private final class StepLoop {
        private final SequenceModel model;
        private final Optimizer optimizer;
        private final RingAllReduce ring;
        private final Shard shard;
        private final int[] shardRows;
        private final Loss loss = new MeanSquaredError();
        private final java.util.ArrayList<Double> losses = new java.util.ArrayList<>();
        private final java.util.ArrayList<String> digests = new java.util.ArrayList<>();
        private long stepNanos;
        private long ringNanos;

        StepLoop(SequenceModel model, Optimizer optimizer, RingAllReduce ring, Shard shard, int[] shardRows) {
            this.model = model;
            this.optimizer = optimizer;
            this.ring = ring;
            this.shard = shard;
            this.shardRows = shardRows;
        }

        /** One pass over every shard: step k takes batch k of each (shards out of batches add nothing). */
        void runEpoch() {
            int steps = 0;
            for (int rows : shardRows) {
                steps = Math.max(steps, stepsOf(rows));
            }
            for (int k = 0; k < steps; k++) {
                int total = 0;
                for (int rows : shardRows) {
                    total += batchRows(rows, k);
                }
                step(shard.batch(k), total);
            }
        }

        private int batchSize(int rows) {
            return options.batchSize() == 0 ? Math.max(1, rows) : options.batchSize();
        }

        private int stepsOf(int rows) {
            return rows == 0 ? 0 : (rows + batchSize(rows) - 1) / batchSize(rows);
        }

        /** Rows of a shard with {@code rows} rows in step k. */
        private int batchRows(int rows, int k) {
            int size = batchSize(rows);
            return Math.max(0, Math.min(size, rows - k * size));
        }

        /**
         * One synchronous step: the all-replica gradient is Σ_r (b_r / B)·g_r, g_r the mean-loss
         * gradient of replica r's b_r rows, so it equals the gradient of the B rows together.
         */
        private void step(Shard.Batch batch, int totalRows) {
            long begin = System.nanoTime();
            Map<String, Tensor> parameters = model.parameters();
            int count = 0;
            for (Tensor p : parameters.values()) {
                count += p.numel();
            }
            float[] flat = new float[count + 1];   // the gradients, then the weighted loss
            if (batch != null) {
                SequenceModel.StepResult local = model.lossAndGradients(batch.x(), batch.target(), loss);
                double weight = (double) batch.size() / totalRows;
                int at = 0;
                for (String name : parameters.keySet()) {
                    float[] g = local.gradients().get(name).data();
                    for (float v : g) {
                        flat[at++] = (float) (v * weight);
                    }
                }
                flat[count] = (float) (local.loss() * weight);
            }
            long ringBegin = System.nanoTime();
            ring.sumInPlace(flat);
            ringNanos += System.nanoTime() - ringBegin;

            Map<String, Tensor> gradients = new LinkedHashMap<>();
            int at = 0;
            for (Map.Entry<String, Tensor> p : parameters.entrySet()) {
                float[] g = new float[p.getValue().numel()];
                System.arraycopy(flat, at, g, 0, g.length);
                at += g.length;
                gradients.put(p.getKey(), Tensor.of(g, p.getValue().shape()));
            }
            if (options.maxGradNorm() > 0) {
                GradientClipping.clipByGlobalNorm(gradients.values(), options.maxGradNorm());
            }
            optimizer.step(parameters, gradients);
            model.lstm().parametersUpdated();
            losses.add((double) flat[count]);
            if (options.recordDigests()) {
                digests.add(digest(parameters));
            }
            stepNanos += System.nanoTime() - begin;
        }

        double[] losses() {
            return losses.stream().mapToDouble(Double::doubleValue).toArray();
        }

        String[] digests() {
            return digests.toArray(String[]::new);
        }

        double stepSeconds() {
            return stepNanos / 1e9;
        }

        double ringSeconds() {
            return ringNanos / 1e9;
        }
    }

    /** SHA-256 of every parameter's bits, in order (16 hex digits). */
    static String digest(Map<String, Tensor> parameters) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Tensor t : parameters.values()) {
                ByteBuffer bytes = ByteBuffer.allocate(t.numel() * Float.BYTES);
                bytes.asFloatBuffer().put(t.data());
                sha.update(bytes);
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] checkpointBytes(SequenceModel model, Optimizer optimizer, int epochsDone,
                                          ModelPayload.Decoded start) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("jlstm-replica-", ".safetensors");
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("task", "spark-data-parallel");
            metadata.put(EPOCH, Integer.toString(epochsDone));
            metadata.put(ModelPayload.BATCH_FIRST, Boolean.toString(start.lstm().config().batchFirst()));
            Checkpoint.save(tmp, model, optimizer, metadata);
            return Files.readAllBytes(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException("rank 0 could not write its checkpoint", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a leftover temporary file is harmless
                }
            }
        }
    }

    /** The test hook of {@link #FAULT_PROPERTY}. */
    private static void injectFault(BarrierTaskContext context, int rank, int epoch) {
        String fault = context.getLocalProperty(FAULT_PROPERTY);
        if (fault == null || context.stageAttemptNumber() != 0) {
            return;
        }
        String[] parts = fault.split(":");
        if (Integer.parseInt(parts[0]) == rank && Integer.parseInt(parts[1]) == epoch) {
            if (parts.length > 2 && parts[2].equals("halt")) {
                Runtime.getRuntime().halt(17);
            }
            throw new IllegalStateException("injected fault (" + FAULT_PROPERTY + "=" + fault + ") in replica " + rank
                    + " at epoch " + epoch);
        }
    }

    /**
     * What the rendezvous told every replica.
     *
     * @param hosts     [N] each rank's host
     * @param ports     [N] each rank's ring port
     * @param shardRows [N] each rank's rows
     * @param secret    rank 0's secret for this attempt
     */
    record Rendezvous(String[] hosts, int[] ports, int[] shardRows, byte[] secret) {
        static Rendezvous parse(String[] messages, BarrierTaskInfo[] infos) {
            int n = messages.length;
            String[] hosts = new String[n];
            int[] ports = new int[n];
            int[] rows = new int[n];
            byte[] secret = null;
            for (int r = 0; r < n; r++) {
                String[] fields = messages[r].split(",");
                ports[r] = Integer.parseInt(fields[0]);
                rows[r] = Integer.parseInt(fields[1]);
                if (r == 0) {
                    secret = HexFormat.of().parseHex(fields[2]);
                }
                hosts[r] = hostOf(infos[r].address());
            }
            return new Rendezvous(hosts, ports, rows, secret);
        }

        /** {@code host} (local mode) or {@code host:port} (a cluster) → host; IPv6 in brackets kept whole. */
        static String hostOf(String address) {
            if (address.startsWith("[")) {
                return address.substring(1, address.indexOf(']'));
            }
            int colon = address.lastIndexOf(':');
            return colon > 0 && address.indexOf(':') == colon ? address.substring(0, colon) : address;
        }
    }
}
