package jlstm.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import jlstm.Device;
import jlstm.LstmGradients;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.Tensor;

import org.jspecify.annotations.Nullable;

/**
 * An LSTM followed by a {@link LinearHead}: the model that {@code train} fits. The LSTM runs on
 * its layer's backend. On the CPU the head, the loss and the optimizer run on the host too. On
 * CUDA, {@link #trainStep} with mean squared error or softmax cross-entropy and Adam or SGD runs
 * the whole step on the GPU (see {@code DeviceTraining}): the device then holds the current
 * parameters and optimizer state, and the host copies are brought up to date before
 * {@link #predict}, {@link #parameters()} and {@link #lossAndGradients} use them, and by
 * {@link #synchronizeHost()} (which {@link Trainer} calls after every epoch; call it before
 * reading the optimizer's state yourself).
 *
 * <p>Parameters are named as in a PyTorch {@code state_dict} of a module with an {@code nn.LSTM}
 * and an {@code nn.Linear} head: the LSTM's own names ({@code weight_ih_l0} …) and
 * {@code head.weight}, {@code head.bias}.
 */
public final class SequenceModel implements AutoCloseable {
    private final LstmLayer lstm;
    private final LinearHead head;
    private final Map<String, Tensor> parameters;
    private @Nullable DeviceTraining deviceTraining;     // the device step in use, or null
    private @Nullable Loss hostLoss;                     // the last loss/optimizer pair found to train on the host
    private @Nullable Optimizer hostOptimizer;

    /**
     * Takes ownership of {@code lstm} (closed with this model). Inputs follow the LSTM's layout:
     * [T, B, I], or [B, T, I] when its config is batch-first (and every-step predictions and
     * targets are then [B, T, O]).
     *
     * @param lstm the LSTM, taken over (closed with this model)
     * @param head the head, shared (its tensors are the model's {@code head.*} parameters)
     * @throws IllegalArgumentException if the head's input width is not the LSTM's output width D·R
     * @throws NullPointerException     if an argument is null
     */
    public SequenceModel(LstmLayer lstm, LinearHead head) {
        java.util.Objects.requireNonNull(lstm, "lstm");
        java.util.Objects.requireNonNull(head, "head");
        if (head.features() != lstm.config().outputSize()) {
            throw new IllegalArgumentException("head reads " + head.features() + " features but " + lstm.config()
                    + " outputs " + lstm.config().outputSize());
        }
        this.lstm = lstm;
        this.head = head;
        Map<String, Tensor> all = new LinkedHashMap<>(lstm.parameters().asMap());
        all.put(LinearHead.WEIGHT, head.weight());
        all.put(LinearHead.BIAS, head.bias());
        this.parameters = java.util.Collections.unmodifiableMap(all);
    }

    /**
     * An LSTM with a new linear head that reads its output: the head's input width is the LSTM's
     * output width (PyTorch's default {@code nn.Linear} initialisation, seeded).
     *
     * @param lstm    taken over (closed with the model)
     * @param outputs O: values per prediction (or classes, for cross-entropy), ≥ 1
     * @param mode    whether the head reads the last step only or every step
     * @param seed    seed of the head's initialisation
     * @return the model
     * @throws IllegalArgumentException if {@code outputs} is below 1
     */
    public static SequenceModel create(LstmLayer lstm, int outputs, LinearHead.Mode mode, long seed) {
        java.util.Objects.requireNonNull(lstm, "lstm");
        java.util.Objects.requireNonNull(mode, "mode");
        return new SequenceModel(lstm, LinearHead.initialize(lstm.config(), outputs, mode, seed));
    }

    /**
     * A model from a checkpoint written by {@link #save} or {@code train}, or from a PyTorch
     * export of a module with an {@code nn.LSTM} and an {@code nn.Linear} (whatever their names):
     * see {@link Checkpoint#load(Path, Checkpoint.Options)}. The layout (batch-first or not) and
     * the head's mode come from the file's metadata, or from {@code options}.
     *
     * @param file    a safetensors file
     * @param device  where the LSTM runs
     * @param options how to read the file (layout, head mode, module prefixes)
     * @return the model; close it
     * @throws IOException              if the file cannot be read or is not valid safetensors
     * @throws IllegalArgumentException if the file holds no such model (the message lists what it found)
     */
    public static SequenceModel load(Path file, Device device, Checkpoint.Options options) throws IOException {
        Checkpoint c = Checkpoint.load(file, options);
        return new SequenceModel(LstmLayer.create(c.lstm(), device), c.head());
    }

