package jlstm;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Finds the LSTMs in a set of tensor names. A PyTorch {@code state_dict} of a module that holds an
 * {@code nn.LSTM} names its parameters with the module path in front: {@code lstm.weight_ih_l0},
 * {@code encoder.rnn.weight_ih_l0}, {@code module.lstm.weight_ih_l0} (DataParallel). The prefix of
 * a name is everything up to its last dot (empty for a bare {@code nn.LSTM}); names whose rest is
 * an LSTM parameter name group into one LSTM per prefix.
 *
 * <p>Not LSTMs: a jlstm training checkpoint's optimizer state, {@code optimizer.<state>.<name>},
 * which has the LSTM's names and shapes under the {@code optimizer.} prefix.
 */
final class LstmPrefixes {
    /** Where jlstm checkpoints keep optimizer state (see jlstm.train.Checkpoint). */
    static final String OPTIMIZER_STATE = "optimizer.";

    private LstmPrefixes() {
    }

    /** Prefix → the names under it that are LSTM parameters, in first-seen order. */
    static Map<String, List<String>> find(Collection<String> names) {
        Map<String, List<String>> byPrefix = new LinkedHashMap<>();
        for (String name : names) {
            String prefix = prefixOf(name);
            if (prefix != null && !prefix.startsWith(OPTIMIZER_STATE)) {
                byPrefix.computeIfAbsent(prefix, k -> new java.util.ArrayList<>()).add(name);
            }
        }
        return byPrefix;
    }

    /** The prefix of an LSTM parameter name ("" when bare), or null when the name is not one. */
    static String prefixOf(String name) {
        int dot = name.lastIndexOf('.');
        return LstmConfig.ParameterName.parse(name.substring(dot + 1)) == null ? null : name.substring(0, dot + 1);
    }

    /**
     * The prefix to use: the requested one (with or without its trailing dot; "" for bare names),
     * else the only one present.
     *
     * @param source for messages (a file name)
     * @throws IllegalArgumentException when there is none, several and no choice, or the choice is absent
     */
    static String choose(Collection<String> names, String requested, String source) {
        Map<String, List<String>> found = find(names);
        if (requested != null) {
            String wanted = requested.isEmpty() || requested.endsWith(".") ? requested : requested + ".";
            if (found.containsKey(wanted)) {
                return wanted;
            }
            throw new IllegalArgumentException(source + ": no LSTM parameters under the prefix '" + wanted + "' ("
                    + describe(found) + ")");
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException(source + ": no LSTM parameters found (expected names like weight_ih_l0,"
                    + " or with a module prefix such as lstm.weight_ih_l0)");
        }
        if (found.size() > 1) {
            throw new IllegalArgumentException(source + ": holds " + found.size() + " LSTMs; " + describe(found)
                    + "; choose one with --prefix P (LstmParameters.load(file, batchFirst, P) in the API)");
        }
        return found.keySet().iterator().next();
    }

    private static String describe(Map<String, List<String>> found) {
        if (found.isEmpty()) {
            return "the file has no LSTM parameters";
        }
        return "prefixes found: " + found.keySet().stream().map(p -> p.isEmpty() ? "'' (bare names)" : "'" + p + "'")
                .collect(Collectors.joining(", "));
    }
}
