package jlstm.spark;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Times {@link RingAllReduce} between N threads on loopback (for jlstm.spark.bench.SparkBench). */
public final class RingBench {
    private RingBench() {
    }

    /**
     * @param medianMillis the median time of one all-reduce, the slowest rank's
     * @param bytesPerRank bytes one rank sent in one all-reduce
     */
    public record Result(double medianMillis, long bytesPerRank) {
    }

    /** {@code reps} all-reduces of P floats among N ranks, after one warm-up. */
    public static Result run(int n, int p, int reps) throws Exception {
        byte[] secret = RingPeers.newSecret();
        byte[][] secrets = new byte[n][];
        Arrays.fill(secrets, secret);
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
            List<Future<RingAllReduce>> connecting = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                connecting.add(pool.submit(() -> RingPeers.connect(rank, n, hosts, ports, servers[rank], secret,
                        60_000)));
            }
            List<RingAllReduce> rings = new ArrayList<>();
            for (Future<RingAllReduce> f : connecting) {
                rings.add(f.get());
            }
            float[][] data = new float[n][p];
            double[] times = new double[reps];
            for (int rep = -1; rep < reps; rep++) {
                long begin = System.nanoTime();
                List<Future<?>> done = new ArrayList<>();
                for (int r = 0; r < n; r++) {
                    int rank = r;
                    done.add(pool.submit(() -> rings.get(rank).sumInPlace(data[rank])));
                }
                for (Future<?> f : done) {
                    f.get();
                }
                if (rep >= 0) {
                    times[rep] = (System.nanoTime() - begin) / 1e6;
                }
            }
            long bytes = rings.get(0).bytesSent() / (reps + 1);
            rings.forEach(RingAllReduce::close);
            Arrays.sort(times);
            return new Result(times[reps / 2], bytes);
        } finally {
            pool.shutdownNow();
        }
    }
}
