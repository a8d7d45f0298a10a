package jlstm.examples;

import jlstm.train.Adam;
import jlstm.train.LinearHead;
import jlstm.train.Loss;
import jlstm.train.LossValue;
import jlstm.train.Optimizer;
import jlstm.train.SequenceDataset;
import jlstm.train.SoftmaxCrossEntropy;
import jlstm.train.Trainable;
import jlstm.train.Trainer;

import java.util.LinkedHashMap;
import java.util.Map;

import jlstm.LstmCell;
import jlstm.Tensor;

/**
 * The seed's cell example (section 5-2): an {@link LstmCell} stepped by hand over the rows of a
 * digit (8 rows of 8 pixels for {@code digits}, 28 of 28 for {@code mnist}), a linear head on the
 * last h, softmax cross-entropy, Adam. Written with the public cell
 * API only: {@link LstmCell#stepTraining}, {@link LstmCell#backward}. docs/EXAMPLES.md shows this
 * code; {@code ExamplesDocTest} checks that the page and this file agree and runs it. As a
 * {@link Trainable} it trains with {@link Trainer#fit} like any model.
 */
public final class DigitsClassifier implements Trainable {
    // [example digits-model]
    private final LstmCell cell;      // one row of pixels in, H hidden units
    private final LinearHead head;    // the last h [B, H] → 10 class scores
    private final Optimizer optimizer;
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Loss loss = new SoftmaxCrossEntropy();

    /**
     * A new model: the cell and the head initialised from the seed, and Adam.
     *
     * @param pixels       I of the cell: the pixels of one image row
     * @param hidden       H of the cell
     * @param learningRate Adam's rate
     * @param seed         seed of the initialisation
     */
    public DigitsClassifier(int pixels, int hidden, double learningRate, long seed) {
        cell = LstmCell.initialize(pixels, hidden, true, seed);
        head = LinearHead.initialize(hidden, DigitImages.CLASSES, LinearHead.Mode.LAST_STEP, seed + 1);
        optimizer = new Adam(learningRate);
        parameters.putAll(cell.parameters());          // weight_ih, weight_hh, bias_ih, bias_hh
        parameters.put(LinearHead.WEIGHT, head.weight());
        parameters.put(LinearHead.BIAS, head.bias());
    }

    /**
     * One training step on a batch.
     *
     * @param images the rows of B images, time-major [rows, B, pixels]
     * @param labels [B] class indices
     * @return the batch's loss before the update
     */
    public double trainStep(Tensor images, Tensor labels) {
        int rows = images.dim(0), batch = images.dim(1);
        // Forward: step the cell over the rows, keeping every step for the backward pass.
        LstmCell.Step[] steps = new LstmCell.Step[rows];
        Tensor h = null, c = null;                         // zero initial state
        for (int t = 0; t < rows; t++) {
            steps[t] = cell.stepTraining(row(images, t), h, c);
            h = steps[t].h();
            c = steps[t].c();
        }
        Tensor logits = head.forward(h.reshape(1, batch, cell.hiddenSize()));   // [B, 10]
        LossValue value = loss.compute(logits, labels);

        // Backward: the head, then the cell's steps in reverse order (back-propagation through time).
        LinearHead.Gradients headGradients = head.backward(value.gradient());
        LstmCell.Gradients cellGradients = cell.newGradients();
        Tensor dh = headGradients.y().reshape(batch, cell.hiddenSize());        // d loss / d h of the last row
        Tensor dc = null;
        for (int t = rows - 1; t >= 0; t--) {
            LstmCell.StepGradients g = cell.backward(steps[t], dh, dc, cellGradients);
            dh = g.dh();
            dc = g.dc();
        }

        Map<String, Tensor> gradients = new LinkedHashMap<>(cellGradients.asMap());
        gradients.put(LinearHead.WEIGHT, headGradients.weight());
        gradients.put(LinearHead.BIAS, headGradients.bias());
        optimizer.step(parameters, gradients);
        return value.value();
    }

    /**
     * The predicted digit of each image.
     *
     * @param images time-major [rows, B, pixels]
     * @return [B] classes 0–9
     */
    public int[] predict(Tensor images) {
        int batch = images.dim(1);
        float[] logits = logits(images).data();
        int[] classes = new int[batch];
        for (int b = 0; b < batch; b++) {
            for (int k = 1; k < DigitImages.CLASSES; k++) {
                if (logits[b * DigitImages.CLASSES + k] > logits[b * DigitImages.CLASSES + classes[b]]) {
                    classes[b] = k;
                }
            }
        }
        return classes;
    }

    /** The class scores of each image: images [rows, B, pixels] → [B, 10]. */
    private Tensor logits(Tensor images) {
        int rows = images.dim(0), batch = images.dim(1);
        Tensor h = null, c = null;
        for (int t = 0; t < rows; t++) {
            LstmCell.State s = cell.step(row(images, t), h, c);
            h = s.h();
            c = s.c();
        }
        return head.apply(h.reshape(1, batch, cell.hiddenSize()));
    }

    /** Row t of every image: [B, pixels], the cell's input at step t. */
    private static Tensor row(Tensor images, int t) {
        int batch = images.dim(1), width = images.dim(2);
        float[] out = new float[batch * width];
        System.arraycopy(images.data(), t * batch * width, out, 0, out.length);
        return Tensor.of(out, batch, width);
    }
    // [end]

    /**
     * Every parameter by name.
     *
     * @return an unmodifiable map of live tensors: the cell's {@code weight_ih} … and
     *         {@code head.weight}, {@code head.bias}
     */
    public Map<String, Tensor> parameters() {
        return java.util.Collections.unmodifiableMap(parameters);
    }

    /** The optimizer (its state is saved with the parameters). */
    @Override
    public Optimizer optimizer() {
        return optimizer;
    }

    /**
     * {@link Trainable}: one step on a batch of images (x [rows, B, pixels], target [B] or [B, 1] digits).
     * Gradient clipping is not part of this example: a positive {@code maxGradNorm} is refused.
     */
    @Override
    public double trainStep(SequenceDataset.Batch batch, double maxGradNorm) {
        if (maxGradNorm > 0) {
            throw new IllegalArgumentException("DigitsClassifier does not clip gradients (maxGradNorm " + maxGradNorm
                    + "); fit it with clipGradientNorm(0)");
        }
        return trainStep(batch.x(), batch.target().reshape(batch.size()));
    }

    /** {@link Trainable}: the mean cross-entropy over a dataset of images, nothing updated. */
    @Override
    public double meanLoss(SequenceDataset data) {
        SequenceDataset.Batch all = data.all();
        return loss.compute(logits(all.x()), all.target().reshape(all.size())).value();
    }
}
