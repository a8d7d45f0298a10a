package jlstm;

import static jlstm.TensorAssert.PYTORCH_RELATIVE_TOLERANCE;
import static jlstm.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import jlstm.internal.Backends;
import jlstm.io.Safetensors;

/**
 * {@link LstmCell} trains: its training step and backward, looped by hand over a sequence, give
 * (1) exactly what {@code torch.nn.LSTMCell} stepped by hand in Python gives, every gradient
 * included (golden cases of {@code tools/make_cell_golden.py}), and (2) exactly what
 * {@link LstmLayer}'s backward through time gives for the same sequence, through stacked and
 * bidirectional layers.
 */
class CellTrainingTest {
    /** The cell and the layer sum their products in different orders: float32 rounding, ~1e-7; 1e-5 leaves margin. */
    private static final double CELL_VS_LAYER_TOLERANCE = 1e-5;

    /** Where the cells under test step ({@link CudaCellTrainingTest} runs the same on CUDA). */
    Device device() {
        return Device.CPU;
    }

    static Stream<Path> goldenCases() {
        try {
            Path root = Path.of(CellTrainingTest.class.getClassLoader().getResource("golden-cell").toURI());
            try (Stream<Path> folders = Files.list(root)) {
                List<Path> cases = folders.filter(p -> Files.isRegularFile(p.resolve("meta.json"))).sorted().toList();
                if (cases.isEmpty()) {
                    throw new IllegalStateException("no cases under " + root);
                }
                return cases.stream();
            }
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException("cannot list src/test/resources/golden-cell", e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenCases")
    void handWrittenCellLoopMatchesTorchLstmCell(Path folder) throws IOException {
        String name = folder.getFileName().toString();
        Map<String, Tensor> p = Safetensors.readFloatTensors(folder.resolve("cell.safetensors"));
        Map<String, Tensor> in = Safetensors.readFloatTensors(folder.resolve("input.safetensors"));
        Map<String, Tensor> expected = Safetensors.readFloatTensors(folder.resolve("expected.safetensors"));
        Tensor wIh = p.get("weight_ih");
        int hidden = wIh.dim(0) / 4, input = wIh.dim(1);
        LstmCell cell = new LstmCell(input, hidden, wIh.data(), p.get("weight_hh").data(),
                p.containsKey("bias_ih") ? p.get("bias_ih").data() : null,
                p.containsKey("bias_hh") ? p.get("bias_hh").data() : null).on(device());
        assertEquals(device() == Device.CUDA ? "cuda" : "cpu", cell.deviceName());
        Tensor x = in.get("x");
        int steps = x.dim(0), batch = x.dim(1);

        // Forward, step by step, keeping each step for its backward.
        LstmCell.Step[] trace = new LstmCell.Step[steps];
        Tensor h = in.get("h0"), c = in.get("c0");
        if (h == null && c != null || h != null && c == null) {
            throw new IllegalStateException(name + ": expected both h0 and c0 or neither");
        }
        Tensor hs = Tensor.zeros(steps, batch, hidden), cs = Tensor.zeros(steps, batch, hidden);
        for (int t = 0; t < steps; t++) {
            trace[t] = cell.stepTraining(slice(x, t), h, c);
            h = trace[t].h();
            c = trace[t].c();
            put(hs, t, h);
            put(cs, t, c);
        }
        assertClose(name + " h", expected.get("h"), hs, PYTORCH_RELATIVE_TOLERANCE);
        assertClose(name + " c", expected.get("c"), cs, PYTORCH_RELATIVE_TOLERANCE);

        // Backward, step by step: gh[t], gc[t] arrive from outside the loop, the rest from step t + 1.
        LstmCell.Gradients grads = cell.newGradients();
        Tensor dx = Tensor.zeros(steps, batch, input);
        Tensor dh = null, dc = null;
        for (int t = steps - 1; t >= 0; t--) {
            LstmCell.StepGradients g = cell.backward(trace[t], add(slice(in.get("gh"), t), dh),
                    add(slice(in.get("gc"), t), dc), grads);
            put(dx, t, g.dx());
            dh = g.dh();
            dc = g.dc();
        }
        assertClose(name + " dx", expected.get("dx"), dx, PYTORCH_RELATIVE_TOLERANCE);
        if (expected.containsKey("dh0")) {
            assertClose(name + " dh0", expected.get("dh0"), dh, PYTORCH_RELATIVE_TOLERANCE);
            assertClose(name + " dc0", expected.get("dc0"), dc, PYTORCH_RELATIVE_TOLERANCE);
        }
        assertEquals(p.keySet(), grads.asMap().keySet(), "gradients carry nn.LSTMCell's names");
        for (String param : p.keySet()) {
            assertClose(name + " grad." + param, expected.get("grad." + param), grads.asMap().get(param),
                    PYTORCH_RELATIVE_TOLERANCE);
        }
        cell.close();
    }

    @Test
    void unrolledCellsTrainExactlyLikeTheLayer() {
        // 2 bidirectional layers with every optional input: the hardest case for a hand-written loop.
        LstmConfig config = LstmConfig.of(3, 5).withLayers(2).withBidirectional(true);
        LstmParameters params = LstmParameters.initialize(config, 8);
        int steps = 6, batch = 3, slots = 4, hidden = 5;
        SplittableRandom random = new SplittableRandom(9);
        Tensor x = random(random, steps, batch, 3);
        Tensor h0 = random(random, slots, batch, hidden), c0 = random(random, slots, batch, hidden);
        Tensor dy = random(random, steps, batch, 2 * hidden);
        Tensor dhn = random(random, slots, batch, hidden), dcn = random(random, slots, batch, hidden);

        LstmGradients expected;
        LstmOutput layerOut;
        try (LstmLayer layer = LstmLayer.create(params, Backends.cpu())) {
            layerOut = layer.forwardTraining(x, h0, c0);
            expected = layer.backward(dy, dhn, dcn);
        }

        // The same network as a hand-written loop over cells, forward then backward through time.
        Tensor[] layerInputs = new Tensor[3];
        layerInputs[0] = x;
        LstmCell.Step[][][] trace = new LstmCell.Step[2][2][steps]; // [layer][direction][t]
        LstmCell[][] cells = new LstmCell[2][2];
        for (int k = 0; k < 2; k++) {
            Tensor out = Tensor.zeros(steps, batch, 2 * hidden);
            for (int d = 0; d < 2; d++) {
                cells[k][d] = LstmCell.of(params, k, d).on(device());
                Tensor h = slice(h0, k * 2 + d), c = slice(c0, k * 2 + d);
                for (int n = 0; n < steps; n++) {
                    int t = d == 0 ? n : steps - 1 - n;
                    trace[k][d][t] = cells[k][d].stepTraining(slice(layerInputs[k], t), h, c);
                    h = trace[k][d][t].h();
                    c = trace[k][d][t].c();
                    putColumns(out, t, h, d * hidden);
                }
            }
            layerInputs[k + 1] = out;
        }
        assertClose("y", layerOut.y(), layerInputs[2], CELL_VS_LAYER_TOLERANCE);

        Map<String, Tensor> grads = new LinkedHashMap<>();
        Tensor dh0 = Tensor.zeros(slots, batch, hidden), dc0 = Tensor.zeros(slots, batch, hidden);
        Tensor dOut = dy; // gradient of layer k's output [T, B, 2H]
        for (int k = 1; k >= 0; k--) {
            Tensor dIn = Tensor.zeros(steps, batch, k == 0 ? 3 : 2 * hidden);
            for (int d = 0; d < 2; d++) {
                LstmCell cell = cells[k][d];
                LstmCell.Gradients g = cell.newGradients();
                Tensor dh = slice(dhn, k * 2 + d), dc = slice(dcn, k * 2 + d);
                for (int n = steps - 1; n >= 0; n--) { // the reverse of the order the steps were taken
                    int t = d == 0 ? n : steps - 1 - n;
                    LstmCell.StepGradients s = cell.backward(trace[k][d][t], add(columns(dOut, t, d * hidden, hidden),
                            dh), dc, g);
                    addInto(dIn, t, s.dx());
                    dh = s.dh();
                    dc = s.dc();
                }
                put(dh0, k * 2 + d, dh);
                put(dc0, k * 2 + d, dc);
                grads.putAll(g.asMap());
            }
            dOut = dIn;
        }
        assertClose("dx", expected.dx(), dOut, CELL_VS_LAYER_TOLERANCE);
        assertClose("dh0", expected.dh0(), dh0, CELL_VS_LAYER_TOLERANCE);
        assertClose("dc0", expected.dc0(), dc0, CELL_VS_LAYER_TOLERANCE);
        assertEquals(new java.util.TreeSet<>(config.parameterNames()), new java.util.TreeSet<>(grads.keySet()),
                "cells of a layer keep its names");
        for (String name : config.parameterNames()) {
            assertClose("grad." + name, expected.parameter(name), grads.get(name), CELL_VS_LAYER_TOLERANCE);
        }
        for (LstmCell[] row : cells) {
            for (LstmCell cell : row) {
                cell.close();
            }
        }
    }

    @Test
    void backwardRejectsStepsAndGradientsOfAnotherCell() {
        LstmCell a = LstmCell.initialize(3, 4, true, 1), b = LstmCell.initialize(3, 4, true, 2);
        LstmCell.Step step = a.stepTraining(Tensor.zeros(2, 3), null, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.backward(step, null, null, b.newGradients()));
        assertEquals("backward needs a Step made by this cell's stepTraining", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.backward(step, null, null, b.newGradients()));
        assertEquals("backward needs gradients made by this cell's newGradients()", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> a.backward(step, Tensor.zeros(3, 4), null, a.newGradients()));
        assertEquals("dh has shape [3, 4], expected [2, 4]", e.getMessage());
    }

    @Test
    void initializeLooksLikeTorchLstmCell() {
        LstmCell cell = LstmCell.initialize(3, 4, true, 7);
        assertEquals(List.of("weight_ih", "weight_hh", "bias_ih", "bias_hh"), List.copyOf(cell.parameters().keySet()));
        double bound = 1 / Math.sqrt(4);
        for (Tensor t : cell.parameters().values()) {
            for (float v : t.data()) {
                assertEquals(0, v, bound, "U(-1/sqrt(H), 1/sqrt(H))");
            }
        }
        assertEquals(List.of("weight_ih", "weight_hh"), List.copyOf(LstmCell.initialize(3, 4, false, 7)
                .parameters().keySet()));
    }

    // ---------------------------------------------------------------- helpers on [T, B, ·] tensors

    /** Row block i of a rank-3 tensor as a [dim1, dim2] copy. */
    static Tensor slice(Tensor t, int i) {
        int rows = t.dim(1), cols = t.dim(2);
        float[] out = new float[rows * cols];
        System.arraycopy(t.data(), i * rows * cols, out, 0, out.length);
        return Tensor.of(out, rows, cols);
    }

    /** Columns [col0, col0 + width) of block t of a rank-3 tensor, as [B, width]. */
    private static Tensor columns(Tensor t, int i, int col0, int width) {
        int rows = t.dim(1), cols = t.dim(2);
        Tensor out = Tensor.zeros(rows, width);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(t.data(), (i * rows + r) * cols + col0, out.data(), r * width, width);
        }
        return out;
    }

    private static void put(Tensor t, int i, Tensor block) {
        System.arraycopy(block.data(), 0, t.data(), i * block.numel(), block.numel());
    }

    private static void putColumns(Tensor t, int i, Tensor block, int col0) {
        int rows = block.dim(0), width = block.dim(1), cols = t.dim(2);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(block.data(), r * width, t.data(), (i * rows + r) * cols + col0, width);
        }
    }

    private static void addInto(Tensor t, int i, Tensor block) {
        float[] d = t.data(), b = block.data();
        for (int j = 0; j < b.length; j++) {
            d[i * b.length + j] += b[j];
        }
    }

    /** a + b (b may be null); a new tensor. */
    private static Tensor add(Tensor a, Tensor b) {
        Tensor out = a.copy();
        if (b != null) {
            for (int j = 0; j < out.numel(); j++) {
                out.data()[j] += b.data()[j];
            }
        }
        return out;
    }

    private static Tensor random(SplittableRandom random, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) random.nextDouble(-1, 1);
        }
        return t;
    }

    static {
        // fail early, with the reason, if the resources are missing
        if (CellTrainingTest.class.getClassLoader().getResource("golden-cell") == null) {
            throw new UncheckedIOException(new IOException("no golden-cell/ on the test class path "
                    + "(src/test/resources/golden-cell, written by tools/make_cell_golden.py)"));
        }
    }
}
