package jlstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import org.junit.jupiter.api.Test;

/**
 * The engine pool on the host, with engines that cache their parameters as the CUDA engine does
 * (a copy taken at open and at parametersUpdated): a change announced with parametersUpdated
 * reaches every engine before its next call, whether it was idle or lent out at the time, and the
 * engine handed out by {@link LstmLayer#dedicateEngine()}.
 */
class EnginePoolTest {
    /** An engine that sees the first input weight only as copied at open and at parametersUpdated. */
    static final class CachingEngine implements LstmEngine {
        private final LstmParameters parameters;
        float cached;
        int updates;

        CachingEngine(LstmParameters parameters) {
            this.parameters = parameters;
            this.cached = parameters.weightIh(0, 0)[0];
        }

        @Override
        public String deviceName() {
            return "caching";
        }

        @Override
        public void forward(int steps, int batch, float[] x, float[] h0, float[] c0, float[] y, float[] hn, float[] cn,
                            boolean training) {
            java.util.Arrays.fill(y, cached);
        }

        @Override
        public void backward(float[] dy, float[] dhn, float[] dcn, float[] dx, float[] dh0, float[] dc0,
                             LstmParameters gradients) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void parametersUpdated() {
            cached = parameters.weightIh(0, 0)[0];
            updates++;
        }

        @Override
        public void close() {
        }
    }

    static final class CachingBackend implements LstmBackend {
        @Override
        public String name() {
            return "caching";
        }

        @Override
        public Availability availability(EngineOptions options) {
            return Availability.yes("test");
        }

        @Override
        public LstmEngine open(LstmParameters parameters, EngineOptions options) {
            return new CachingEngine(parameters);
        }
    }

    @Test
    void everyBorrowedEngineSeesAnAnnouncedChangeBeforeItsNextCall() {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(2, 3), 1);
        try (EnginePool pool = new EnginePool(new CachingBackend(), p, EngineOptions.defaults().withMaxEngines(3))) {
            EnginePool.Slot a = pool.borrow();
            EnginePool.Slot b = pool.borrow(); // a is out: a second engine opens
            assertNotSame(a.engine, b.engine);
            pool.giveBack(b, 0); // b idle, a still lent out during the change below
            pool.giveBack(a, 0);

            p.weightIh(0, 0)[0] = 42f;
            pool.parametersUpdated();
            EnginePool.Slot first = pool.borrow();
            EnginePool.Slot second = pool.borrow();
            assertEquals(42f, ((CachingEngine) first.engine).cached);
            assertEquals(42f, ((CachingEngine) second.engine).cached);
            pool.giveBack(first, 0);
            pool.giveBack(second, 0);

            // Once seen, a change is not passed on again.
            EnginePool.Slot again = pool.borrow();
            assertEquals(1, ((CachingEngine) again.engine).updates);
            pool.giveBack(again, 0);
        }
    }

    @Test
    void aLayersCallsAndItsDedicatedEngineSeeTheChange() {
        LstmParameters p = LstmParameters.initialize(LstmConfig.of(2, 3), 1);
        try (LstmLayer layer = LstmLayer.create(p, new CachingBackend(), 2)) {
            Tensor x = Tensor.zeros(1, 1, 2);
            layer.forward(x);
            p.weightIh(0, 0)[0] = -7f;
            layer.parametersUpdated();
            assertEquals(-7f, layer.forward(x).y().data()[0]);
            p.weightIh(0, 0)[0] = 5f;
            layer.parametersUpdated();
            assertEquals(5f, ((CachingEngine) layer.dedicateEngine()).cached);
        }
    }
}
