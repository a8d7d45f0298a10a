package jlstm.internal.cuda;

import static jlstm.internal.cuda.DeviceAddress.at;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import jcuda.driver.CUgraphExec;

import jlstm.EngineOptions;
import jlstm.LstmConfig;
import jlstm.LstmParameters;

/**
 * A whole training step on the GPU, beside a {@link CudaLstmEngine}: the LSTM's forward and
 * backward passes, a linear head (out = y·Wᵀ + b on the last step or every step), the loss (mean
 * squared error or softmax cross-entropy), clipping by global gradient norm and an Adam or SGD
 * update of every parameter — the rules of {@code jlstm.train}, as kernels
 * ({@code cuda/lstm_training.cu}) and cuBLAS products. Per step the batch goes to the device and
 * only the loss comes back; parameters and optimizer state stay on the device until
 * {@link #readParameters} and {@link #readOptimizerState} fetch them (checkpoints, evaluation).
 *
 * <p><b>One graph per step.</b> x, the targets and the step's hyper-parameters (Adam's
 * step-dependent step size and bias correction, SGD's learning rate and first-step flag, the
 * clipping threshold) are queued into device memory asynchronously, through pinned staging on the
 * engine's stream; everything else (forward, head, loss, backward, clipping, update) reads them
 * there, so with the engine's graphs on it is captured once per (T, B, clipping or not) and
 * replayed every step with one {@code cuGraphLaunch}. Then the loss comes back (one 8-byte copy).
 *
 * <p>Layouts: the LSTM's parameters, gradients and optimizer state use the engine's flat layout
 * (every parameter at {@link CudaLstmEngine#parameterOffset}, zeros between them), the head's
 * {@code [W (O·F) | b (O)]}; the updates run over each flat buffer at once. Reductions (loss, norm)
 * add in a fixed order, so a run is reproducible bit for bit.
 *
 * <p>Not thread-safe; it uses the engine's first stream and must not be interleaved with other
 * calls on the same engine.
 */
public final class CudaTrainingStep implements AutoCloseable {
    /** The objective. */
    public enum Objective {
        /** Mean over every element of (p − t)²; targets [R, O]. */
        MEAN_SQUARED_ERROR,
        /** Mean over rows of logsumexp(z) − z[label]; targets: class indices [R] (as floats). */
        SOFTMAX_CROSS_ENTROPY
    }

    /** The update rule and its hyper-parameters (the learning rate comes with each step). */
    public sealed interface Rule {
        /** Adam as {@code torch.optim.Adam}. */
        record Adam(double beta1, double beta2, double eps, double weightDecay) implements Rule {
        }

        /** SGD with momentum as {@code torch.optim.SGD} (dampening 0, no Nesterov; momentum 0: plain SGD). */
        record Sgd(double momentum, double weightDecay) implements Rule {
        }
    }

    /** The state slots of each rule, named as in PyTorch. */
    public static final String FIRST_MOMENT = "exp_avg";
    public static final String SECOND_MOMENT = "exp_avg_sq";
    public static final String MOMENTUM_BUFFER = "momentum_buffer";

    /** Names of the head's parameters (as {@code jlstm.train.LinearHead}). */
    public static final String HEAD_WEIGHT = "head.weight";
    public static final String HEAD_BIAS = "head.bias";

    private static final int BLOCK = 256;
    /** Blocks (partial sums) of one sum of squares: a fixed partition, so norms are reproducible. */
    private static final int SUM_BLOCKS = 128;
    // Double slots of the scalars buffer after the 2·SUM_BLOCKS partial sums.
    private static final int LOSS_SLOT = 2 * SUM_BLOCKS;          // Σ loss terms
    private static final int NORM_SLOT = LOSS_SLOT + 1;           // the global gradient norm
    private static final int MAX_NORM_SLOT = LOSS_SLOT + 2;       // in: the clipping threshold
    private static final int STEP_SLOT = LOSS_SLOT + 3;           // in [2]: Adam's step size and √(1 − β2^t),
                                                                  //   or SGD's learning rate and first-step flag
    private static final int SCALE_SLOT = LOSS_SLOT + 7;          // the clipping factor (a float)

