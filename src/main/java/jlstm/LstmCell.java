package jlstm;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

import org.jspecify.annotations.Nullable;

import jlstm.internal.Backends;
import jlstm.internal.cpu.CellMath;
import jlstm.internal.cpu.CellWeights;
import jlstm.internal.cuda.CudaBackend;
import jlstm.internal.cuda.CudaCellEngine;

/**
 * One LSTM cell, one time step (as PyTorch's {@code nn.LSTMCell}), on the CPU or, made with
 * {@link #on(Device)}, on a GPU:
 * (x_t, h_{t-1}, c_{t-1}) → (h_t, c_t).
 *
 * <pre>
 * G = x_t · W_ihᵀ + b_ih + h_{t-1} · W_hhᵀ + b_hh      G: [B, 4H] = [i | f | g | o]
 * c_t = σ(G_f) ⊙ c_{t-1} + σ(G_i) ⊙ tanh(G_g)
 * h_t = σ(G_o) ⊙ tanh(c_t)
 * </pre>
 *
 * <p><b>Training.</b> {@link #stepTraining} is a step that keeps what its backward needs (its
 * inputs and activated gates) in the {@link Step} it returns; {@link #backward} takes the gradients
 * of the loss with respect to that step's h_t and c_t and returns those with respect to x_t,
 * h_{t-1} and c_{t-1}, adding the parameter gradients into a {@link Gradients}. A loop over the
 * cells, then back over the steps, trains exactly like {@link LstmLayer}'s backward through time:
 * <pre>{@code
 * LstmCell.Step[] steps = new LstmCell.Step[T];
 * Tensor h = null, c = null;                                  // zeros
 * for (int t = 0; t < T; t++) {
 *     steps[t] = cell.stepTraining(x[t], h, c);               // x[t]: [B, I]
 *     h = steps[t].h();
 *     c = steps[t].c();
 * }
 * LstmCell.Gradients grads = cell.newGradients();             // zeros, the parameters' names and shapes
 * Tensor dh = dLossDh, dc = null;                             // d loss / d h_T (and c_T)
 * for (int t = T - 1; t >= 0; t--) {
 *     LstmCell.StepGradients g = cell.backward(steps[t], dh, dc, grads);
 *     dh = g.dh();                                            // + d loss / d h_{t-1} from an output there
 *     dc = g.dc();
 * }
 * }</pre>
 *
 * <p><b>Weights changed during a pass.</b> A {@link Step} keeps the W_ih and W_hh it ran with (copies,
 * shared by the steps taken while the weights stay the same; a CPU step compares the weights
 * with them, one vectorised compare, and keeps them laid out for its products), so its {@link #backward} differentiates that step even when the weights
 * were changed in place since; the next step runs with the changed ones (on a GPU cell after
 * {@link #parametersUpdated()}).
 *
 * <p>Threads: a cell keeps nothing between calls but that copy of its weights (each step allocates
 * its own outputs; steps and gradients belong to the caller), so one cell may step, and serve
 * several training loops, from
 * many threads at once, as long as nobody changes its weights meanwhile (a GPU cell serialises
 * its calls).
 */
public final class LstmCell implements AutoCloseable {
    private final int inputSize;
    private final int hiddenSize;
    private final Tensor weightIh;  // [4H, I]
    private final Tensor weightHh;  // [4H, H]
    private final Tensor biasIh;    // [4H] or null
    private final Tensor biasHh;    // [4H] or null
    private final Map<String, Tensor> parameters; // by name, in PyTorch's order
    private final CudaCellEngine cuda;            // the GPU this cell's steps run on, or null (the CPU)
    /**
     * CPU: the weights the last step ran with, copied into the layouts of the fast products
     * (immutable), shared by the steps since; null before the first step.
     */
    private volatile @Nullable CellWeights ranWith;

