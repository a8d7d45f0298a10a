package jlstm.spark;

import java.util.Map;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

import jlstm.Device;
import jlstm.EngineOptions;

/**
 * What Spark gave the running task, as jlstm settings: the GPU (from Spark's resource scheduling,
 * {@code spark.task.resource.gpu.amount}) and the CPU threads ({@code spark.task.cpus}).
 *
 * <p>The GPU → device mapping is kept in {@link #deviceFor} alone: the core's CUDA backend takes
 * GPU 0 of the devices the process sees until {@code Device.cuda(ordinal)} lands (issue 16), so
 * today a task given GPU k runs on the CUDA backend's device and the ordinal is only reported.
 */
public final class TaskResources {
    private TaskResources() {
    }

    /**
     * The GPU ordinals Spark assigned the current task (empty outside a task or without GPU
     * scheduling).
     */
    public static String[] gpuAddresses() {
        TaskContext context = TaskContext.get();
        if (context == null) {
            return new String[0];
        }
        Map<String, ResourceInformation> resources = scala.jdk.javaapi.CollectionConverters.asJava(context.resources());
        ResourceInformation gpu = resources.get("gpu");
        return gpu == null ? new String[0] : gpu.addresses();
    }

    /**
     * The device a task runs its model on: the requested device, except that {@link Device#AUTO}
     * becomes CUDA when Spark assigned the task a GPU and the CPU when it did not (a task never
     * takes a GPU that Spark gave to another task).
     *
     * @param requested what the user asked for
     */
    public static Device deviceFor(Device requested) {
        String[] gpus = gpuAddresses();
        if (requested == Device.AUTO) {
            return gpus.length > 0 ? Device.CUDA : Device.CPU;
        }
        return requested;
    }

    /** The task's GPU ordinal for messages and cache keys, or -1. */
    public static int gpuOrdinal() {
        String[] gpus = gpuAddresses();
        if (gpus.length == 0) {
            return -1;
        }
        try {
            return Integer.parseInt(gpus[0].trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException("Spark assigned GPU address '" + gpus[0]
                    + "', not an ordinal: the discovery script must print CUDA ordinals (0, 1, …)", e);
        }
    }

    /**
     * The engine options of a task's layer: those of {@code -Djlstm.*} on the executor, with the CPU
     * engine's threads set to {@code spark.task.cpus} unless {@code -Djlstm.cpu.threads} names a
     * count itself (without either, a task would start one worker per core of the machine, and N
     * tasks N times that).
     */
    public static EngineOptions engineOptions() {
        EngineOptions options = EngineOptions.fromSystemProperties();
        return options.cpuThreads() > 0 ? options : options.withCpuThreads(cpuThreads());
    }

    /** The CPU threads one task may use: {@code spark.task.cpus} (default 1). */
    public static int cpuThreads() {
        SparkEnv env = SparkEnv.get();
        SparkConf conf = env == null ? null : env.conf();
        return conf == null ? 1 : Math.max(1, conf.getInt("spark.task.cpus", 1));
    }
}