    private final CudaLstmEngine engine;
    private final CudaDevice device;
    private final LstmConfig config;
    private final int features;       // F = D·H
    private final int outputs;        // O
    private final boolean lastStep;
    private final Objective objective;
    private final Rule rule;
    private final long lstmFloats;
    private final long headFloats;     // O·F + O
    private final long head;           // [O·F + O]
    private final long headGrad;       // [O·F + O]
    private final long[] lstmState;    // optimizer slots over the LSTM layout
    private final long[] headState;    // and over the head's
    private final long scalars;        // 2·SUM_BLOCKS + 8 doubles: partial sums, loss, norm; then the scale
    private long scratch;              // per shape: prediction, its gradient, targets, loss terms, ones
    private long scratchFloats;
    private long scratchGeneration;    // changes whenever the scratch moves (graphs over it are stale)
    private final Map<GraphKey, CUgraphExec> graphs = new HashMap<>();
    private boolean momentumStarted;
    private boolean closed;

    /**
     * @param outputs      O, the head's outputs
     * @param lastStepHead true: the head reads y[T−1] only (R = B rows); false: every step (R = T·B)
     */
    public CudaTrainingStep(CudaLstmEngine engine, int outputs, boolean lastStepHead, Objective objective,
                            Rule rule) {
        if (outputs < 1) {
            throw new IllegalArgumentException("the head needs at least one output, got " + outputs);
        }
        this.engine = engine;
        this.device = engine.device();
        this.config = engine.config();
        this.features = config.outputSize();
        this.outputs = outputs;
        this.lastStep = lastStepHead;
        this.objective = objective;
        this.rule = rule;
        this.lstmFloats = engine.gradientFloats();
        this.headFloats = (long) outputs * features + outputs;
        int slots = rule instanceof Rule.Adam ? 2 : ((Rule.Sgd) rule).momentum() != 0 ? 1 : 0;
        long[] allocated = engine.inContext(() -> {
            long[] a = new long[3 + 2 * slots];
            a[0] = device.alloc(headFloats, "head");
            a[1] = device.alloc(headFloats, "head gradients");
            a[2] = device.alloc(2L * (2 * SUM_BLOCKS + 8), "training scalars");
            for (int s = 0; s < slots; s++) {
                a[3 + s] = device.alloc(lstmFloats, "optimizer state");
                a[3 + slots + s] = device.alloc(headFloats, "optimizer state of the head");
                device.fill(a[3 + s], lstmFloats, 0);
                device.fill(a[3 + slots + s], headFloats, 0);
            }
            return a;
        });
        this.head = allocated[0];
        this.headGrad = allocated[1];
        this.scalars = allocated[2];
        this.lstmState = new long[slots];
        this.headState = new long[slots];
        for (int s = 0; s < slots; s++) {
            lstmState[s] = allocated[3 + s];
            headState[s] = allocated[3 + slots + s];
        }
    }

    /** Uploads the head: weight [O, F], bias [O]. */
    public void setHead(float[] weight, float[] bias) {
        requireLength("head weight", weight, (long) outputs * features);
        requireLength("head bias", bias, outputs);
        engine.inContext(() -> {
            device.upload(head, weight);
            device.upload(at(head, (long) outputs * features), bias);
            return null;
        });
    }

    /**
     * Uploads one optimizer state tensor, e.g. after resuming from a checkpoint.
     *
     * @param parameter an LSTM parameter name, {@link #HEAD_WEIGHT} or {@link #HEAD_BIAS}
     * @param slot      {@link #FIRST_MOMENT}, {@link #SECOND_MOMENT} or {@link #MOMENTUM_BUFFER}
     * @param values    the parameter's shape, flattened
     */
    public void setOptimizerState(String parameter, String slot, float[] values) {
        long at = stateAddress(parameter, slot, values.length);
        engine.inContext(() -> {
            device.upload(at, values);
            return null;
        });
        if (slot.equals(MOMENTUM_BUFFER)) {
            momentumStarted = true;
        }
    }

    /** Reads one optimizer state tensor (see {@link #setOptimizerState}). */
    public float[] readOptimizerState(String parameter, String slot) {
        float[] values = new float[parameterSize(parameter)];
        long at = stateAddress(parameter, slot, values.length);
        engine.inContext(() -> {
            device.download(values, at);
            return null;
        });
        return values;
    }

    /** Whether the momentum buffers hold state (SGD's first step sets buf = g, later ones blend). */
    public boolean momentumStarted() {
        return momentumStarted;
    }