    /**
     * A cell over existing weights (not copied), named as {@code nn.LSTMCell}'s parameters
     * ({@code weight_ih}, {@code weight_hh}, {@code bias_ih}, {@code bias_hh}).
     *
     * @param inputSize  I, the width of x_t, ≥ 1
     * @param hiddenSize H, the width of h_t and c_t, ≥ 1
     * @param weightIh   W_ih [4H, I], row-major, gates i, f, g, o (aliased: the cell reads it at each step)
     * @param weightHh   W_hh [4H, H] (aliased)
     * @param biasIh     b_ih [4H], or null for no bias (then {@code biasHh} is null too)
     * @param biasHh     b_hh [4H], or null for no bias
     * @throws IllegalArgumentException if a size is below 1, an array's length does not fit its
     *                                  shape, or one bias is given without the other
     * @throws NullPointerException     if a weight array is null
     */
    public LstmCell(int inputSize, int hiddenSize, float[] weightIh, float[] weightHh, float @Nullable [] biasIh,
                    float @Nullable [] biasHh) {
        this(inputSize, hiddenSize, weightIh, weightHh, biasIh, biasHh, "");
    }

    private LstmCell(int inputSize, int hiddenSize, float[] weightIh, float[] weightHh, float @Nullable [] biasIh,
                     float @Nullable [] biasHh, String suffix) {
        Objects.requireNonNull(weightIh, "weightIh");
        Objects.requireNonNull(weightHh, "weightHh");
        if (inputSize < 1 || hiddenSize < 1) {
            throw new IllegalArgumentException("inputSize and hiddenSize must be ≥ 1");
        }
        check("weightIh", weightIh, 4L * hiddenSize * inputSize);
        check("weightHh", weightHh, 4L * hiddenSize * hiddenSize);
        if ((biasIh == null) != (biasHh == null)) {
            throw new IllegalArgumentException("biasIh and biasHh must be both given or both null");
        }
        if (biasIh != null) {
            check("biasIh", biasIh, 4L * hiddenSize);
            check("biasHh", biasHh, 4L * hiddenSize);
        }
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        int gates = 4 * hiddenSize;
        this.weightIh = Tensor.of(weightIh, gates, inputSize);
        this.weightHh = Tensor.of(weightHh, gates, hiddenSize);
        this.biasIh = biasIh == null ? null : Tensor.of(biasIh, gates);
        this.biasHh = biasHh == null ? null : Tensor.of(biasHh, gates);
        Map<String, Tensor> named = new LinkedHashMap<>();
        named.put("weight_ih" + suffix, this.weightIh);
        named.put("weight_hh" + suffix, this.weightHh);
        if (biasIh != null) {
            named.put("bias_ih" + suffix, this.biasIh);
            named.put("bias_hh" + suffix, this.biasHh);
        }
        this.parameters = Collections.unmodifiableMap(named);
        this.cuda = null;
    }

    /** The same cell (its weights and names), stepping on a GPU. */
    private LstmCell(LstmCell cpu, CudaCellEngine cuda) {
        this.inputSize = cpu.inputSize;
        this.hiddenSize = cpu.hiddenSize;
        this.weightIh = cpu.weightIh;
        this.weightHh = cpu.weightHh;
        this.biasIh = cpu.biasIh;
        this.biasHh = cpu.biasHh;
        this.parameters = cpu.parameters;
        this.cuda = cuda;
    }

    /**
     * This cell on a device: {@link Device#CPU} (or {@link Device#AUTO} without a usable GPU) gives
     * a CPU cell; {@link Device#CUDA}, {@code Device.cuda(n)} (or AUTO with a GPU) a cell sharing these
     * weights whose steps and backward steps run on that GPU (kernels and cuBLAS, on the device all
     * cells of that GPU's backend share). Its
     * weights stay on the device: call {@link #parametersUpdated()} after changing them. A step
     * moves x_t in and h_t, c_t out (h_{t-1}, c_{t-1} stay on the device when they are the last
     * step's outputs, unchanged); {@link LstmLayer} stays the fast way through a whole sequence.
     * Close a GPU cell to free its device memory; its calls are serialised.
     *
     * @param device where the new cell's steps run
     * @return a CPU cell sharing these weights, or a GPU cell that must be closed
     * @throws IllegalStateException if the device asked for is not usable (the message says why)
     */
    public LstmCell on(Device device) {
        Objects.requireNonNull(device, "device");
        LstmCell cpu = cuda == null ? this : new LstmCell(this, null);
        if (!(Backends.select(device) instanceof CudaBackend gpu)) {
            return cpu;
        }
        return new LstmCell(cpu, new CudaCellEngine(gpu, inputSize, hiddenSize, weightIh.data(), weightHh.data(),
                biasIh == null ? null : biasIh.data(), biasHh == null ? null : biasHh.data()));
    }

