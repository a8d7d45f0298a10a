package jlstm.train;

import java.util.LinkedHashMap;
import java.util.Map;

import jlstm.Tensor;

/** Helpers to restore optimizer state from checkpoint tensors and metadata. */
final class OptimizerState {
    private OptimizerState() {
    }

    /** Copies of the tensors named prefix + parameter name, each checked against its parameter's shape. */
    static Map<String, Tensor> read(Map<String, Tensor> tensors, String prefix, Map<String, Tensor> parameters) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                continue;
            }
            String parameter = e.getKey().substring(prefix.length());
            Tensor p = parameters.get(parameter);
            if (p == null) {
                throw new IllegalArgumentException("optimizer state '" + e.getKey() + "' names no parameter of the model");
            }
            if (!e.getValue().hasShape(p.shape())) {
                throw new IllegalArgumentException("optimizer state '" + e.getKey() + "' has shape "
                        + e.getValue().shapeString() + " but parameter '" + parameter + "' has " + p.shapeString());
            }
            out.put(parameter, e.getValue().copy());
        }
        return out;
    }

    static long parseSteps(Map<String, String> metadata) {
        String text = metadata.get("optimizer.step");
        try {
            long steps = Long.parseLong(text == null ? "" : text);
            if (steps < 0) {
                throw new NumberFormatException();
            }
            return steps;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("optimizer state: 'optimizer.step' is '" + text
                    + "', not a step count");
        }
    }
}