    /**
     * {@link #load(Path, Device, Checkpoint.Options)} with everything from the file.
     *
     * @param file   a safetensors file
     * @param device where the LSTM runs
     * @return the model; close it
     * @throws IOException              if the file cannot be read or is not valid safetensors
     * @throws IllegalArgumentException if the file holds no such model
     */
    public static SequenceModel load(Path file, Device device) throws IOException {
        return load(file, device, Checkpoint.Options.fromFile());
    }

    /**
     * Writes the parameters (PyTorch names: the LSTM's, then {@code head.weight}, {@code head.bias})
     * with the layout and head mode in the metadata, so that {@link #load} gives back the same
     * model. Written atomically.
     *
     * @param file the file to write (replaced if it exists)
     * @throws IOException if the file cannot be written
     */
    public void save(Path file) throws IOException {
        Checkpoint.save(file, this, null, Map.of());
    }

    /**
     * The LSTM, owned by this model.
     *
     * @return the layer (do not close it; close the model)
     */
    public LstmLayer lstm() {
        return lstm;
    }

    /**
     * The head.
     *
     * @return the linear head (its tensors are live)
     */
    public LinearHead head() {
        return head;
    }

    /**
     * Every parameter by checkpoint name, brought up to date from the device first.
     *
     * @return an unmodifiable map of live tensors: the LSTM's in PyTorch order, then
     *         {@code head.weight}, {@code head.bias}
     */
    public Map<String, Tensor> parameters() {
        synchronizeHostParameters();
        return parameters;
    }

    /** The live tensors without bringing them up to date (for the device step itself). */
    Map<String, Tensor> liveParameters() {
        return parameters;
    }

    /**
     * After device-resident training steps: copies the device's parameters and optimizer state
     * to the host tensors and optimizer. Nothing to do otherwise.
     */
    public void synchronizeHost() {
        if (deviceTraining != null) {
            deviceTraining.synchronizeHost();
        }
    }

    private void synchronizeHostParameters() {
        synchronizeHost();
    }

    /**
     * Whether inputs (and every-step predictions) are batch-first, as the LSTM's config says.
     *
     * @return true for [B, T, ·], false for [T, B, ·]
     */
    public boolean batchFirst() {
        return lstm.config().batchFirst();
    }

    /**
     * A dataset batch's inputs in this model's layout.
     *
     * @param batch a batch of a {@link SequenceDataset} (whose x is [B, T, I])
     * @return [T, B, I], or [B, T, I] when batch-first
     */
    public Tensor input(SequenceDataset.Batch batch) {
        return batchFirst() ? batch.x().swapFirstTwoAxes() : batch.x();
    }

    /**
     * Inference. Safe to call from many threads at once (the LSTM's rule; the head keeps nothing),
     * as long as no training step changes the parameters meanwhile.
     *
     * @param x [T, B, I], or [B, T, I] when batch-first (a view is copied once)
     * @return the head's output: [B, O] (last-step head), or [T, B, O] ([B, T, O] batch-first)
     * @throws IllegalArgumentException if x's shape does not fit the model
     */
    public Tensor predict(Tensor x) {
        return predict(x, null, null, null);
    }

    /**
     * Inference from given initial states over sequences of different lengths.
     *
     * @param x       [T, B, I], or [B, T, I] when batch-first (a view is copied once)
     * @param h0      [L·D, B, R] or null for zeros (not batch-first, as in PyTorch)
     * @param c0      [L·D, B, H] or null for zeros
     * @param lengths [B] each in [1, T], or null: a last-step head reads each sequence's last step
     * @return [B, O], or [T, B, O] ([B, T, O] batch-first)
     * @throws IllegalArgumentException if a shape does not fit the model
     */
    public Tensor predict(Tensor x, @Nullable Tensor h0, @Nullable Tensor c0, int @Nullable [] lengths) {
        synchronizeHostParameters();
        LstmOutput out = lstm.forward(x, h0, c0, lengths);
        return toModelLayout(head.apply(timeMajor(out.y()), lengths));
    }