    /**
     * Tells a GPU cell that its weights changed (an optimizer step updated {@link #parameters()} in
     * place): it uploads them before its next step (the backward of a step made before still runs
     * with that step's weights). A GPU cell keeps its weights on the device and does not look at the
     * host arrays otherwise; nothing to do for a CPU cell.
     */
    public void parametersUpdated() {
        if (cuda != null) {
            cuda.parametersUpdated();
        }
    }

    /** Device allocations of a GPU cell so far (tests: none per step after the first of a batch size); 0 on the CPU. */
    long deviceAllocations() {
        return cuda == null ? 0 : cuda.deviceAllocations();
    }

    /**
     * Where this cell's steps run.
     *
     * @return {@code cpu} or {@code cuda}
     */
    public String deviceName() {
        return cuda == null ? "cpu" : "cuda";
    }

    /** Frees the GPU memory of a CUDA cell; nothing for a CPU cell. Idempotent. */
    @Override
    public void close() {
        if (cuda != null) {
            cuda.close();
        }
    }

    /**
     * A new cell with its own parameters, as {@code torch.nn.LSTMCell(I, H, bias)}: every parameter
     * from U(−1/√H, 1/√H), seeded (the same seed gives the same weights; not PyTorch's RNG stream).
     *
     * @param inputSize  I, ≥ 1
     * @param hiddenSize H, ≥ 1
     * @param bias       whether the cell has {@code bias_ih} and {@code bias_hh}
     * @param seed       seed of the draw
     * @return a new CPU cell
     * @throws IllegalArgumentException if a size is below 1
     */
    public static LstmCell initialize(int inputSize, int hiddenSize, boolean bias, long seed) {
        if (inputSize < 1 || hiddenSize < 1) {
            throw new IllegalArgumentException("inputSize and hiddenSize must be ≥ 1");
        }
        SplittableRandom random = new SplittableRandom(seed);
        double bound = 1.0 / Math.sqrt(hiddenSize);
        int gates = 4 * hiddenSize;
        float[][] arrays = {new float[gates * inputSize], new float[gates * hiddenSize],
                bias ? new float[gates] : null, bias ? new float[gates] : null};
        for (float[] a : arrays) {
            for (int i = 0; a != null && i < a.length; i++) {
                a[i] = (float) random.nextDouble(-bound, bound);
            }
        }
        return new LstmCell(inputSize, hiddenSize, arrays[0], arrays[1], arrays[2], arrays[3]);
    }

    /**
     * The cell of one layer and direction of a layer's parameters, sharing their weights (so an
     * optimizer step on either is seen by both); its parameters keep the layer's names
     * ({@code weight_ih_l0}, …). Models with a projection have no cell (nor has PyTorch).
     *
     * @param p         the layer's parameters
     * @param layer     k in [0, L)
     * @param direction 0 forward, 1 reverse (only for a bidirectional model)
     * @return a CPU cell over those weights
     * @throws IllegalArgumentException if the model has a projection, or the layer or direction
     *                                  does not exist
     */
    public static LstmCell of(LstmParameters p, int layer, int direction) {
        LstmConfig c = p.config();
        if (c.projSize() > 0) {
            throw new IllegalArgumentException("LstmCell has no projection (as torch.nn.LSTMCell); " + c
                    + " has proj_size " + c.projSize());
        }
        return new LstmCell(c.layerInputSize(layer), c.hiddenSize(), p.weightIh(layer, direction),
                p.weightHh(layer, direction), p.biasIh(layer, direction), p.biasHh(layer, direction),
                "_" + LstmConfig.suffix(layer, direction));
    }

    /**
     * The state after one step.
     *
     * @param h h_t [B, H]
     * @param c c_t [B, H]
     */
    public record State(Tensor h, Tensor c) {
    }

    /**
     * One step.
     *
     * @param x input at this step [B, I], B ≥ 1 (a view is copied once)
     * @param h previous hidden state [B, H], or null for zeros
     * @param c previous cell state [B, H], or null for zeros
     * @return h_t and c_t [B, H], new tensors
     * @throws IllegalArgumentException if a shape disagrees with the cell (the message says which)
     * @throws NullPointerException     if {@code x} is null
     */
    public State step(Tensor x, @Nullable Tensor h, @Nullable Tensor c) {
        Step s = run(x, h, c, false);
        return new State(s.h, s.c);
    }

