package jlstm.internal.cuda;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import jcuda.driver.CUgraphExec;

/**
 * CUDA graphs of the engine's passes: each pass (forward in inference or training mode, backward)
 * is captured once per (T, B, schedule, active rows per step, masks or not) and replayed with one
 * {@code cuGraphLaunch}, so the per-step launches cost no host time after the first call. A pass
 * works only on its workspace (inputs are copied in before, results out after; the schedule's index
 * arrays are data in it), so a graph stays valid until the workspace moves, when {@link #clear()}
 * drops every graph. At most {@value #CAPACITY} graphs are kept (batches of many different length
 * profiles): the least recently used one goes first.
 */
final class GraphCache implements AutoCloseable {
    /** The passes a graph can hold. */
    enum Pass { INFERENCE, TRAINING, BACKWARD }

    /** Graphs kept at most. */
    static final int CAPACITY = 64;

    /**
     * What a captured pass depends on besides its workspace.
     *
     * @param activeRows [T]: n_t, the active rows of each step (all B for a padded batch)
     */
    record Key(Pass pass, int steps, int batch, CudaLstmEngine.Schedule schedule, boolean masked, int[] activeRows) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && pass == k.pass && steps == k.steps && batch == k.batch
                    && schedule == k.schedule && masked == k.masked && Arrays.equals(activeRows, k.activeRows);
        }

        @Override
        public int hashCode() {
            return ((pass.hashCode() * 31 + steps) * 31 + batch) * 31 + schedule.hashCode() * 2 + (masked ? 1 : 0)
                    + 17 * Arrays.hashCode(activeRows);
        }

        @Override
        public String toString() {
            return pass + " T=" + steps + " B=" + batch + " " + schedule + (masked ? " masked" : "");
        }
    }

    private final CudaDevice device;
    private final Map<Key, CUgraphExec> graphs = new LinkedHashMap<>(16, 0.75f, true);   // access order

    GraphCache(CudaDevice device) {
        this.device = device;
    }

    /** Replays the graph of a pass, capturing {@code issue} (the pass's stream work) the first time. */
    void run(Key key, Runnable issue) {
        CUgraphExec graph = graphs.get(key);
        if (graph == null) {
            if (graphs.size() >= CAPACITY) {
                Iterator<CUgraphExec> eldest = graphs.values().iterator();
                device.synchronize("before a graph is dropped");
                device.destroy(eldest.next());
                eldest.remove();
            }
            graph = device.capture(issue);
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
