package jlstm.cuda;

import java.util.HashMap;
import java.util.Map;

import jcuda.driver.CUgraphExec;

/**
 * CUDA graphs of the engine's passes: each pass (forward in inference or training mode, backward)
 * is captured once per (T, B, schedule) and replayed with one {@code cuGraphLaunch}, so the per-step
 * launches cost no host time after the first call. A pass works only on its workspace (inputs are
 * copied in before, results out after), so a graph stays valid until the workspace moves, when
 * {@link #clear()} drops every graph.
 */
final class GraphCache implements AutoCloseable {
    /** The passes a graph can hold. */
    enum Pass { INFERENCE, TRAINING, BACKWARD }

    private record Key(Pass pass, int steps, int batch, CudaLstmEngine.Schedule schedule) {
    }

    private final CudaDevice device;
    private final Map<Key, CUgraphExec> graphs = new HashMap<>();

    GraphCache(CudaDevice device) {
        this.device = device;
    }

    /** Replays the graph of a pass, capturing {@code issue} (the pass's stream work) the first time. */
    void run(Pass pass, int steps, int batch, CudaLstmEngine.Schedule schedule, Runnable issue) {
        Key key = new Key(pass, steps, batch, schedule);
        CUgraphExec graph = graphs.get(key);
        if (graph == null) {
            device.beginCapture();
            try {
                issue.run();
            } catch (RuntimeException | Error e) {
                try {
                    device.destroy(device.endCapture());
                } catch (RuntimeException ignored) {
                    // the capture is broken anyway; the original failure is what matters
                }
                throw e;
            }
            graph = device.endCapture();
            graphs.put(key, graph);
        }
        device.launch(graph);
    }

    /** Number of graphs held (for tests). */
    int size() {
        return graphs.size();
    }

    /** Destroys every graph (the workspace they point into is about to change). */
    void clear() {
        for (CUgraphExec graph : graphs.values()) {
            device.destroy(graph);
        }
        graphs.clear();
    }

    @Override
    public void close() {
        clear();
    }
}
