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
 * One training step's LSTM work: forward in training mode, then backward through time with all
 * gradients (dx, dh0, dc0 and every parameter).
 *
 * <p>FLOPs per call ≈ 3 × forward: the forward's 2·T·B·4H·(I_k + H), plus backward's two products
 * of the same size per weight matrix (dX/dh = dG·W and dW = dGᵀ·X/H), summed over layers.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ForwardBackward {
    @Benchmark
    public void forwardBackward(LstmBenchState s, Blackhole sink) {
        s.engine.forward(s.steps, s.batch, s.x, null, null, s.y, s.hn, s.cn, true);
        s.engine.backward(s.dy, null, null, s.dx, s.dh0, s.dc0, s.gradients);
        sink.consume(s.dx);
        sink.consume(s.gradients);
    }
}
