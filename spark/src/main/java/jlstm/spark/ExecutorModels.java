package jlstm.spark;

import java.util.LinkedHashMap;
import java.util.Map;

import jlstm.Device;
import jlstm.LstmLayer;
import jlstm.train.LinearHead;

/**
 * The models loaded in this JVM (an executor, or the driver in local mode), by content hash and
 * device: every task of every job that scores with the same model on the same device shares one
 * {@link LstmLayer} (whose {@code forward} is safe from many threads, each call on an engine of
 * its own). A few models are kept; the least recently used beyond that is closed (a layer closed
 * while a call runs closes that call's engine when it returns).
 */
final class ExecutorModels {
    /** How many models one JVM keeps loaded. */
    static final int CAPACITY = 4;

    private static final Map<String, Loaded> LOADED = new LinkedHashMap<>(8, 0.75f, true);
    private static int loads;

    private ExecutorModels() {
    }

    /**
     * A loaded model: the layer and the head (null when the payload has none).
     */
    record Loaded(LstmLayer lstm, LinearHead head) {
    }

    /** The model of the payload on the device, loaded on first use in this JVM. */
    static synchronized Loaded get(ModelPayload payload, Device device) {
        // One layer per device a task may be given (each GPU's own, see TaskResources.deviceFor);
        // on the CPU one per JVM.
        String key = payload.sha256() + "@" + device.label();
        Loaded loaded = LOADED.get(key);
        if (loaded == null) {
            ModelPayload.Decoded model = payload.decode();
            loaded = new Loaded(LstmLayer.create(model.lstm(), device, TaskResources.engineOptions()), model.head());
            loads++;
            LOADED.put(key, loaded);
            if (LOADED.size() > CAPACITY) {
                var eldest = LOADED.entrySet().iterator().next();
                LOADED.remove(eldest.getKey());
                eldest.getValue().lstm().close();
            }
        }
        return loaded;
    }

    /** How many times this JVM decoded a model (tests: once per model, however many tasks ran). */
    static synchronized int loads() {
        return loads;
    }
}