    /**
     * One step in training mode: the same h_t and c_t as {@link #step}, and what {@link #backward}
     * needs, kept in the returned {@link Step} (copies: the caller may reuse its tensors).
     *
     * @param x input at this step [B, I], B ≥ 1 (a view is copied once)
     * @param h previous hidden state [B, H], or null for zeros
     * @param c previous cell state [B, H], or null for zeros
     * @return the step: h_t, c_t and what its backward needs
     * @throws IllegalArgumentException if a shape disagrees with the cell (the message says which)
     * @throws NullPointerException     if {@code x} is null
     */
    public Step stepTraining(Tensor x, @Nullable Tensor h, @Nullable Tensor c) {
        return run(x, h, c, true);
    }

    private Step run(Tensor x, @Nullable Tensor h, @Nullable Tensor c, boolean training) {
        Objects.requireNonNull(x, "x");
        if (x.rank() != 2 || x.dim(1) != inputSize || x.dim(0) < 1) {
            throw new IllegalArgumentException("x has shape " + x.shapeString() + ", expected [B, " + inputSize + "]");
        }
        int batch = x.dim(0);
        int gates = 4 * hiddenSize;
        requireState("state", h, batch);
        requireState("state", c, batch);
        x = x.dense(); // the engines read whole arrays: a view is copied once
        h = h == null ? null : h.dense();
        c = c == null ? null : c.dense();
        if (cuda != null) {
            float[] activated = training ? new float[batch * gates] : null;   // only backward reads them
            Tensor hOut = Tensor.zeros(batch, hiddenSize);
            Tensor cOut = Tensor.zeros(batch, hiddenSize);
            float[][] ranWith = cuda.forward(batch, x.data(), h == null ? null : h.data(),
                    c == null ? null : c.data(), activated, cOut.data(), hOut.data());
            return new Step(this, batch, ranWith, null, x.data().clone(), h == null ? null : h.data().clone(),
                    c == null ? null : c.data().clone(), activated, cOut.data().clone(), hOut, cOut);
        }
        // Every step runs with a copy of the weights (the products' layouts); a training step keeps
        // it, so that its backward uses the weights it ran with.
        CellWeights weights = currentWeights();
        float[] g = new float[batch * gates];
        CellMath.addBiases(g, batch, gates, biasIh == null ? null : biasIh.data(), biasHh == null ? null : biasHh.data());
        weights.addGates(batch, weights.inputs(batch, x.data(), h == null ? null : h.data()), h != null, g);
        Tensor hOut = Tensor.zeros(batch, hiddenSize);
        Tensor cOut = Tensor.zeros(batch, hiddenSize);
        CellMath.forwardPointwise(batch, hiddenSize, g, 0, c == null ? null : c.data(), 0, hiddenSize,
                cOut.data(), 0, hOut.data(), 0, hiddenSize);
        return new Step(this, batch, null, training ? weights : null, x.data().clone(), h == null ? null : h.data().clone(),
                c == null ? null : c.data().clone(), g, cOut.data().clone(), hOut, cOut);
    }

    /**
     * Copies of W_ih and W_hh equal to the weights now, in the fast products' layouts: those of the
     * last step while the weights stayed the same (one vectorised compare a step), else new ones
     * (published through the volatile field; a copy is never changed, so steps share it). Two
     * threads that find the weights changed may both copy them; either copy is right.
     */
    private CellWeights currentWeights() {
        CellWeights copies = ranWith;
        float[] ih = weightIh.data(), hh = weightHh.data();
        if (copies == null || !copies.holds(ih, hh)) {
            copies = new CellWeights(inputSize, hiddenSize, ih, hh);
            ranWith = copies;
        }
        return copies;
    }

    /**
     * A step taken in training mode: its outputs, and the inputs and activated gates that its
     * backward needs (private to the cell that made it).
     */
    public static final class Step {
        private final LstmCell cell;
        private final int batch;
        private final float[][] weights; // GPU: {W_ih, W_hh} the step ran with (copies, never changed); else null
        private final CellWeights cpuWeights; // CPU: the weights the step ran with (never changed); else null
        private final float[] x;      // [B, I]
        private final float[] hPrev;  // [B, H] or null (zeros)
        private final float[] cPrev;  // [B, H] or null (zeros)
        private final float[] gates;  // [B, 4H]: activated i, f, g, o
        private final float[] cellState;  // [B, H]: c_t (a copy: the caller may change the returned c)
        private final Tensor h;
        private final Tensor c;

