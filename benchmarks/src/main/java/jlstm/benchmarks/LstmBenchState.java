package jlstm.benchmarks;

import java.util.Random;

import jlstm.internal.Backends;
import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One engine and its data for a shape, built once per trial. The shape is one parameter
 * "TxBxIxHxL" (not five: JMH runs the cross product of @Param values, which would time shapes
 * that are not benchmark shapes); the default list is the benchmark shapes of ARCHITECTURE.md.
 * Pick one with {@code -p shape=100x32x256x256x1}. Data lives in host arrays: the
 * engine SPI ({@link LstmEngine}) takes host arrays on every backend; a device-resident API is the
 * CUDA engine's to add, and then these benchmarks should use it.
 *
 * <p>{@code cuda} with no usable GPU fails the trial in setup with the probe's reason (JMH then
 * moves on to the next parameter set), so the CPU results still come out.
 */
@State(Scope.Benchmark)
public class LstmBenchState {
    /** TxBxIxHxL (JMH splits -p values at commas, so the separator is x). */
    @Param({"100x1x256x256x1", "100x32x256x256x1", "100x64x512x512x1", "50x16x128x128x2"})
    public String shape;

    @Param({"cpu", "cuda"})
    public String backend;

    /** CPU worker threads (jlstm.cpu.threads); 0 = all cores. */
    @Param({"0"})
    public int threads;

    public int steps;
    public int batch;
    public LstmConfig config;
    public LstmEngine engine;
    public LstmParameters gradients;
    public float[] x, dy, y, hn, cn, dx, dh0, dc0;

    @Setup(Level.Trial)
    public void setUp() {
        String[] parts = shape.split("x");
        if (parts.length != 5) {
            throw new IllegalArgumentException("shape must be TxBxIxHxL, e.g. 100x32x256x256x1, got " + shape);
        }
        steps = Integer.parseInt(parts[0].trim());
        batch = Integer.parseInt(parts[1].trim());
        int inputSize = Integer.parseInt(parts[2].trim());
        int hidden = Integer.parseInt(parts[3].trim());
        int layers = Integer.parseInt(parts[4].trim());
        if (threads > 0) {
            System.setProperty("jlstm.cpu.threads", Integer.toString(threads));
        }
        LstmBackend chosen = switch (backend) {
            case "cpu" -> Backends.cpu();
            case "cuda" -> Backends.cuda();
            default -> throw new IllegalArgumentException("backend must be cpu or cuda, got " + backend);
        };
        LstmBackend.Availability availability = chosen.availability();
        if (!availability.available()) {
            throw new IllegalStateException("skipping backend " + backend + ": " + availability.detail());
        }
        config = new LstmConfig(inputSize, hidden, layers, false, true, false);
        engine = chosen.open(LstmParameters.initialize(config, 42));
        gradients = LstmParameters.zeros(config);
        int state = layers * batch * hidden;
        x = random(steps * batch * inputSize, 1);
        dy = random(steps * batch * hidden, 2);
        y = new float[steps * batch * hidden];
        hn = new float[state];
        cn = new float[state];
        dx = new float[x.length];
        dh0 = new float[state];
        dc0 = new float[state];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (engine != null) {
            engine.close();
        }
    }

    private static float[] random(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
