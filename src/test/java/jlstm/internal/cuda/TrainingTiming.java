package jlstm.internal.cuda;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

import jlstm.internal.Backends;
import jlstm.LstmConfig;
import jlstm.LstmLayer;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.train.Adam;
import jlstm.train.LinearHead;
import jlstm.train.MeanSquaredError;
import jlstm.train.SequenceModel;

/**
 * Times jlstm's training step on CUDA — the step benchmarks/gpu_training_torch.py times in PyTorch:
 * LSTM(I, H, L), a Linear(H, 1) head on the last step, mean squared error, backward, gradient
 * clipping to norm 1, Adam(lr 1e-3), all on the device ({@code SequenceModel.trainStep} with
 * {@link CudaTrainingStep}). Each step returns its loss to the host (one sync per step). Passes
 * with CUDA graphs off and on ({@code jlstm.cuda.graphs}, read when the engine opens). One line per
 * shape and setting, as soon as it is measured, in the torch script's columns:
 * <pre>jlstm-train T B I H L graphs-off|graphs-on fp32 - MS</pre>
 * Median of 20 timed steps after 5 warm-ups, wall clock around each step (the step ends in a sync).
 * On the stand-in the times mean nothing.
 *
 * <p>usage: {@code java -cp jlstm.jar:test-classes jlstm.internal.cuda.TrainingTiming [T,B,I,H,L ...]}
 */
public final class TrainingTiming {
    private static final String[] DEFAULT_SHAPES = {"100,64,256,256,1", "100,256,256,256,1", "100,64,512,512,1",
        "100,64,1024,1024,1", "50,32,128,128,2"};
    private static final int WARMUP = 5;
    private static final int REPEATS = 20;

    private TrainingTiming() {
    }

    public static void main(String[] args) {
        var a = Backends.cuda().availability();
        if (!a.available()) {
            System.err.println("CUDA unavailable: " + a.detail());
            System.exit(3);
        }
        System.out.println("# " + a.detail());
        for (String text : args.length > 0 ? args : DEFAULT_SHAPES) {
            int[] s = Arrays.stream(text.split(",")).mapToInt(Integer::parseInt).toArray();
            for (String graphs : new String[] {"off", "on"}) {
                System.setProperty(CudaLstmEngine.GRAPHS_PROPERTY, graphs);
                double ms = medianStepMs(s[0], s[1], s[2], s[3], s[4]);
                System.out.printf(Locale.ROOT, "jlstm-train %d %d %d %d %d graphs-%s fp32 - %.4f%n", s[0], s[1], s[2],
                        s[3], s[4], graphs, ms);
            }
        }
    }

    private static double medianStepMs(int steps, int batch, int input, int hidden, int layers) {
        LstmParameters p = LstmParameters.initialize(new LstmConfig(input, hidden, layers, false, true, false), 5);
        SplittableRandom random = new SplittableRandom(9);
        Tensor x = Tensor.zeros(steps, batch, input);
        Tensor target = Tensor.zeros(batch, 1);
        for (Tensor t : new Tensor[] {x, target}) {
            for (int i = 0; i < t.numel(); i++) {
                t.data()[i] = (float) random.nextDouble(-1, 1);
            }
        }
        try (SequenceModel model = new SequenceModel(LstmLayer.create(p, Backends.cuda()),
                LinearHead.initialize(hidden, 1, LinearHead.Mode.LAST_STEP, 6))) {
            Adam adam = new Adam(1e-3);
            MeanSquaredError loss = new MeanSquaredError();
            double[] times = new double[REPEATS];
            for (int n = 0; n < WARMUP + REPEATS; n++) {
                long start = System.nanoTime();
                model.trainStep(x, target, loss, adam, 1.0);
                if (n >= WARMUP) {
                    times[n - WARMUP] = (System.nanoTime() - start) / 1e6;
                }
            }
            Arrays.sort(times);
            return (times[REPEATS / 2 - 1] + times[REPEATS / 2]) / 2;
        }
    }
}