        private Step(LstmCell cell, int batch, float[][] weights, CellWeights cpuWeights, float[] x, float[] hPrev, float[] cPrev,
                     float[] gates, float[] cellState, Tensor h, Tensor c) {
            this.cell = cell;
            this.batch = batch;
            this.weights = weights;
            this.cpuWeights = cpuWeights;
            this.x = x;
            this.hPrev = hPrev;
            this.cPrev = cPrev;
            this.gates = gates;
            this.cellState = cellState;
            this.h = h;
            this.c = c;
        }

        /**
         * The step's new hidden state.
         *
         * @return h_t [B, H]
         */
        public Tensor h() {
            return h;
        }

        /**
         * The step's new cell state.
         *
         * @return c_t [B, H]
         */
        public Tensor c() {
            return c;
        }

        /**
         * The batch size of this step.
         *
         * @return B
         */
        public int batch() {
            return batch;
        }
    }

    /**
     * What one step's backward returns: the gradients of the loss with respect to the step's
     * inputs.
     *
     * @param dx d loss / d x_t [B, I]
     * @param dh d loss / d h_{t-1} [B, H] (through this step; add any other use of h_{t-1})
     * @param dc d loss / d c_{t-1} [B, H]
     */
    public record StepGradients(Tensor dx, Tensor dh, Tensor dc) {
    }

