package jlstm.benchmarks;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Forward pass in inference mode (nothing kept for backward).
 *
 * <p>FLOPs per call: 2·T·B·4H·(I_k + H) summed over layers ({@code LstmConfig.forwardFlops}); e.g.
 * (100, 32, 256, 256, 1) is 2·100·32·1024·512 = 3.36 GFLOP, so 50 ms is 67 GFLOP/s. The pointwise
 * cell math (5 transcendental functions per unit and step) is not counted.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ForwardInference {
    @Benchmark
    public void forward(LstmBenchState s, Blackhole sink) {
        s.engine.forward(s.steps, s.batch, s.x, null, null, s.y, s.hn, s.cn, false);
        sink.consume(s.y);
        sink.consume(s.hn[0]);
    }
}
