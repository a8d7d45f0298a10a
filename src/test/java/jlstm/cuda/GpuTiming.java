package jlstm.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import java.util.Locale;
import java.util.Random;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jlstm.LstmConfig;
import jlstm.LstmParameters;

/**
 * A short timing of the CUDA engine on the benchmark shapes, device-resident (no host copies in
 * the timed part), for benchmarks/gpu-check.sh to print beside PyTorch's cuDNN numbers from the
 * same run. Not a benchmark suite (that is the JMH module): median of a few repetitions.
 *
 * <p>Prints one line per shape and mode: {@code jlstm T B I H L mode schedule ms GFLOP/s}.
 * FLOPs: forward 2·T·B·4H·(I_k + H) summed over layers and directions; training ≈ 3× forward
 * (forward + backward ≈ 2× forward).
 *
 * <p>usage: {@code java -cp jlstm.jar:test-classes jlstm.cuda.GpuTiming [T,B,I,H,L ...]}
 */
public final class GpuTiming {
    private static final String[] DEFAULT_SHAPES = {"100,1,256,256,1", "100,32,256,256,1", "100,64,512,512,1",
        "50,16,128,128,2", "100,64,1024,1024,1", "100,256,512,512,1"};
    private static final int WARMUP = 3;
    private static final int REPEATS = 10;

    private GpuTiming() {
    }

    public static void main(String[] args) {
        String[] shapes = args.length > 0 ? args : DEFAULT_SHAPES;
        for (String shape : shapes) {
            String[] p = shape.split(",");
            int t = Integer.parseInt(p[0]), b = Integer.parseInt(p[1]), i = Integer.parseInt(p[2]);
            int h = Integer.parseInt(p[3]), l = Integer.parseInt(p[4]);
            LstmConfig config = new LstmConfig(i, h, l, false, true, false);
            LstmParameters params = LstmParameters.initialize(config, 1);
            double flops = config.forwardFlops(t, b);
            try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
                for (CudaLstmEngine.Schedule schedule : new CudaLstmEngine.Schedule[] {
                    CudaLstmEngine.Schedule.GEMM, CudaLstmEngine.Schedule.FUSED}) {
                    engine.setSchedule(schedule);
                    double inference = time(engine, config, t, b, false);
                    double training = time(engine, config, t, b, true);
                    System.out.printf(Locale.ROOT, "jlstm %d %d %d %d %d inference %s %.3f %.1f%n", t, b, i, h, l,
                            schedule, inference, flops / inference / 1e6);
                    System.out.printf(Locale.ROOT, "jlstm %d %d %d %d %d training %s %.3f %.1f%n", t, b, i, h, l,
                            schedule, training, 3 * flops / training / 1e6);
                }
            }
        }
    }

    /** Median milliseconds of one forward (inference) or forward + backward (training). */
    private static double time(CudaLstmEngine engine, LstmConfig config, int t, int b, boolean training) {
        return engine.inContext(() -> {
            int state = config.numLayers() * config.directions() * b * config.hiddenSize();
            long xFloats = (long) t * b * config.inputSize();
            long yFloats = (long) t * b * config.outputSize();
            CUdeviceptr x = CudaCalls.allocFloats(xFloats, "x");
            CUdeviceptr y = CudaCalls.allocFloats(yFloats, "y");
            CUdeviceptr dy = CudaCalls.allocFloats(yFloats, "dy");
            CUdeviceptr dx = CudaCalls.allocFloats(xFloats, "dx");
            CUdeviceptr states = CudaCalls.allocFloats(4L * state, "hn, cn, dh0, dc0");
            CUdeviceptr grads = CudaCalls.allocFloats(engine.gradientFloats(), "gradients");
            try {
                Random r = new Random(2);
                float[] host = new float[(int) Math.max(xFloats, yFloats)];
                for (int n = 0; n < host.length; n++) {
                    host[n] = r.nextFloat() * 2 - 1;
                }
                CudaCalls.check(cuMemcpyHtoD(x, Pointer.to(host), xFloats * 4), "upload x");
                CudaCalls.check(cuMemcpyHtoD(dy, Pointer.to(host), yFloats * 4), "upload dy");
                double[] ms = new double[REPEATS];
                for (int n = -WARMUP; n < REPEATS; n++) {
                    long start = System.nanoTime();
                    engine.forward(t, b, x, null, null, y, states, CudaCalls.at(states, state), training);
                    if (training) {
                        engine.backward(dy, null, null, dx, CudaCalls.at(states, 2L * state),
                                CudaCalls.at(states, 3L * state), grads);
                    }
                    // forward/backward return after a stream synchronisation: the time is complete
                    if (n >= 0) {
                        ms[n] = (System.nanoTime() - start) / 1e6;
                    }
                }
                java.util.Arrays.sort(ms);
                return ms[REPEATS / 2];
            } finally {
                for (CUdeviceptr p : new CUdeviceptr[] {x, y, dy, dx, states, grads}) {
                    CudaCalls.free(p, "timing buffer");
                }
            }
        });
    }
}