    /**
     * Inference on a batch of a dataset (its lengths and initial states included): as {@link #predict(Tensor)}.
     *
     * @param batch a batch of a {@link SequenceDataset}
     * @return [B, O], or [T, B, O] ([B, T, O] batch-first)
     */
    public Tensor predict(SequenceDataset.Batch batch) {
        return predict(input(batch), batch.h0(), batch.c0(), batch.lengths());
    }

    /**
     * The mean loss over a dataset (over sequences), in batches of at most 256, nothing updated:
     * what {@link #fit} reports as the validation loss.
     *
     * @param data the sequences and targets
     * @param loss the loss to average
     * @return the mean over the sequences
     * @throws IllegalArgumentException if the targets do not fit the loss
     */
    public double meanLoss(SequenceDataset data, Loss loss) {
        int[] order = new int[data.size()];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        double total = 0;
        for (int from = 0; from < data.size(); from += 256) {
            int to = Math.min(from + 256, data.size());
            SequenceDataset.Batch batch = data.batch(order, from, to);
            total += loss.compute(predict(batch), batch.target()).value() * (to - from);
        }
        return total / data.size();
    }

    /**
     * Trains on a dataset with the epoch loop of {@link Trainer#fit}: the options' loss (inferred
     * from the targets when not given: cross-entropy for class indices, else mean squared error)
     * and optimizer ({@code Adam(0.001)} when not given), schedule, validation, early stopping and
     * callbacks.
     *
     * @param train sequences as {@link SequenceDataset} holds them (time-major or batch-first does
     *              not matter: batches are converted to this model's layout)
     * @param options epochs, batch size, optimizer, schedule, validation … ({@link FitOptions})
     * @return the per-epoch history
     * @throws IllegalArgumentException if the data does not fit the model or the loss
     */
    public History fit(SequenceDataset train, FitOptions options) {
        java.util.Objects.requireNonNull(train, "train");
        java.util.Objects.requireNonNull(options, "options");
        Loss loss = options.loss() != null ? options.loss()
                : train.classIndexTargets() ? new SoftmaxCrossEntropy() : new MeanSquaredError();
        Optimizer optimizer = options.optimizer() != null ? options.optimizer() : new Adam(0.001);
        return Trainer.fit(trainable(loss, optimizer), train, options);
    }

    /**
     * This model with a loss and an optimizer, as {@link Trainer#fit} drives it.
     *
     * @param loss      the loss to train on
     * @param optimizer the optimizer that updates {@link #parameters()}
     * @return a view of this model (training it trains this model)
     */
    public Trainable trainable(Loss loss, Optimizer optimizer) {
        SequenceModel model = this;
        return new Trainable() {
            @Override
            public double trainStep(SequenceDataset.Batch batch, double maxGradNorm) {
                return model.trainStep(batch, loss, optimizer, maxGradNorm).loss();
            }

            @Override
            public double meanLoss(SequenceDataset data) {
                return model.meanLoss(data, loss);
            }

            @Override
            public Optimizer optimizer() {
                return optimizer;
            }

            @Override
            public void synchronizeHost() {
                model.synchronizeHost();
            }
        };
    }

    /**
     * Forward and backward for one batch, without updating anything. Training: one thread at a time.
     *
     * @param x      [T, B, I], or [B, T, I] when batch-first
     * @param target as the loss expects for the head's output
     * @param loss   the loss
     * @return the loss and every parameter's gradient by name
     * @throws IllegalArgumentException if a shape does not fit the model or the loss
     * @throws IllegalStateException    if another training call on the LSTM is running
     */
    public StepResult lossAndGradients(Tensor x, Tensor target, Loss loss) {
        return lossAndGradients(x, target, loss, null, null, null);
    }