    /**
     * Back-propagates through one training step, with the weights that step ran with (also when
     * they were changed in place since):
     * <pre>
     * dc  = dc_t + dh_t ⊙ o ⊙ (1 − tanh²(c_t))
     * dG  = [dc ⊙ g ⊙ i(1−i) | dc ⊙ c_{t-1} ⊙ f(1−f) | dc ⊙ i ⊙ (1−g²) | dh_t ⊙ tanh(c_t) ⊙ o(1−o)]
     * dx_t = dG · W_ih     dh_{t-1} = dG · W_hh     dc_{t-1} = dc ⊙ f
     * dW_ih += dGᵀ · x_t   dW_hh += dGᵀ · h_{t-1}   db_ih += Σ_b dG   db_hh += Σ_b dG
     * </pre>
     *
     * @param step      a step made by this cell's {@link #stepTraining}
     * @param dh        d loss / d h_t [B, H] (everything that reaches h_t), or null for zeros
     * @param dc        d loss / d c_t [B, H] from later steps, or null for zeros
     * @param gradients accumulators for this cell's parameters ({@link #newGradients()}); added to
     * @return the gradients with respect to x_t, h_{t-1} and c_{t-1}, new tensors
     * @throws IllegalArgumentException if the step or the gradients were made by another cell, or
     *                                  a shape is wrong
     * @throws NullPointerException     if {@code step} or {@code gradients} is null
     */
    public StepGradients backward(Step step, @Nullable Tensor dh, @Nullable Tensor dc, Gradients gradients) {
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(gradients, "gradients");
        if ((step.cell != this && step.cell.parameters != parameters)) {
            throw new IllegalArgumentException("backward needs a Step made by this cell's stepTraining");
        }
        if ((gradients.cell != this && gradients.cell.parameters != parameters)) {
            throw new IllegalArgumentException("backward needs gradients made by this cell's newGradients()");
        }
        int batch = step.batch, hidden = hiddenSize, gates = 4 * hidden;
        requireState("dh", dh, batch);
        requireState("dc", dc, batch);
        dh = dh == null ? null : dh.dense();
        dc = dc == null ? null : dc.dense();
        if (cuda != null) {
            Tensor dx = Tensor.zeros(batch, inputSize);
            Tensor dhPrev = Tensor.zeros(batch, hidden);
            Tensor dcPrev = Tensor.zeros(batch, hidden);
            cuda.backward(step.weights[0], step.weights[1], batch, step.x, step.hPrev, step.cPrev, step.gates,
                    step.cellState,
                    dh == null ? null : dh.data(), dc == null ? null : dc.data(), dx.data(), dhPrev.data(),
                    dcPrev.data(), gradients.weightIh.data(), gradients.weightHh.data(),
                    gradients.biasIh == null ? null : gradients.biasIh.data(),
                    gradients.biasHh == null ? null : gradients.biasHh.data());
            return new StepGradients(dx, dhPrev, dcPrev);
        }
        float[] dG = new float[batch * gates];
        float[] dcCarry = dc == null ? new float[batch * hidden] : dc.data().clone(); // in: dc_t; out: dc_{t-1}
        CellMath.backwardPointwise(batch, hidden, step.gates, 0, step.cellState, 0, step.cPrev, 0,
                dh == null ? new float[batch * hidden] : dh.data(), 0, hidden, new float[batch * hidden], dcCarry,
                dG, 0);
        Tensor dx = Tensor.zeros(batch, inputSize);
        Tensor dhPrev = Tensor.zeros(batch, hidden);
        CellWeights weights = step.cpuWeights;
        float[][] dGRows = CellWeights.rows(dG, batch, gates);
        weights.addInputGradients(batch, dGRows, dx.data(), dhPrev.data());
        // h_{t-1} = 0 adds nothing to dW_hh
        weights.addWeightGradients(batch, dGRows, weights.inputs(batch, step.x, step.hPrev), step.hPrev != null,
                gradients.weightIh.data(), gradients.weightHh.data());
        if (biasIh != null) {
            float[] dbIh = gradients.biasIh.data(), dbHh = gradients.biasHh.data();
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < gates; j++) {
                    dbIh[j] += dG[b * gates + j];
                    dbHh[j] += dG[b * gates + j];
                }
            }
        }
        return new StepGradients(dx, dhPrev, Tensor.of(dcCarry, batch, hidden));
    }

    /**
     * Zero gradient accumulators for this cell's parameters (the same names and shapes).
     *
     * @return new accumulators, for {@link #backward}
     */
    public Gradients newGradients() {
        return new Gradients(this);
    }

    /**
     * Accumulated gradients of a cell's parameters, filled by {@link #backward}; {@link #asMap()}
     * names them as {@link #parameters()} does, which is what an optimizer step takes.
     */
    public static final class Gradients {
        private final LstmCell cell;
        private final Tensor weightIh; // [4H, I]
        private final Tensor weightHh; // [4H, H]
        private final Tensor biasIh;   // [4H] or null
        private final Tensor biasHh;   // [4H] or null
        private final Map<String, Tensor> named;

        private Gradients(LstmCell cell) {
            this.cell = cell;
            Map<String, Tensor> byName = new LinkedHashMap<>();
            cell.parameters.forEach((name, p) -> byName.put(name, Tensor.zeros(p.shape())));
            this.named = Collections.unmodifiableMap(byName);
            java.util.Iterator<Tensor> it = byName.values().iterator();
            this.weightIh = it.next();
            this.weightHh = it.next();
            this.biasIh = cell.biasIh == null ? null : it.next();
            this.biasHh = cell.biasHh == null ? null : it.next();
        }

        /**
         * The gradients by parameter name.
         *
         * @return an unmodifiable map, name → gradient (live tensors, the parameters' shapes), in
         *         the parameters' order
         */
        public Map<String, Tensor> asMap() {
            return named;
        }

        /** Sets every gradient back to zero (to start the next batch). */
        public void zero() {
            for (Tensor t : named.values()) {
                java.util.Arrays.fill(t.data(), 0f);
            }
        }
    }

    /**
     * The parameters by name (live tensors: an optimizer updates them in place): {@code weight_ih}
     * [4H, I], {@code weight_hh} [4H, H], {@code bias_ih}, {@code bias_hh} [4H] as in
     * {@code nn.LSTMCell}, or the layer's names for a cell made by {@link #of}.
     *
     * @return an unmodifiable map in PyTorch's order
     */
    public Map<String, Tensor> parameters() {
        return parameters;
    }

    /**
     * The input width.
     *
     * @return I
     */
    public int inputSize() {
        return inputSize;
    }

    /**
     * The hidden width.
     *
     * @return H
     */
    public int hiddenSize() {
        return hiddenSize;
    }

    private void requireState(String what, Tensor s, int batch) {
        if (s != null && !s.hasShape(batch, hiddenSize)) {
            throw new IllegalArgumentException(what + " has shape " + s.shapeString() + ", expected [" + batch + ", "
                    + hiddenSize + "]");
        }
    }

    private static void check(String what, float[] a, long expected) {
        if (a == null || a.length != expected) {
            throw new IllegalArgumentException(what + " must hold " + expected + " values, got "
                    + (a == null ? "null" : a.length));
        }
    }
}
