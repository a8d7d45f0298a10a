package jlstm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;
import jlstm.train.LinearHead;
import jlstm.train.MeanSquaredError;
import jlstm.train.SequenceDataset;

/**
 * {@link Tensor#view} and {@link Tensor#of(FloatBuffer, int...)}: views alias their storage (no
 * copy), bad offsets and sizes are refused with the numbers in the message and change nothing, and
 * the library's calls give a view exactly the results of the same values in a dense tensor.
 */
class TensorViewTest {

    /** 0, 1, 2, … n−1. */
    private static float[] ramp(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextDouble(-1, 1);
        }
        return a;
    }

    @Test
    void aViewOverASliceAliasesTheArray() {
        float[] array = ramp(20);
        Tensor t = Tensor.view(array, 5, 2, 3);          // elements 5 … 10
        assertArrayEquals(new int[] {2, 3}, t.shape());
        assertEquals(6, t.numel());
        assertArrayEquals(new float[] {5, 6, 7, 8, 9, 10}, t.toArray());
        assertFalse(t.isDense());

        array[7] = -1;                                     // the array's writes reach the view …
        assertEquals(-1, t.get(2));
        t.set(5, 42);                                      // … and the view's reach the array
        assertEquals(42, array[10]);
        assertEquals(11, array[11], "the element after the view is untouched");
        assertEquals(4, array[4], "the element before the view is untouched");

        Tensor flat = t.reshape(6);                        // a reshaped view shares the storage too
        flat.set(0, 100);
        assertEquals(100, array[5]);
        assertEquals(100, t.get(0));
    }

    @Test
    void aViewIsNotDenseSoDataRefusesItAndDenseCopiesIt() {
        float[] array = ramp(10);
        Tensor t = Tensor.view(array, 1, 4);
        IllegalStateException e = assertThrows(IllegalStateException.class, t::data);
        assertTrue(e.getMessage().contains("[1, 5)") && e.getMessage().contains("dense()"), e.getMessage());
        Tensor d = t.dense();
        assertTrue(d.isDense());
        assertArrayEquals(new float[] {1, 2, 3, 4}, d.data());
        d.data()[0] = -5;                                  // the copy does not alias the array
        assertEquals(1, array[1]);
        Tensor c = t.copy();
        assertTrue(c.isDense());
        assertArrayEquals(new float[] {1, 2, 3, 4}, c.data());
    }

    @Test
    void aViewOverAWholeArrayIsDenseAndNotCopied() {
        float[] array = ramp(6);
        Tensor t = Tensor.view(array, 0, 3, 2);
        assertTrue(t.isDense());
        assertSame(array, t.data());
        assertSame(t, t.dense());
        Tensor of = Tensor.of(array, 6);
        assertSame(array, of.data());
        assertSame(of, of.dense());
    }

    @Test
    void badOffsetsAndShapesAreRefusedAndChangeNothing() {
        float[] array = ramp(10);
        float[] before = array.clone();
        IllegalArgumentException past = assertThrows(IllegalArgumentException.class, () -> Tensor.view(array, 7, 2, 2));
        assertTrue(past.getMessage().contains("offset 7") && past.getMessage().contains("10 elements")
                && past.getMessage().contains("[2, 2]"), past.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> Tensor.view(array, -1, 2));
        assertTrue(negative.getMessage().contains("offset -1"), negative.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.view(array, 0, 2, -3));
        // a huge shape whose element count overflows int must not wrap around to a small one
        assertThrows(IllegalArgumentException.class, () -> Tensor.view(array, 1, 65536, 65536));
        assertThrows(IllegalArgumentException.class, () -> Tensor.view(array, Integer.MAX_VALUE, 1));
        assertArrayEquals(before, array);

        Tensor t = Tensor.view(array, 3, 4);
        assertThrows(IndexOutOfBoundsException.class, () -> t.set(4, 1f));    // one past the view's end
        assertThrows(IndexOutOfBoundsException.class, () -> t.set(-1, 1f));
        assertThrows(IndexOutOfBoundsException.class, () -> t.get(4));
        assertArrayEquals(before, array, "a refused write touched the array");
        assertThrows(IllegalArgumentException.class, () -> t.reshape(5));
    }

    @Test
    void anEmptyViewAtTheEndOfAnArrayIsAllowed() {
        Tensor t = Tensor.view(new float[4], 4, 0, 3);
        assertEquals(0, t.numel());
        assertEquals(0, t.toArray().length);
    }

    @Test
    void aHeapBufferIsViewedFromItsPositionThroughItsArray() {
        float[] array = ramp(12);
        FloatBuffer buffer = FloatBuffer.wrap(array);
        buffer.position(3);
        Tensor t = Tensor.of(buffer, 2, 2);                  // elements 3 … 6; 5 remain after them
        assertArrayEquals(new float[] {3, 4, 5, 6}, t.toArray());
        buffer.position(8);                                  // moving the buffer does not move the view
        assertEquals(3, t.get(0));
        buffer.put(4, -2);                                   // the buffer's writes are seen
        assertEquals(-2, t.get(1));
        t.set(3, 9);                                         // and the view's reach the buffer
        assertEquals(9, buffer.get(6));
        // a sliced buffer: arrayOffset and position both count
        FloatBuffer slice = FloatBuffer.wrap(array, 2, 10).slice();
        slice.position(1);
        assertEquals(3, Tensor.of(slice, 1).get(0));
        // a buffer over a whole array from 0 gives a dense tensor, the array itself
        Tensor whole = Tensor.of(FloatBuffer.wrap(array), 12);
        assertSame(array, whole.data());
    }

    @Test
    void aDirectBufferIsViewedWithoutAnArray() {
        FloatBuffer direct = ByteBuffer.allocateDirect(8 * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < 8; i++) {
            direct.put(i, i * 10);
        }
        direct.position(2);
        Tensor t = Tensor.of(direct, 3);
        assertFalse(t.isDense());
        assertThrows(IllegalStateException.class, t::data);
        assertArrayEquals(new float[] {20, 30, 40}, t.toArray());
        t.set(1, -7);
        assertEquals(-7, direct.get(3));
        direct.put(4, 1.5f);
        assertEquals(1.5f, t.dense().data()[2]);
        assertEquals(2, direct.position(), "viewing does not move the buffer");
    }

    @Test
    void aReadOnlyBufferIsReadButNotWritten() {
        FloatBuffer readOnly = FloatBuffer.wrap(ramp(5)).asReadOnlyBuffer();
        Tensor t = Tensor.of(readOnly, 5);
        assertArrayEquals(ramp(5), t.toArray());
        assertThrows(ReadOnlyBufferException.class, () -> t.set(0, 1f));
    }

    @Test
    void tooFewElementsInABufferAreRefused() {
        FloatBuffer buffer = FloatBuffer.wrap(ramp(6));
        buffer.position(4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(buffer, 3));
        assertTrue(e.getMessage().contains("2 remaining"), e.getMessage());
        assertEquals(4, buffer.position());
    }

    /** A layer gives a view (slice, heap and direct buffer) exactly the dense result, and leaves the storage alone. */
    @Test
    void aLayerReadsViewsAsTheirValues() {
        LstmConfig config = LstmConfig.of(3, 4).withLayers(2);
        int steps = 5, batch = 2, n = steps * batch * 3;
        float[] values = random(n, 7);
        float[] h0 = random(2 * batch * 4, 8);
        float[] padded = new float[n + 9];
        System.arraycopy(values, 0, padded, 4, n);
        float[] paddedBefore = padded.clone();
        FloatBuffer direct = ByteBuffer.allocateDirect((n + 1) * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        direct.position(1);
        direct.put(values).position(1);
        try (LstmLayer lstm = LstmLayer.create(LstmParameters.initialize(config, 3), Backends.cpu())) {
            LstmOutput dense = lstm.forward(Tensor.of(values.clone(), steps, batch, 3), Tensor.of(h0, 2, batch, 4), null);
            for (Tensor x : new Tensor[] {Tensor.view(padded, 4, steps, batch, 3), Tensor.of(direct, steps, batch, 3)}) {
                LstmOutput viewed = lstm.forward(x, Tensor.view(h0, 0, 2, batch, 4), null);
                assertArrayEquals(dense.y().data(), viewed.y().data(), "y of " + x);
                assertArrayEquals(dense.hn().data(), viewed.hn().data());
                assertArrayEquals(dense.cn().data(), viewed.cn().data());
            }
            LstmOutput training = lstm.forwardTraining(Tensor.view(padded, 4, steps, batch, 3), null, null);
            float[] dy = random(steps * batch * 4, 9);
            float[] dyPadded = new float[dy.length + 2];
            System.arraycopy(dy, 0, dyPadded, 2, dy.length);
            LstmGradients fromView = lstm.backward(Tensor.view(dyPadded, 2, steps, batch, 4), null, null);
            lstm.forwardTraining(Tensor.of(values.clone(), steps, batch, 3), null, null);
            LstmGradients fromDense = lstm.backward(Tensor.of(dy, steps, batch, 4), null, null);
            assertArrayEquals(fromDense.dx().data(), fromView.dx().data());
            assertArrayEquals(fromDense.parameter("weight_hh_l1").data(), fromView.parameter("weight_hh_l1").data());
            assertEquals(steps, training.y().dim(0));
        }
        assertArrayEquals(paddedBefore, padded, "a forward pass wrote to the array its input views");
    }

    @Test
    void aCellAHeadALossAndADatasetReadViews() {
        float[] x = random(2 * 3, 11);
        float[] padded = new float[x.length + 3];
        System.arraycopy(x, 0, padded, 3, x.length);
        LstmCell cell = LstmCell.initialize(3, 4, true, 5);
        LstmCell.State dense = cell.step(Tensor.of(x, 2, 3), null, null);
        LstmCell.State viewed = cell.step(Tensor.view(padded, 3, 2, 3), null, null);
        assertArrayEquals(dense.h().data(), viewed.h().data());
        assertArrayEquals(dense.c().data(), viewed.c().data());

        LinearHead head = LinearHead.initialize(3, 2, LinearHead.Mode.EVERY_STEP, 1);
        Tensor y = Tensor.of(x, 1, 2, 3);
        assertArrayEquals(head.apply(y).data(), head.apply(Tensor.view(padded, 3, 1, 2, 3)).data());

        MeanSquaredError mse = new MeanSquaredError();
        assertEquals(mse.compute(Tensor.of(x, 6), Tensor.zeros(6)).value(),
                mse.compute(Tensor.view(padded, 3, 6), Tensor.zeros(6)).value());

        SequenceDataset data = new SequenceDataset(Tensor.view(padded, 3, 2, 1, 3), Tensor.view(new float[] {9, 1, 2}, 1, 2, 1));
        assertArrayEquals(x, data.inputs().data());
        assertArrayEquals(new float[] {1, 2}, data.targets().data());
    }

    /** The API page's views example computes what the same values give as dense tensors. */
    @Test
    void theApiPagesViewsExampleRunsOnItsViews() {
        jlstm.examples.ApiViewsProgram.Result r = jlstm.examples.ApiViewsProgram.run();
        assertEquals(1f, r.flat()[4], "the example's write through its view");
        float[] h0 = new float[8];
        r.buffer().get(0, h0);
        try (LstmLayer lstm = LstmLayer.create(LstmParameters.initialize(LstmConfig.of(3, 4), 1), Device.CPU)) {
            LstmOutput dense = lstm.forward(Tensor.of(java.util.Arrays.copyOfRange(r.flat(), 4, 124), 20, 2, 3),
                    Tensor.of(h0, 1, 2, 4), null);
            assertArrayEquals(dense.y().data(), r.out().y().data());
            assertArrayEquals(dense.cn().data(), r.out().cn().data());
        }
    }

    @Test
    void parametersMadeFromViewsOwnDenseCopies() {
        LstmConfig config = LstmConfig.of(2, 3);
        LstmParameters p = LstmParameters.initialize(config, 1);
        // all four tensors as views over one flat array, as a framework with a flat parameter buffer has them
        float[] flat = new float[1 + (int) p.count()];
        java.util.Map<String, Tensor> views = new java.util.LinkedHashMap<>();
        int at = 1;
        for (String name : p.names()) {
            float[] v = p.get(name).data();
            System.arraycopy(v, 0, flat, at, v.length);
            views.put(name, Tensor.view(flat, at, config.parameterShape(name)));
            at += v.length;
        }
        LstmParameters fromViews = LstmParameters.fromTensors(views, false, "views");
        for (String name : p.names()) {
            assertTrue(fromViews.get(name).isDense(), name);
            assertArrayEquals(p.get(name).data(), fromViews.get(name).data(), name);
            assertNotSame(p.get(name).data(), fromViews.get(name).data());
        }
    }
}
