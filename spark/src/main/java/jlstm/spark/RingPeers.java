package jlstm.spark;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import jlstm.spark.RingAllReduce.RingFailure;

/**
 * Builds the ring of {@link RingAllReduce}: every rank connects to the next one and accepts the
 * previous one, and both ends prove they hold the secret shared at the rendezvous (a
 * challenge–response with HMAC-SHA256 over fresh nonces and the ranks), so a stray or stale
 * connection — another job, an earlier attempt of this stage — is refused, never summed.
 */
final class RingPeers {
    private static final byte[] MAGIC = "JLSTMRNG".getBytes(StandardCharsets.US_ASCII);
    private static final int NONCE = 16;
    private static final int MAC = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private RingPeers() {
    }

    /** A fresh secret for one rendezvous (rank 0 draws it and shares it through allGather). */
    static byte[] newSecret() {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        return secret;
    }

    /**
     * Connects this rank into the ring.
     *
     * @param hosts  [size] every rank's host
     * @param ports  [size] every rank's listening port
     * @param server this rank's listening socket (its port is ports[rank]); closed here
     */
    static RingAllReduce connect(int rank, int size, String[] hosts, int[] ports, ServerSocket server, byte[] secret,
                                 long timeoutMillis) throws IOException {
        if (size == 1) {
            server.close();
            return new RingAllReduce(0, 1, null, null, timeoutMillis);
        }
        int next = (rank + 1) % size, previous = Math.floorMod(rank - 1, size);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        ExecutorService acceptor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "jlstm-ring-accept-" + rank);
            t.setDaemon(true);
            return t;
        });
        Socket toNext = null;
        try {
            Future<Socket> fromPrevious = acceptor.submit(() -> accept(server, rank, previous, secret, deadline));
            toNext = dial(hosts[next], ports[next], rank, next, secret, deadline);
            Socket accepted = fromPrevious.get(Math.max(1, remainingMillis(deadline)), TimeUnit.MILLISECONDS);
            return new RingAllReduce(rank, size, toNext, accepted, timeoutMillis);
        } catch (ExecutionException e) {
            RingAllReduce.closeQuietly(toNext);
            Throwable cause = e.getCause();
            throw cause instanceof RingFailure f ? f : new RingFailure("rank " + rank + ": accepting rank " + previous
                    + " failed: " + cause, cause);
        } catch (TimeoutException e) {
            RingAllReduce.closeQuietly(toNext);
            throw new RingFailure("rank " + rank + ": rank " + previous + " did not connect within " + timeoutMillis
                    + " ms; failing the stage", e);
        } catch (InterruptedException e) {
            RingAllReduce.closeQuietly(toNext);
            Thread.currentThread().interrupt();
            throw new RingFailure("rank " + rank + ": interrupted while connecting the ring", e);
        } catch (RuntimeException | IOException e) {
            RingAllReduce.closeQuietly(toNext);
            throw e;
        } finally {
            acceptor.shutdownNow();
            server.close();
        }
    }

    /** Connects to the next rank and runs the connector's side of the handshake. */
    private static Socket dial(String host, int port, int rank, int next, byte[] secret, long deadline)
            throws IOException {
        IOException last = null;
        while (remainingMillis(deadline) > 0) {
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(host, port), (int) Math.max(1, remainingMillis(deadline)));
                socket.setSoTimeout((int) Math.max(1, remainingMillis(deadline)));
                DataInputStream in = new DataInputStream(socket.getInputStream());
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                byte[] magic = new byte[MAGIC.length];
                in.readFully(magic);
                if (!MessageDigest.isEqual(magic, MAGIC)) {
                    throw new RingFailure("rank " + rank + ": " + host + ":" + port + " is not a jlstm ring peer");
                }
                byte[] challenge = new byte[NONCE];
                in.readFully(challenge);
                byte[] myNonce = new byte[NONCE];
                RANDOM.nextBytes(myNonce);
                out.writeInt(rank);
                out.write(myNonce);
                out.write(mac(secret, "connect", challenge, rank));
                out.flush();
                byte[] answer = new byte[MAC];
                in.readFully(answer);
                if (!MessageDigest.isEqual(answer, mac(secret, "accept", myNonce, next))) {
                    throw new RingFailure("rank " + rank + ": the peer at " + host + ":" + port
                            + " does not hold this stage's secret: refusing it");
                }
                socket.setSoTimeout(0);
                return socket;
            } catch (RingFailure e) {
                socket.close();
                throw e;
            } catch (IOException e) {
                socket.close();
                last = e;
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new RingFailure("rank " + rank + ": interrupted while connecting", ie);
                }
            }
        }
        throw new RingFailure("rank " + rank + ": could not reach rank " + next + " at " + host + ":" + port
                + " before the timeout" + (last == null ? "" : " (" + last + ")"), last);
    }

    /**
     * Accepts connections until one proves it is the previous rank holding the secret; others are
     * closed and logged.
     */
    private static Socket accept(ServerSocket server, int rank, int previous, byte[] secret, long deadline)
            throws IOException {
        while (true) {
            long left = remainingMillis(deadline);
            if (left <= 0) {
                throw new RingFailure("rank " + rank + ": rank " + previous + " did not connect before the timeout");
            }
            server.setSoTimeout((int) left);
            Socket socket;
            try {
                socket = server.accept();
            } catch (SocketTimeoutException e) {
                throw new RingFailure("rank " + rank + ": rank " + previous + " did not connect before the timeout", e);
            }
            try {
                socket.setSoTimeout((int) Math.max(1, remainingMillis(deadline)));
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                DataInputStream in = new DataInputStream(socket.getInputStream());
                byte[] challenge = new byte[NONCE];
                RANDOM.nextBytes(challenge);
                out.write(MAGIC);
                out.write(challenge);
                out.flush();
                int peerRank = in.readInt();
                byte[] peerNonce = new byte[NONCE];
                in.readFully(peerNonce);
                byte[] proof = new byte[MAC];
                in.readFully(proof);
                if (peerRank != previous || !MessageDigest.isEqual(proof, mac(secret, "connect", challenge, peerRank))) {
                    System.err.println("jlstm ring, rank " + rank + ": refused a connection from "
                            + socket.getRemoteSocketAddress() + " (claimed rank " + peerRank
                            + ", secret " + (peerRank == previous ? "wrong" : "unchecked") + ")");
                    socket.close();
                    continue;
                }
                out.write(mac(secret, "accept", peerNonce, rank));
                out.flush();
                socket.setSoTimeout(0);
                return socket;
            } catch (IOException e) {
                socket.close();   // a peer that hung up mid-handshake: wait for the real one
            }
        }
    }

    private static byte[] mac(byte[] secret, String role, byte[] nonce, int rank) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(role.getBytes(StandardCharsets.US_ASCII));
            mac.update(nonce);
            mac.update(java.nio.ByteBuffer.allocate(4).putInt(rank).array());
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this Java runtime", e);
        }
    }

    private static long remainingMillis(long deadline) {
        return TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    }
}
