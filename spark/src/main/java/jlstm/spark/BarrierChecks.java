package jlstm.spark;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;

/**
 * The conditions a synchronous barrier stage needs, checked on the driver before it starts, with a
 * message that says what to change: every replica must run at once (N ≤ free task slots), no
 * task may be duplicated (speculation) and executors may not come and go (dynamic allocation).
 * Without this, Spark itself would wait for slots in a retry loop (minutes) or fail in its
 * scheduler with a less direct message.
 */
final class BarrierChecks {
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:\\s*,\\s*\\d+)?\\])?");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*,.*\\]");

    private BarrierChecks() {
    }

    /** Fails with what to change when N replicas cannot run as one barrier stage here. */
    static void require(SparkContext sc, int replicas) {
        require(sc.getConf(), sc.master(), sc.statusTracker().getExecutorInfos().length - 1, replicas);
    }

    /**
     * The check on plain values (testable without a running application).
     *
     * @param executors executors registered now (not counting the driver)
     */
    static void require(SparkConf conf, String master, int executors, int replicas) {
        if (conf.getBoolean("spark.speculation", false)) {
            throw new IllegalStateException("data-parallel training runs one barrier stage and cannot have its tasks"
                    + " duplicated: set spark.speculation=false");
        }
        if (conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            throw new IllegalStateException("data-parallel training needs a fixed set of executors for its barrier"
                    + " stage: set spark.dynamicAllocation.enabled=false");
        }
        int slots = knownSlots(conf, master, executors);
        if (slots > 0 && replicas > slots) {
            throw new IllegalStateException(replicas + " replicas need " + replicas + " task slots at once, but this "
                    + master + " application has " + slots + " (cores / spark.task.cpus = "
                    + conf.getInt("spark.task.cpus", 1) + "): use at most " + slots
                    + " replicas, or give the application more executors or cores");
        }
    }

    /**
     * Task slots of the application when they can be known from the master and the conf, else 0:
     * local[N] → N, local-cluster[w, c, m] → w·c, otherwise executors × spark.executor.cores, each
     * divided by spark.task.cpus.
     */
    static int knownSlots(SparkConf conf, String master, int executors) {
        int taskCpus = Math.max(1, conf.getInt("spark.task.cpus", 1));
        Matcher local = LOCAL.matcher(master.trim());
        if (local.matches()) {
            String n = local.group(1);
            int cores = n == null ? 1 : n.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(n);
            return cores / taskCpus;
        }
        Matcher cluster = LOCAL_CLUSTER.matcher(master.trim());
        if (cluster.matches()) {
            return Integer.parseInt(cluster.group(1)) * (Integer.parseInt(cluster.group(2)) / taskCpus);
        }
        if (!conf.contains("spark.executor.cores")) {
            return 0;   // unknown (standalone gives executors all a worker's cores): Spark checks it itself
        }
        return Math.max(0, executors) * (conf.getInt("spark.executor.cores", 1) / taskCpus);
    }
}
