package jlstm.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sums a float array across N processes arranged in a ring (each sends to the next rank and
 * receives from the previous one): a reduce-scatter then an all-gather, N−1 steps each, every step
 * moving one chunk of P/N values. Each rank sends 2(N−1)/N·P values in 2(N−1) messages, whatever
 * N is. Every rank ends with the same bits: each chunk is summed once, on the rank that completes
 * it, and then copied around the ring.
 *
 * <p>Failures are loud: a peer that closes its socket (its task failed or was killed), a read
 * that waits longer than the timeout, or a message out of sequence throws {@link RingFailure},
 * which fails the task and so the barrier stage.
 */
final class RingAllReduce implements AutoCloseable {
    private final int rank;
    private final int size;
    private final Socket toNext;
    private final Socket fromPrevious;
    private final DataOutputStream out;
    private final DataInputStream in;
    private final long timeoutMillis;
    /** Writes run here so that a rank sends and receives at once (both directions of a ring step). */
    private final ExecutorService sender;
    private int sequence;
    private long bytesSent;

    /**
     * @param toNext       connected to rank (rank+1) mod size (null when size = 1)
     * @param fromPrevious accepted from rank (rank−1) mod size (null when size = 1)
     */
    RingAllReduce(int rank, int size, Socket toNext, Socket fromPrevious, long timeoutMillis) throws IOException {
        this.rank = rank;
        this.size = size;
        this.toNext = toNext;
        this.fromPrevious = fromPrevious;
        this.timeoutMillis = timeoutMillis;
        if (size > 1) {
            fromPrevious.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis));
            toNext.setTcpNoDelay(true);
            fromPrevious.setTcpNoDelay(true);
            this.out = new DataOutputStream(new BufferedOutputStream(toNext.getOutputStream(), 1 << 16));
            this.in = new DataInputStream(new BufferedInputStream(fromPrevious.getInputStream(), 1 << 16));
            this.sender = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "jlstm-ring-send-" + rank);
                t.setDaemon(true);
                return t;
            });
        } else {
            this.out = null;
            this.in = null;
            this.sender = null;
        }
    }

    int rank() {
        return rank;
    }

    int size() {
        return size;
    }

    /** Bytes this rank has sent so far (payload only). */
    long bytesSent() {
        return bytesSent;
    }

    /**
     * Replaces {@code data} with the element-wise sum of every rank's {@code data}.
     *
     * @param data [P] on every rank, the same P everywhere
     */
    void sumInPlace(float[] data) {
        if (size == 1) {
            return;
        }
        int n = size;
        // reduce-scatter: after step s, rank r holds chunk (r−s−1) summed over s+2 ranks
        for (int s = 0; s < n - 1; s++) {
            exchange(data, Math.floorMod(rank - s, n), Math.floorMod(rank - s - 1, n), true);
        }
        // all-gather: the completed chunk (r+1) travels around the ring
        for (int s = 0; s < n - 1; s++) {
            exchange(data, Math.floorMod(rank + 1 - s, n), Math.floorMod(rank - s, n), false);
        }
    }

    /** Sends chunk {@code send} to the next rank while receiving chunk {@code receive} from the previous. */
    private void exchange(float[] data, int send, int receive, boolean add) {
        int tag = sequence++;
        int sendFrom = chunkStart(data.length, send), sendTo = chunkStart(data.length, send + 1);
        byte[] payload = new byte[(sendTo - sendFrom) * Float.BYTES];
        ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(data, sendFrom, sendTo - sendFrom);
        Future<?> sent = sender.submit(() -> {
            out.writeInt(tag);
            out.writeInt(payload.length);
            out.write(payload);
            out.flush();
            return null;
        });
        try {
            int from = chunkStart(data.length, receive), to = chunkStart(data.length, receive + 1);
            int gotTag = in.readInt();
            int gotBytes = in.readInt();
            if (gotTag != tag || gotBytes != (to - from) * Float.BYTES) {
                throw new RingFailure("rank " + rank + ": message " + gotTag + " of " + gotBytes + " bytes from rank "
                        + previous() + ", expected message " + tag + " of " + (to - from) * Float.BYTES
                        + " bytes (the ranks disagree on the model size or step)");
            }
            byte[] received = new byte[gotBytes];
            in.readFully(received);
            java.nio.FloatBuffer values = ByteBuffer.wrap(received).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            if (add) {
                for (int i = from; i < to; i++) {
                    data[i] += values.get();
                }
            } else {
                values.get(data, from, to - from);
            }
            sent.get(timeoutMillis, TimeUnit.MILLISECONDS);
            bytesSent += payload.length;
        } catch (SocketTimeoutException e) {
            throw new RingFailure("rank " + rank + ": no data from rank " + previous() + " for " + timeoutMillis
                    + " ms (a peer is stuck or gone); failing the stage", e);
        } catch (TimeoutException e) {
            throw new RingFailure("rank " + rank + ": rank " + next() + " took no data for " + timeoutMillis
                    + " ms (a peer is stuck or gone); failing the stage", e);
        } catch (IOException e) {
            throw new RingFailure("rank " + rank + ": the ring to rank " + previous() + "/" + next()
                    + " broke (" + e + "): a peer task failed or was killed; failing the stage", e);
        } catch (ExecutionException e) {
            throw new RingFailure("rank " + rank + ": sending to rank " + next() + " failed (" + e.getCause()
                    + "): a peer task failed or was killed; failing the stage", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RingFailure("rank " + rank + ": interrupted (the task was killed)", e);
        } finally {
            sent.cancel(true);
        }
    }

    /** Chunk c of an array of length p split into {@code size} near-equal chunks starts here. */
    private int chunkStart(int p, int c) {
        return (int) ((long) p * c / size);
    }

    private int next() {
        return (rank + 1) % size;
    }

    private int previous() {
        return Math.floorMod(rank - 1, size);
    }

    @Override
    public void close() {
        if (sender != null) {
            sender.shutdownNow();
        }
        closeQuietly(toNext);
        closeQuietly(fromPrevious);
    }

    static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing after a failure: the first error is the one reported
            }
        }
    }

    /** The collective failed: a peer is gone, stuck, or not who it claims to be. */
    static final class RingFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RingFailure(String message) {
            super(message);
        }

        RingFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