    /**
     * As {@link #lossAndGradients(Tensor, Tensor, Loss)} from given initial states over sequences
     * of different lengths (last-step heads only: an every-step loss would count the padding).
     *
     * @param x       [T, B, I], or [B, T, I] when batch-first (a view is copied once)
     * @param target  as the loss expects for the head's output
     * @param loss    the loss
     * @param h0      [L·D, B, R] or null for zeros (not batch-first, as in PyTorch)
     * @param c0      [L·D, B, H] or null for zeros
     * @param lengths [B] each in [1, T], or null for all T
     * @return the loss and every parameter's gradient by name
     * @throws IllegalArgumentException if a shape does not fit the model or the loss
     * @throws IllegalStateException    if another training call on the LSTM is running
     */
    public StepResult lossAndGradients(Tensor x, Tensor target, Loss loss, @Nullable Tensor h0, @Nullable Tensor c0,
                                       int @Nullable [] lengths) {
        if (lengths != null && head.mode() == LinearHead.Mode.EVERY_STEP) {
            throw new IllegalArgumentException("training an every-step head on sequences with lengths is not supported"
                    + " (the loss would count the padded steps); use a last-step head or full-length sequences");
        }
        synchronizeHostParameters();
        LstmOutput out = lstm.forwardTraining(x, h0, c0, lengths);
        Tensor prediction = toModelLayout(head.forward(timeMajor(out.y()), lengths));
        LossValue value = loss.compute(prediction, target);
        LinearHead.Gradients headGrads = head.backward(timeMajor(value.gradient()));
        Tensor dy = batchFirst() ? headGrads.y().swapFirstTwoAxes() : headGrads.y();
        LstmGradients lstmGrads = lstm.backward(dy, null, null);
        Map<String, Tensor> gradients = new LinkedHashMap<>(lstmGrads.parameters());
        gradients.put(LinearHead.WEIGHT, headGrads.weight());
        gradients.put(LinearHead.BIAS, headGrads.bias());
        return new StepResult(value.value(), gradients, Double.NaN);
    }

    /**
     * One training step: forward, loss, backward, optional clipping by global norm, optimizer
     * update, and {@link LstmLayer#parametersUpdated()} so that a caching backend sees the change.
     *
     * @param x           [T, B, I], or [B, T, I] when batch-first
     * @param target      as the loss expects for the head's output
     * @param loss        the loss
     * @param optimizer   updates the parameters in place
     * @param maxGradNorm clip threshold, or 0 for no clipping
     * @return the loss before the update, the gradients and their norm
     * @throws IllegalArgumentException if a shape does not fit the model or the loss
     * @throws IllegalStateException    if another training call on the LSTM is running
     */
    public StepResult trainStep(Tensor x, Tensor target, Loss loss, Optimizer optimizer, double maxGradNorm) {
        return trainStep(x, target, loss, optimizer, maxGradNorm, null, null, null);
    }

    /**
     * One training step on a dataset's batch (its lengths and initial states included), in this
     * model's layout.
     *
     * @param batch       a batch of a {@link SequenceDataset}
     * @param loss        the loss
     * @param optimizer   updates the parameters in place
     * @param maxGradNorm clip threshold, or 0 for no clipping
     * @return the loss before the update, the gradients and their norm
     * @throws IllegalArgumentException if a shape does not fit the model or the loss
     * @throws IllegalStateException    if another training call on the LSTM is running
     */
    public StepResult trainStep(SequenceDataset.Batch batch, Loss loss, Optimizer optimizer, double maxGradNorm) {
        return trainStep(input(batch), batch.target(), loss, optimizer, maxGradNorm, batch.h0(), batch.c0(),
                batch.lengths());
    }

