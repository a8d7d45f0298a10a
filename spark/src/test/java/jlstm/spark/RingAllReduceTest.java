package jlstm.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The ring between threads on loopback (no Spark): sums, identical bits, refused strangers, broken peers. */
class RingAllReduceTest {

    /** Opens N listening sockets and connects the ring, one thread per rank; returns the rings by rank. */
    static List<RingAllReduce> ring(int n, byte[][] secrets, long timeoutMillis) throws Exception {
        ServerSocket[] servers = new ServerSocket[n];
        String[] hosts = new String[n];
        int[] ports = new int[n];
        for (int r = 0; r < n; r++) {
            servers[r] = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            hosts[r] = "127.0.0.1";
            ports[r] = servers[r].getLocalPort();
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<RingAllReduce>> futures = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                futures.add(pool.submit(() -> RingPeers.connect(rank, n, hosts, ports, servers[rank], secrets[rank],
                        timeoutMillis)));
            }
            List<RingAllReduce> rings = new ArrayList<>();
            for (Future<RingAllReduce> f : futures) {
                rings.add(f.get(60, TimeUnit.SECONDS));
            }
            return rings;
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void sumsAndEveryRankGetsTheSameBits() throws Exception {
        for (int n : new int[] {1, 2, 3, 5}) {
            byte[] secret = RingPeers.newSecret();
            byte[][] secrets = new byte[n][];
            java.util.Arrays.fill(secrets, secret);
            List<RingAllReduce> rings = ring(n, secrets, 10_000);
            int p = 1003;   // not a multiple of n: uneven chunks
            float[][] data = new float[n][p];
            double[] exact = new double[p];
            SplittableRandom random = new SplittableRandom(n);
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < p; i++) {
                    data[r][i] = (float) random.nextDouble(-1, 1);
                    exact[i] += data[r][i];
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(n);
            List<Future<?>> done = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                done.add(pool.submit(() -> rings.get(rank).sumInPlace(data[rank])));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            for (int r = 0; r < n; r++) {
                assertArrayEquals(data[0], data[r], "rank " + r + " of " + n + " has other bits than rank 0");
                for (int i = 0; i < p; i++) {
                    assertEquals(exact[i], data[r][i], 1e-5, "element " + i);
                }
                // 2(N−1) messages of about P/N values each
                long expected = 2L * (n - 1) * p / n * Float.BYTES;
                assertEquals(expected, rings.get(r).bytesSent(), 2.0 * n * Float.BYTES, "bytes sent by rank " + r);
                rings.get(r).close();
            }
        }
    }

    @Test
    void aPeerWithoutTheSecretIsRefused() {
        byte[][] secrets = {RingPeers.newSecret(), RingPeers.newSecret()};
        Exception e = assertThrows(Exception.class, () -> ring(2, secrets, 3_000));
        Throwable cause = e.getCause() == null ? e : e.getCause();
        assertTrue(cause instanceof RingAllReduce.RingFailure, cause.toString());
    }

    @Test
    void aPeerThatGoesAwayFailsTheOthersQuickly() throws Exception {
        byte[] secret = RingPeers.newSecret();
        List<RingAllReduce> rings = ring(3, new byte[][] {secret, secret, secret}, 30_000);
        rings.get(1).close();   // rank 1's task dies
        long start = System.nanoTime();
        RingAllReduce.RingFailure failure = assertThrows(RingAllReduce.RingFailure.class,
                () -> rings.get(2).sumInPlace(new float[100]));
        assertTrue((System.nanoTime() - start) / 1e9 < 10, "failed only after the timeout");
        assertTrue(failure.getMessage().contains("rank 2"), failure.getMessage());
        rings.forEach(RingAllReduce::close);
    }

    @Test
    void aSilentPeerTimesOut() throws Exception {
        byte[] secret = RingPeers.newSecret();
        List<RingAllReduce> rings = ring(2, new byte[][] {secret, secret}, 500);
        RingAllReduce.RingFailure failure = assertThrows(RingAllReduce.RingFailure.class,
                () -> rings.get(0).sumInPlace(new float[10]));   // rank 1 never joins the sum
        assertTrue(failure.getMessage().contains("500 ms"), failure.getMessage());
        rings.forEach(RingAllReduce::close);
    }
}
