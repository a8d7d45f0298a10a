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
 * Forward pass in training mode (activated gates and cell states kept for backward).
 *
 * <p>FLOPs per call: the same as inference, 2·T·B·4H·(I_k + H) summed over layers; the extra cost
 * over {@link ForwardInference} is only what keeping the activations costs.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ForwardTraining {
    @Benchmark
    public void forwardTraining(LstmBenchState s, Blackhole sink) {
        s.engine.forward(s.steps, s.batch, s.x, null, null, s.y, s.hn, s.cn, true);
        sink.consume(s.y);
        sink.consume(s.hn[0]);
    }
}