    /**
     * One training step from given initial states over sequences of different lengths (see
     * {@link #lossAndGradients(Tensor, Tensor, Loss, Tensor, Tensor, int[])}). Such steps run on the
     * host (the device-resident step takes full-length sequences from a zero state).
     *
     * @param x       [T, B, I], or [B, T, I] when batch-first (a view is copied once)
     * @param target      as the loss expects for the head's output
     * @param loss        the loss
     * @param optimizer   updates the parameters in place
     * @param maxGradNorm clip threshold, or 0 for no clipping
     * @param h0      [L·D, B, R] or null for zeros (not batch-first, as in PyTorch)
     * @param c0      [L·D, B, H] or null for zeros
     * @param lengths [B] each in [1, T], or null for all T
     * @return the loss before the update, the gradients and their norm
     * @throws IllegalArgumentException if a shape does not fit the model or the loss
     * @throws IllegalStateException    if another training call on the LSTM is running
     */
    public StepResult trainStep(Tensor x, Tensor target, Loss loss, Optimizer optimizer, double maxGradNorm,
                                @Nullable Tensor h0, @Nullable Tensor c0, int @Nullable [] lengths) {
        java.util.Objects.requireNonNull(x, "x");
        java.util.Objects.requireNonNull(target, "target");
        java.util.Objects.requireNonNull(loss, "loss");
        java.util.Objects.requireNonNull(optimizer, "optimizer");
        boolean plain = h0 == null && c0 == null && lengths == null;
        DeviceTraining device = plain ? deviceTraining(loss, optimizer) : hostTraining(loss, optimizer);
        if (device != null) {
            // Gradients and their norm stay on the device: the result carries the loss only.
            return new StepResult(device.step(x, target, maxGradNorm), Map.of(), Double.NaN);
        }
        StepResult r = lossAndGradients(x, target, loss, h0, c0, lengths);
        double norm = Double.NaN;
        if (maxGradNorm > 0) {
            norm = GradientClipping.clipByGlobalNorm(r.gradients().values(), maxGradNorm);
        }
        optimizer.step(parameters, r.gradients());
        lstm.parametersUpdated();
        return new StepResult(r.loss(), r.gradients(), norm);
    }

    /** The device step for this loss and optimizer, opened on first use; null when they train on the host. */
    private @Nullable DeviceTraining deviceTraining(Loss loss, Optimizer optimizer) {
        if (deviceTraining != null && deviceTraining.serves(loss, optimizer)) {
            return deviceTraining;
        }
        if (loss == hostLoss && optimizer == hostOptimizer) {
            return null;
        }
        if (deviceTraining != null) {   // another loss or optimizer: hand the state back first
            deviceTraining.synchronizeHost();
            deviceTraining.close();
            deviceTraining = null;
        }
        deviceTraining = DeviceTraining.openIfSupported(this, loss, optimizer);
        if (deviceTraining == null) {
            hostLoss = loss;
            hostOptimizer = optimizer;
        }
        return deviceTraining;
    }

    /** Ends device-resident training (its state handed back to the host): the next steps run on the host. */
    private @Nullable DeviceTraining hostTraining(Loss loss, Optimizer optimizer) {
        if (deviceTraining != null) {
            deviceTraining.synchronizeHost();
            deviceTraining.close();
            deviceTraining = null;
        }
        hostLoss = loss;
        hostOptimizer = optimizer;
        return null;
    }

    /**
     * Whether training steps with this loss and optimizer run on the device (see the class comment).
     *
     * @param loss      the loss
     * @param optimizer the optimizer
     * @return true when the whole step runs on the GPU
     */
    public boolean trainsOnDevice(Loss loss, Optimizer optimizer) {
        return deviceTraining(loss, optimizer) != null;
    }

    /** A batch-first [B, T, ·] tensor as time-major [T, B, ·]; anything else unchanged. */
    private Tensor timeMajor(Tensor t) {
        return batchFirst() && t.rank() == 3 ? t.swapFirstTwoAxes() : t;
    }

    /** A time-major every-step tensor [T, B, ·] in this model's layout. */
    private Tensor toModelLayout(Tensor t) {
        return batchFirst() && t.rank() == 3 ? t.swapFirstTwoAxes() : t;
    }

    /**
     * What one step computed.
     *
     * @param loss      the batch's loss before the update
     * @param gradients by parameter name (after clipping, when clipping ran); empty when the step
     *                  ran on the device
     * @param gradNorm  the global gradient norm before clipping, NaN when not clipped or on the device
     */
    public record StepResult(double loss, Map<String, Tensor> gradients, double gradNorm) {
    }

    /** Frees the LSTM's engines and any device-resident training state. */
    @Override
    public void close() {
        try {
            if (deviceTraining != null) {
                deviceTraining.close();
                deviceTraining = null;
            }
        } finally {
            lstm.close();
        }
    }
}
