package jlstm.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.EngineOptions.Precision;

/**
 * Times every variant of the CUDA engine — schedule gemm, fused, persistent, each with CUDA graphs
 * off and on — on a list of shapes, device-resident (no host copies in the timed part), for
 * benchmarks/gpu-check.sh to put beside PyTorch's cuDNN in the same run. One line per shape, mode
 * and variant, printed as soon as it is measured:
 * <pre>jlstm T B I H L inference|training VARIANT RAN_AS MS</pre>
 * VARIANT is {@code gemm|fused|persistent}, + {@code +graphs}, + {@code @tf32} or {@code @bf16} for the
 * reduced precision modes (nothing for fp32; the modes timed: {@value #PRECISIONS_PROPERTY}, default
 * all three, each to be compared with the cuDNN peer in the same precision,
 * benchmarks/gpu_timing_torch.py); RAN_AS the schedule that actually ran
 * (persistent falls back to gemm where it does not fit). A {@code # persistent plan} line per shape
 * and mode says which persistent kernels those rows ran (tiled or warp per unit, forward and
 * backward); one more training row per shape and mode, VARIANT {@value #WARP_PER_UNIT}, runs the
 * persistent schedule with the tiled kernels turned off, so one run compares the tiled backward
 * (and forward) with the warp-per-unit kernels. MS is the median wall time of one forward
 * (inference) or forward + backward (training), each call returning after its stream
 * synchronisation, over {@value #REPEATS} repetitions after {@value #WARMUP} warm-ups.
 *
 * <p>usage: {@code java [-Djlstm.timing.precisions=fp32,tf32,bf16] -cp jlstm.jar:test-classes
 * jlstm.internal.cuda.GpuTiming [T,B,I,H,L[,bi] ...]} ({@code bi}: bidirectional; its variants get the suffix
 * {@code -bidirectional}, as the torch peers' do).
 */
public final class GpuTiming {
    /**
     * The grid of issue 20, as benchmarks/gpu_timing_torch.py's: B = 1, 8, 16, 32, 64, 256 × H = 256,
     * 512, 1024 at T = 100, I = H, one layer; T = 1 (one streaming step) at B = 1, 64 × H = 256, 1024;
     * one 2-layer bidirectional row.
     */
    static final List<String> DEFAULT_SHAPES = defaultShapes();
    private static final int WARMUP = 3;
    private static final int REPEATS = 10;
    /** Comma-separated precision modes to time (default fp32,tf32,bf16). */
    static final String PRECISIONS_PROPERTY = "jlstm.timing.precisions";

    private GpuTiming() {
    }

    private static List<String> defaultShapes() {
        List<String> shapes = new ArrayList<>();
        for (int h : new int[] {256, 512, 1024}) {
            for (int b : new int[] {1, 8, 16, 32, 64, 256}) {
                shapes.add("100," + b + "," + h + "," + h + ",1");
            }
        }
        for (int h : new int[] {256, 1024}) {
            for (int b : new int[] {1, 64}) {
                shapes.add("1," + b + "," + h + "," + h + ",1");
            }
        }
        shapes.add("100,64,512,512,2,bi");
        return shapes;
    }

    public static void main(String[] args) {
        List<String> shapes = args.length > 0 ? List.of(args) : DEFAULT_SHAPES;
        List<Precision> precisions = new ArrayList<>();
        for (String p : System.getProperty(PRECISIONS_PROPERTY, "fp32,tf32,bf16").split(",")) {
            precisions.add(jlstm.EngineOptions.parse(Precision.class, "-D" + PRECISIONS_PROPERTY, p));
        }
        System.out.println("# " + CudaBackend.instance().availability().detail());
        for (String shape : shapes) {
            String[] p = shape.split(",");
            int t = Integer.parseInt(p[0]), b = Integer.parseInt(p[1]), i = Integer.parseInt(p[2]);
            int h = Integer.parseInt(p[3]), l = Integer.parseInt(p[4]);
            boolean bidirectional = p.length > 5 && p[5].equals("bi");
            String suffix = bidirectional ? "-bidirectional" : "";
            LstmConfig config = new LstmConfig(i, h, l, bidirectional, true, false);
            LstmParameters params = LstmParameters.initialize(config, 1);
            try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
                for (Precision precision : precisions) {
                    engine.setPrecision(precision);
                    // which persistent kernels the persistent rows below ran (the plan depends on the mode)
                    System.out.println("# persistent plan at T=" + t + " B=" + b + " H=" + h + suffix + " "
                            + label(precision) + ": " + engine.persistentPlan(b));
                    for (CudaLstmEngine.Schedule schedule : new CudaLstmEngine.Schedule[] {
                        CudaLstmEngine.Schedule.GEMM, CudaLstmEngine.Schedule.FUSED, CudaLstmEngine.Schedule.PERSISTENT}) {
                        for (boolean graphs : new boolean[] {false, true}) {
                            engine.setSchedule(schedule);
                            engine.setGraphs(graphs);
                            String variant = schedule.name().toLowerCase(Locale.ROOT) + (graphs ? "+graphs" : "")
                                    + (precision == Precision.FP32 ? "" : "@" + label(precision)) + suffix;
                            String ranAs = engine.effectiveSchedule(b).name().toLowerCase(Locale.ROOT);
                            for (boolean training : new boolean[] {false, true}) {
                                double ms = time(engine, config, t, b, training);
                                System.out.printf(Locale.ROOT, "jlstm %d %d %d %d %d %s %s %s %.4f%n", t, b, i, h, l,
                                        training ? "training" : "inference", variant, ranAs, ms);
                                System.out.flush();
                            }
                        }
                    }
                    // Training once more with the tiled persistent kernels off (graphs on): the
                    // warp-per-unit kernels the tiled ones replaced, timed in the same run.
                    engine.setSchedule(CudaLstmEngine.Schedule.PERSISTENT);
                    engine.setGraphs(true);
                    engine.setTiledPersistentKernels(false, false);
                    String ranAs = engine.effectiveSchedule(b).name().toLowerCase(Locale.ROOT);
                    double ms = time(engine, config, t, b, true);
                    System.out.printf(Locale.ROOT, "jlstm %d %d %d %d %d %s %s %s %.4f%n", t, b, i, h, l, "training",
                            WARP_PER_UNIT + (precision == Precision.FP32 ? "" : "@" + label(precision)) + suffix,
                            ranAs, ms);
                    System.out.flush();
                    engine.setTiledPersistentKernels(true, true);
                }
            }
        }
    }

    /**
     * The variant of the persistent schedule with its tiled kernels turned off
     * ({@link CudaLstmEngine#setTiledPersistentKernels}), graphs on, timed for training only.
     */
    static final String WARP_PER_UNIT = "persistent-warp+graphs";

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
                    host[n] = r.nextFloat() * 2 - 1;   // never zeros: real data, every element written
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
                return (ms[REPEATS / 2 - 1] + ms[REPEATS / 2]) / 2;
            } finally {
                for (CUdeviceptr p : new CUdeviceptr[] {x, y, dy, dx, states, grads}) {
                    CudaCalls.free(p, "timing buffer");
                }
            }
        });
    }

    /** fp32, tf32 or bf16: the mode as the command line and the golden files name it. */
    private static String label(Precision precision) {
        return precision.name().toLowerCase(Locale.ROOT);
    }
}