    private long stateAddress(String parameter, String slot, int length) {
        int index = switch (slot) {
            case FIRST_MOMENT, MOMENTUM_BUFFER -> 0;
            case SECOND_MOMENT -> 1;
            default -> throw new IllegalArgumentException("unknown optimizer state '" + slot + "'");
        };
        boolean known = rule instanceof Rule.Adam ? !slot.equals(MOMENTUM_BUFFER)
                : slot.equals(MOMENTUM_BUFFER) && lstmState.length == 1;
        if (!known) {
            throw new IllegalArgumentException(rule + " keeps no '" + slot + "' state");
        }
        if (length != parameterSize(parameter)) {
            throw new IllegalArgumentException(parameter + " " + slot + ": " + length + " values, expected "
                    + parameterSize(parameter));
        }
        return switch (parameter) {
            case HEAD_WEIGHT -> headState[index];
            case HEAD_BIAS -> at(headState[index], (long) outputs * features);
            default -> at(lstmState[index], engine.parameterOffset(parameter));
        };
    }

    private int parameterSize(String parameter) {
        return switch (parameter) {
            case HEAD_WEIGHT -> outputs * features;
            case HEAD_BIAS -> outputs;
            default -> {
                int[] shape = config.parameterShape(parameter);
                int n = 1;
                for (int d : shape) {
                    n *= d;
                }
                yield n;
            }
        };
    }

    /**
     * One step: forward, head, loss, backward, clipping, update. Returns the batch's loss before
     * the update (what {@code jlstm.train.SequenceModel#trainStep} returns).
     *
     * @param x           [T, B, I] time-major input
     * @param target      MSE: [R, O] (R = B or T·B); cross-entropy: class indices [R]
     * @param stepNumber  the optimizer's step count including this one (from 1; Adam's bias correction)
     * @param maxGradNorm clip threshold for the global norm of every gradient, 0 for none
     */
    public double step(int steps, int batch, float[] x, float[] target, double learningRate, long stepNumber,
                       double maxGradNorm) {
        if (closed) {
            throw new IllegalStateException("this training step is closed");
        }
        int rows = lastStep ? batch : steps * batch;
        long predictions = (long) rows * outputs;
        requireLength("x", x, (long) steps * batch * config.inputSize());
        if (objective == Objective.MEAN_SQUARED_ERROR) {
            requireLength("target", target, predictions);
        } else {
            requireLength("target (class indices)", target, rows);
            for (int r = 0; r < rows; r++) {
                if (target[r] != Math.rint(target[r]) || target[r] < 0 || target[r] >= outputs) {
                    throw new IllegalArgumentException("cross_entropy: target[" + r + "] = " + target[r]
                            + " is not a class index in [0, " + outputs + ")");
                }
            }
        }
        return engine.inContext(() -> {
            // Inputs in, outside the graph: x, targets and this step's hyper-parameters, queued on the
            // stream through pinned staging; the graph reads them from device memory.
            engine.prepareDeviceStep(steps, batch, x);
            long terms = ensureScratch(predictions, rows);   // doubles first: 8-byte aligned
            long targets = at(terms, 2 * predictions + 2 * predictions);
            device.upload(targets, target);
            uploadHyperParameters(learningRate, stepNumber, maxGradNorm);
            Runnable issue = () -> issueStep(steps, batch, rows, predictions, terms, maxGradNorm > 0);
            if (engine.graphsEnabled()) {
                replay(new GraphKey(steps, batch, maxGradNorm > 0, engine.precision(), engine.workspaceGeneration(),
                        scratchGeneration), issue);
            } else {
                issue.run();
            }
            momentumStarted = true;
            int termCount = objective == Objective.MEAN_SQUARED_ERROR ? (int) predictions : rows;
            return device.downloadDouble(at(scalars, 2L * LOSS_SLOT)) / termCount;
        });
    }

    /**
     * What a captured step depends on besides the contents of device memory: the shape, whether it
     * clips, the engine's precision (its products and kernel launches are captured in that mode), and
     * where the engine's workspace and this step's scratch lie.
     */
    private record GraphKey(int steps, int batch, boolean clips, EngineOptions.Precision precision,
            long workspaceGeneration, long scratchGeneration) {
    }

    /** Replays the step's graph for this key, capturing {@code issue} first if there is none. */
    private void replay(GraphKey key, Runnable issue) {
        CUgraphExec graph = graphs.get(key);
        if (graph == null) {
            // A graph over an old workspace or scratch can never run again: drop those.
            graphs.entrySet().removeIf(e -> {
                boolean stale = e.getKey().workspaceGeneration() != key.workspaceGeneration()
                        || e.getKey().scratchGeneration() != key.scratchGeneration();
                if (stale) {
                    device.destroy(e.getValue());
                }
                return stale;
            });
            graph = device.capture(issue);
            graphs.put(key, graph);
        }
        device.launch(graph);
    }

    /** Graphs of the step held (for tests: one per shape and clipping, replayed every step). */
    int graphCount() {
        return graphs.size();
    }

