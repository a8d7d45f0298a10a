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
 * <p>The GPU → device mapping is kept in {@link #deviceFor} alone: a task given GPU k runs on
 * {@code Device.cuda(k)} (the discovery script must print CUDA ordinals).
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
     * becomes the GPU Spark assigned the task ({@code Device.cuda(k)}) or the CPU when it assigned
     * none, and a plain {@link Device#CUDA} (no ordinal) becomes the assigned GPU too (a task never
     * takes a GPU that Spark gave to another task). An explicit {@code cuda:N} is kept as asked.
     *
     * @param requested what the user asked for
     */
    public static Device deviceFor(Device requested) {
        boolean assigned = gpuAddresses().length > 0;
        if (requested.equals(Device.AUTO)) {
            return assigned ? Device.cuda(gpuOrdinal()) : Device.CPU;
        }
        if (requested.equals(Device.CUDA) && assigned) {
            return Device.cuda(gpuOrdinal());
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
