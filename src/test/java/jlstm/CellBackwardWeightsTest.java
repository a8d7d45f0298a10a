package jlstm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * {@link LstmCell#backward} differentiates the step that ran: weights changed in place after a
 * training step (announced with {@link LstmCell#parametersUpdated()}, which a CPU cell does not
 * need) do not reach its backward, whose results are bit for bit those without the change, and the
 * next step runs with them. The CPU cell here; {@code CudaCellBackwardWeightsTest} runs the same on
 * a GPU cell.
 */
class CellBackwardWeightsTest {
    static final int INPUT = 5;
    static final int HIDDEN = 7;
    static final int BATCH = 3;
    static final int STEPS = 4;

    @Test
    void cpuCellBackwardIgnoresEditsAfterItsSteps() {
        check(Device.CPU);
    }

    /**
     * On a cell of {@code device}: an unedited loop, the same loop with an edit before its backward,
     * then a step after it.
     */
    static void check(Device device) {
        LstmCell base = LstmCell.initialize(INPUT, HIDDEN, true, 11);
        LstmCell twin = LstmCell.initialize(INPUT, HIDDEN, true, 11);
        SplittableRandom random = new SplittableRandom(2);
        Tensor[] xs = new Tensor[STEPS];
        for (int t = 0; t < STEPS; t++) {
            xs[t] = random(random, BATCH, INPUT);
        }
        Tensor dh = random(random, BATCH, HIDDEN);
        try (LstmCell cell = base.on(device); LstmCell reference = twin.on(device)) {
            float[] before = cell.stepTraining(xs[0], null, null).h().data();
            float[][] unedited = loop(cell, xs, dh, false);
            float[][] edited = loop(cell, xs, dh, true);
            for (int i = 0; i < unedited.length; i++) {
                assertArrayEquals(unedited[i], edited[i], "result " + i + " of backward after the edit");
            }
            edit(twin);
            reference.parametersUpdated();
            LstmCell.Step next = cell.stepTraining(xs[0], null, null);
            assertArrayEquals(reference.stepTraining(xs[0], null, null).h().data(), next.h().data(),
                    "the next step runs with the edited weights");
            assertFalse(Arrays.equals(before, next.h().data()), "the edit changes h: the test can tell them apart");
        }
    }

    /** STEPS training steps, an edit when {@code editBeforeBackward}, then backward: dx, dh, dc, gradients. */
    private static float[][] loop(LstmCell cell, Tensor[] xs, Tensor dhLast, boolean editBeforeBackward) {
        LstmCell.Step[] steps = new LstmCell.Step[STEPS];
        Tensor h = null, c = null;
        for (int t = 0; t < STEPS; t++) {
            steps[t] = cell.stepTraining(xs[t], h, c);
            h = steps[t].h();
            c = steps[t].c();
        }
        if (editBeforeBackward) {
            edit(cell);
            cell.parametersUpdated();
        }
        LstmCell.Gradients grads = cell.newGradients();
        Tensor dh = dhLast, dc = null;
        float[][] out = new float[3 * STEPS + 4][];
        for (int t = STEPS - 1; t >= 0; t--) {
            LstmCell.StepGradients g = cell.backward(steps[t], dh, dc, grads);
            out[3 * t] = g.dx().data();
            out[3 * t + 1] = g.dh().data();
            out[3 * t + 2] = g.dc().data();
            dh = g.dh();
            dc = g.dc();
        }
        int i = 3 * STEPS;
        for (Tensor grad : grads.asMap().values()) {
            out[i++] = grad.data();
        }
        return out;
    }

    /** Changes every weight in place, as an optimizer step does (so the cell's own twin is the unedited one). */
    static void edit(LstmCell cell) {
        for (Tensor p : cell.parameters().values()) {
            float[] v = p.data();
            for (int i = 0; i < v.length; i += 2) {
                v[i] += 0.125f;
            }
        }
    }

    static Tensor random(SplittableRandom r, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return Tensor.of(v, rows, cols);
    }
}