    /**
     * The step-dependent values the kernels read from device memory: the clipping threshold, and
     * Adam's step size lr / (1 − β1^t) and √(1 − β2^t), or SGD's learning rate and first-step flag.
     */
    private void uploadHyperParameters(double learningRate, long stepNumber, double maxGradNorm) {
        double[] values = new double[3];
        values[0] = maxGradNorm;
        if (rule instanceof Rule.Adam adam) {
            values[1] = learningRate / (1 - Math.pow(adam.beta1(), stepNumber));
            values[2] = Math.sqrt(1 - Math.pow(adam.beta2(), stepNumber));
        } else {
            values[1] = learningRate;
            values[2] = momentumStarted ? 0 : 1;
        }
        int[] words = new int[2 * values.length];   // doubles as little-endian 32-bit words
        for (int i = 0; i < values.length; i++) {
            long bits = Double.doubleToRawLongBits(values[i]);
            words[2 * i] = (int) bits;
            words[2 * i + 1] = (int) (bits >>> 32);
        }
        device.upload(at(scalars, 2L * MAX_NORM_SLOT), words);
    }

    /** The step's device work: forward, head, loss, backward, clipping, update (all capturable). */
    private void issueStep(int steps, int batch, int rows, long predictions, long terms, boolean clips) {
        long pred = at(terms, 2 * predictions);
        long predGrad = at(pred, predictions);
        long targets = at(predGrad, predictions);
        long ones = at(targets, predictions);
        device.fill(ones, rows, Float.floatToRawIntBits(1f));
        engine.issueDeviceStepForward();
        long y = engine.outputAddress();
        long yRows = lastStep ? at(y, (long) (steps - 1) * batch * features) : y;
        long weight = head;
        long bias = at(head, (long) outputs * features);
        Cublas blas = device.blas(0);
        // Head: pred[R, O] = y_rows[R, F] · Wᵀ + b.
        blas.gemm(false, true, rows, outputs, features, yRows, features, weight, features, false, pred, outputs);
        launch1d(device.kernel(Kernel.HEAD_BIAS).begin().i(rows).i(outputs).p(pred).p(bias), predictions);
        // Loss terms and d loss / d pred.
        int termCount;
        if (objective == Objective.MEAN_SQUARED_ERROR) {
            termCount = (int) predictions;
            launch1d(device.kernel(Kernel.MSE).begin().i(termCount).p(pred).p(targets).p(predGrad).p(terms),
                    predictions);
        } else {
            termCount = rows;
            launch1d(device.kernel(Kernel.SOFTMAX_CE).begin().i(rows).i(outputs).p(pred).p(targets).p(predGrad)
                    .p(terms), rows);
        }
        device.kernel(Kernel.REDUCE).begin().i(termCount).p(terms).p(at(scalars, 2L * LOSS_SLOT))
                .launch(1, 1, BLOCK, 1, 0, device.stream(0));
        // Head backward: dW = dPredᵀ · y_rows, db = column sums of dPred, dy_rows = dPred · W.
        blas.gemm(true, false, outputs, features, rows, predGrad, outputs, yRows, features, false, headGrad,
                features);
        blas.columnSums(rows, outputs, predGrad, outputs, ones, at(headGrad, (long) outputs * features));
        long dy = engine.outputGradientAddress();
        if (lastStep) {
            device.fill(dy, (long) steps * batch * features, 0);   // only y[T−1] reaches the loss
        }
        blas.gemm(false, false, rows, features, outputs, predGrad, outputs, weight, features, false,
                lastStep ? at(dy, (long) (steps - 1) * batch * features) : dy, features);
        engine.issueDeviceStepBackward();
        // Clipping: the factor lives on the device; the updates read it.
        long scale = at(scalars, 2L * SCALE_SLOT);
        if (clips) {
            int lstmBlocks = sumOfSquares(engine.gradientsAddress(), lstmFloats, scalars);
            int headBlocks = sumOfSquares(headGrad, headFloats, at(scalars, 2L * lstmBlocks));
            device.kernel(Kernel.CLIP_SCALE).begin().i(lstmBlocks + headBlocks).p(scalars)
                    .p(at(scalars, 2L * MAX_NORM_SLOT)).p(at(scalars, 2L * NORM_SLOT)).p(scale)
                    .launch(1, 1, 1, 1, 0, device.stream(0));
        } else {
            device.fill(scale, 1, Float.floatToRawIntBits(1f));
        }
        update(engine.parametersAddress(), engine.gradientsAddress(), lstmState, lstmFloats, scale);
        update(head, headGrad, headState, headFloats, scale);
    }

    /** Launches the update rule over one flat buffer; the step's values come from device memory. */
    private void update(long params, long grads, long[] state, long n, long scale) {
        long step = at(scalars, 2L * STEP_SLOT);
        if (rule instanceof Rule.Adam adam) {
            launch1d(device.kernel(Kernel.ADAM_UPDATE).begin().l(n).p(params).p(grads).p(state[0]).p(state[1])
                    .p(scale).p(step).d(adam.beta1()).d(adam.beta2()).d(adam.eps()).d(adam.weightDecay()), n);
        } else {
            Rule.Sgd sgd = (Rule.Sgd) rule;
            launch1d(device.kernel(Kernel.SGD_UPDATE).begin().l(n).p(params).p(grads)
                    .p(state.length == 0 ? 0 : state[0]).p(scale).p(step).d(sgd.momentum()).d(sgd.weightDecay()), n);
        }
    }

    /** Partial sums of squares of a buffer into {@code partials} (doubles); returns how many. */
    private int sumOfSquares(long data, long n, long partials) {
        int blocks = (int) Math.max(1, Math.min(SUM_BLOCKS, (n + BLOCK - 1) / BLOCK));
        long chunk = (n + blocks - 1) / blocks;
        device.kernel(Kernel.SUM_SQUARES).begin().l(n).l(chunk).p(data).p(partials)
                .launch(blocks, 1, BLOCK, 1, 0, device.stream(0));
        return blocks;
    }

    /** One thread per element, 256 per block. */
    private void launch1d(KernelLauncher launcher, long elements) {
        launcher.launch((int) ((elements + BLOCK - 1) / BLOCK), 1, BLOCK, 1, 0, device.stream(0));
    }

    /** Scratch: loss terms (R·O doubles), predictions, their gradient, targets (R·O floats each), R ones. */
    private long ensureScratch(long predictions, int rows) {
        long needed = 5 * predictions + rows;
        if (needed > scratchFloats) {
            device.synchronize("before the training scratch grows");
            device.free(scratch, "training scratch");
            scratch = device.alloc(needed, "training scratch");
            scratchFloats = needed;
            scratchGeneration++;
        }
        return scratch;
    }

    /** Downloads the current parameters: every LSTM tensor into {@code lstm}, the head into the arrays. */
    public void readParameters(LstmParameters lstm, float[] headWeight, float[] headBias) {
        requireLength("head weight", headWeight, (long) outputs * features);
        requireLength("head bias", headBias, outputs);
        engine.inContext(() -> {
            engine.flushParameters(); // an upload the engine held back for a pending backward
            for (String name : config.parameterNames()) {
                device.download(lstm.get(name).data(), at(engine.parametersAddress(), engine.parameterOffset(name)));
            }
            device.download(headWeight, head);
            device.download(headBias, at(head, (long) outputs * features));
            return null;
        });
    }

    /** Every optimizer state tensor by PyTorch-style name ({@code slot.parameter}), downloaded. */
    public Map<String, float[]> readOptimizerState() {
        Map<String, float[]> out = new LinkedHashMap<>();
        String[] slots = rule instanceof Rule.Adam ? new String[] {FIRST_MOMENT, SECOND_MOMENT}
                : lstmState.length == 1 && momentumStarted ? new String[] {MOMENTUM_BUFFER} : new String[0];
        for (String slot : slots) {
            for (String name : config.parameterNames()) {
                out.put(slot + "." + name, readOptimizerState(name, slot));
            }
            out.put(slot + "." + HEAD_WEIGHT, readOptimizerState(HEAD_WEIGHT, slot));
            out.put(slot + "." + HEAD_BIAS, readOptimizerState(HEAD_BIAS, slot));
        }
        return out;
    }

    private static void requireLength(String what, float[] a, long expected) {
        if (a == null || a.length != expected) {
            throw new IllegalArgumentException(what + ": expected " + expected + " values, got "
                    + (a == null ? "null" : a.length));
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        engine.inContext(() -> {
            device.synchronize("closing the training step");
            for (CUgraphExec graph : graphs.values()) {
                device.destroy(graph);
            }
            graphs.clear();
            device.free(scratch, "training scratch");
            device.free(head, "head");
            device.free(headGrad, "head gradients");
            device.free(scalars, "training scalars");
            for (long a : lstmState) {
                device.free(a, "optimizer state");
            }
            for (long a : headState) {
                device.free(a, "optimizer state of the head");
            }
            return null;
        });
    }
}
