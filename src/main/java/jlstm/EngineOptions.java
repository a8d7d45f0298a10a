package jlstm;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

import org.jspecify.annotations.Nullable;

/**
 * How a layer's engines run: every setting of the CPU and CUDA engines in one immutable object,
 * passed to {@link LstmLayer#create(LstmParameters, Device, EngineOptions)} (and on to
 * {@link LstmBackend#open(LstmParameters, EngineOptions)}). Engines read nothing else.
 *
 * <pre>{@code
 * EngineOptions options = EngineOptions.defaults().withCpuThreads(4).withMaxEngines(2);
 * try (LstmLayer lstm = LstmLayer.create(params, Device.CPU, options)) { ... }
 * }</pre>
 *
 * <p>{@link #defaults()} is the built-in choice of every setting. {@link #fromSystemProperties()}
 * starts from it and applies the {@code -Djlstm.*} properties listed in {@link #PROPERTIES}; it is
 * the only place in the library that reads them, and what the overloads without options use.
 */
public final class EngineOptions {

    /** Which CPU kernels run. */
    public enum CpuKernels {
        /** The widest native ISA this CPU has (AVX-512, else AVX2+FMA), else pure Java. */
        AUTO,
        /** The AVX-512 kernels, or the CPU backend reports itself unavailable. */
        AVX512,
        /** The AVX2+FMA kernels, or the CPU backend reports itself unavailable. */
        AVX2,
        /** The pure-Java path (the reference). */
        JAVA
    }

    /** How the CUDA engine runs the recurrence (see docs/GPU.md). */
    public enum CudaSchedule {
        /** Chosen per shape from the measured timings. */
        AUTO,
        /** cuBLAS recurrent product + one fused pointwise kernel per step. */
        GEMM,
        /** One gate-matmul kernel per step. */
        FUSED,
        /** One cooperative launch per layer and direction for all steps. */
        PERSISTENT
    }

    /** The arithmetic of the matrix products (storage and cell state stay float32 in every mode). */
    public enum Precision {
        /** Float32 products: the exact contract, checked against PyTorch in float64. */
        FP32,
        /** TF32 tensor-core products (10-bit mantissa inputs, float32 accumulation). */
        TF32,
        /** BF16 products with float32 accumulation, cell state and master weights. */
        BF16
    }

    /** Property: CPU worker threads, 1 to 1024 (default: one per available core). */
    public static final String CPU_THREADS = "jlstm.cpu.threads";
    /** Property: {@code auto}, {@code avx512}, {@code avx2} or {@code java}. */
    public static final String CPU_KERNELS = "jlstm.cpu.kernels";
    /** Property: the most engines (concurrent calls) of one layer, ≥ 1 (default: cores, at most 8). */
    public static final String MAX_ENGINES = "jlstm.maxEngines";
    /** Property: {@code auto}, {@code gemm}, {@code fused} or {@code persistent}. */
    public static final String CUDA_SCHEDULE = "jlstm.cuda.schedule";
    /** Property: {@code on} or {@code off} (CUDA graphs). */
    public static final String CUDA_GRAPHS = "jlstm.cuda.graphs";
    /** Property: {@code on} or {@code off} (the whole training step on the GPU). */
    public static final String CUDA_DEVICE_TRAINING = "jlstm.cuda.deviceTraining";
    /** Property: {@code fp32}, {@code tf32} or {@code bf16}. */
    public static final String PRECISION = "jlstm.precision";

    /**
     * Every {@code -Djlstm.*} system property the library and its command line read, with what it
     * does. The engine settings above are read here only; the others are read where named (they
     * concern the process, not an engine). Docs that name a property not in this map fail a test.
     */
    public static final Map<String, String> PROPERTIES;

    static {
        Map<String, String> p = new LinkedHashMap<>();
        p.put(CPU_THREADS, "CPU worker threads (default: one per core)");
        p.put(CPU_KERNELS, "CPU kernels: auto | avx512 | avx2 | java");
        p.put(MAX_ENGINES, "engines (concurrent calls) per layer (default: cores, at most 8)");
        p.put(CUDA_SCHEDULE, "CUDA recurrence: auto | gemm | fused | persistent");
        p.put(CUDA_GRAPHS, "CUDA graphs: on | off");
        p.put(CUDA_DEVICE_TRAINING, "train's whole step on the GPU: on | off");
        p.put(PRECISION, "matrix products: fp32 | tf32 | bf16");
        p.put("jlstm.cuda.standin", "directory of the CPU stand-in for libcuda and libcublas (tests; read by CudaStandIn)");
        p.put("jlstm.cublas13.path", "libcublas.so.13 for the CUDA 13 forwarding library (read by CublasLoader)");
        p.put("jlstm.debug", "the command line prints stack traces (read by jlstm.cli.Main)");
        p.put("jlstm.noProgress", "train prints no progress bar (read by the train command)");
        p.put("jlstm.test.requireCuda", "tests: the cuda group fails instead of skipping when CUDA is unavailable"
                + " (also implied by a built stand-in; read by the tests' CudaTestSupport)");
        p.put("jlstm.timing.precisions", "benchmarks: the precisions GpuTiming times, e.g. fp32,tf32 (read by jlstm.internal.cuda.GpuTiming)");
        p.put("jlstm.requireNvcc", "build: fail when nvcc is missing instead of skipping the CUDA kernels (pom.xml)");
        p.put("jlstm.requireNative", "build: fail when g++ cannot build the CPU kernels (pom.xml)");
        PROPERTIES = java.util.Collections.unmodifiableMap(p);
    }

    private static final EngineOptions DEFAULTS =
            new EngineOptions(0, CpuKernels.AUTO, 0, CudaSchedule.AUTO, true, true, Precision.FP32);

    private final int cpuThreads;
    private final CpuKernels cpuKernels;
    private final int maxEngines;
    private final CudaSchedule cudaSchedule;
    private final boolean cudaGraphs;
    private final boolean deviceTraining;
    private final Precision precision;

    private EngineOptions(int cpuThreads, CpuKernels cpuKernels, int maxEngines, CudaSchedule cudaSchedule,
                          boolean cudaGraphs, boolean deviceTraining, Precision precision) {
        if (cpuThreads < 0 || cpuThreads > 1024) {
            throw new IllegalArgumentException("CPU threads must be from 1 to 1024 (0: one per core), got " + cpuThreads);
        }
        if (maxEngines < 0) {
            throw new IllegalArgumentException("maxEngines must be at least 1 (0: the default), got " + maxEngines);
        }
        this.cpuThreads = cpuThreads;
        this.cpuKernels = Objects.requireNonNull(cpuKernels, "cpuKernels");
        this.maxEngines = maxEngines;
        this.cudaSchedule = Objects.requireNonNull(cudaSchedule, "cudaSchedule");
        this.cudaGraphs = cudaGraphs;
        this.deviceTraining = deviceTraining;
        this.precision = Objects.requireNonNull(precision, "precision");
    }

    /**
     * The built-in settings, whatever the system properties say.
     *
     * @return the defaults: every core, the widest CPU kernels, the measured CUDA schedule,
     *         graphs and device training on, FP32
     */
    public static EngineOptions defaults() {
        return DEFAULTS;
    }

    /**
     * The built-in settings with the {@code -Djlstm.*} system properties applied.
     *
     * @return the options, read now (later changes of the properties are not seen)
     * @throws IllegalArgumentException naming the property, its allowed values and the bad value
     */
    public static EngineOptions fromSystemProperties() {
        return fromProperties(System.getProperties());
    }

    /**
     * {@link #fromSystemProperties()} over any property set (blank values count as unset).
     *
     * @param properties the {@code jlstm.*} settings; other keys are ignored
     * @return the options
     * @throws IllegalArgumentException naming the property, its allowed values and the bad value
     */
    public static EngineOptions fromProperties(Properties properties) {
        Objects.requireNonNull(properties, "properties");
        EngineOptions o = DEFAULTS;
        String v;
        if ((v = value(properties, CPU_THREADS)) != null) {
            o = o.withCpuThreads(wholeNumber(CPU_THREADS, v, 1, 1024));
        }
        if ((v = value(properties, CPU_KERNELS)) != null) {
            o = o.withCpuKernels(choice(CPU_KERNELS, v, CpuKernels.class));
        }
        if ((v = value(properties, MAX_ENGINES)) != null) {
            o = o.withMaxEngines(wholeNumber(MAX_ENGINES, v, 1, Integer.MAX_VALUE));
        }
        if ((v = value(properties, CUDA_SCHEDULE)) != null) {
            o = o.withCudaSchedule(choice(CUDA_SCHEDULE, v, CudaSchedule.class));
        }
        if ((v = value(properties, CUDA_GRAPHS)) != null) {
            o = o.withCudaGraphs(onOff(CUDA_GRAPHS, v));
        }
        if ((v = value(properties, CUDA_DEVICE_TRAINING)) != null) {
            o = o.withDeviceTraining(onOff(CUDA_DEVICE_TRAINING, v));
        }
        if ((v = value(properties, PRECISION)) != null) {
            o = o.withPrecision(choice(PRECISION, v, Precision.class));
        }
        return o;
    }

    /**
     * The CPU worker threads as set.
     *
     * @return 1 to 1024, or 0 for one per available core (see {@link #resolvedCpuThreads()})
     */
    public int cpuThreads() {
        return cpuThreads;
    }

    /**
     * The CPU worker threads this resolves to on this machine.
     *
     * @return the threads as set, else the available cores
     */
    public int resolvedCpuThreads() {
        return cpuThreads > 0 ? cpuThreads : Runtime.getRuntime().availableProcessors();
    }

    /**
     * Which CPU kernels run.
     *
     * @return the kernel choice ({@link #CPU_KERNELS})
     */
    public CpuKernels cpuKernels() {
        return cpuKernels;
    }

    /**
     * The bound on a layer's engines as set.
     *
     * @return at least 1, or 0 for the default (see {@link #resolvedMaxEngines()})
     */
    public int maxEngines() {
        return maxEngines;
    }

    /**
     * The bound on a layer's engines this resolves to.
     *
     * @return as set, else the available cores, at most 8
     */
    public int resolvedMaxEngines() {
        return maxEngines > 0 ? maxEngines : Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * How the CUDA engine runs the recurrence.
     *
     * @return the schedule ({@link #CUDA_SCHEDULE})
     */
    public CudaSchedule cudaSchedule() {
        return cudaSchedule;
    }

    /**
     * Whether the CUDA engine captures each pass as a graph and replays it.
     *
     * @return true when on ({@link #CUDA_GRAPHS})
     */
    public boolean cudaGraphs() {
        return cudaGraphs;
    }

    /**
     * Whether {@code jlstm.train} runs a whole training step on the GPU when the model allows it.
     *
     * @return true when on ({@link #CUDA_DEVICE_TRAINING})
     */
    public boolean deviceTraining() {
        return deviceTraining;
    }

    /**
     * The arithmetic of the matrix products.
     *
     * @return the precision ({@link #PRECISION})
     */
    public Precision precision() {
        return precision;
    }

    /**
     * With another number of CPU worker threads.
     *
     * @param threads 1 to 1024, or 0 for one per available core
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code threads} is outside [0, 1024]
     */
    public EngineOptions withCpuThreads(int threads) {
        return new EngineOptions(threads, cpuKernels, maxEngines, cudaSchedule, cudaGraphs, deviceTraining, precision);
    }

    /**
     * With other CPU kernels (a choice the machine lacks makes the CPU backend unavailable).
     *
     * @param kernels the kernels
     * @return new options; these are unchanged
     * @throws NullPointerException if the argument is null
     */
    public EngineOptions withCpuKernels(CpuKernels kernels) {
        Objects.requireNonNull(kernels, "kernels");
        return new EngineOptions(cpuThreads, kernels, maxEngines, cudaSchedule, cudaGraphs, deviceTraining, precision);
    }

    /**
     * With another bound on a layer's engines (concurrent calls).
     *
     * @param engines at least 1, or 0 for the default
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code engines} is negative
     */
    public EngineOptions withMaxEngines(int engines) {
        return new EngineOptions(cpuThreads, cpuKernels, engines, cudaSchedule, cudaGraphs, deviceTraining, precision);
    }

    /**
     * With another CUDA schedule.
     *
     * @param schedule the schedule
     * @return new options; these are unchanged
     * @throws NullPointerException if the argument is null
     */
    public EngineOptions withCudaSchedule(CudaSchedule schedule) {
        Objects.requireNonNull(schedule, "schedule");
        return new EngineOptions(cpuThreads, cpuKernels, maxEngines, schedule, cudaGraphs, deviceTraining, precision);
    }

    /**
     * With CUDA graphs on or off.
     *
     * @param graphs true to capture and replay each pass
     * @return new options; these are unchanged
     */
    public EngineOptions withCudaGraphs(boolean graphs) {
        return new EngineOptions(cpuThreads, cpuKernels, maxEngines, cudaSchedule, graphs, deviceTraining, precision);
    }

    /**
     * With the device-resident training step on or off.
     *
     * @param onDevice true to run whole training steps on the GPU when the model allows it
     * @return new options; these are unchanged
     */
    public EngineOptions withDeviceTraining(boolean onDevice) {
        return new EngineOptions(cpuThreads, cpuKernels, maxEngines, cudaSchedule, cudaGraphs, onDevice, precision);
    }

    /**
     * With another precision of the matrix products.
     *
     * @param mode the precision
     * @return new options; these are unchanged
     * @throws NullPointerException if the argument is null
     */
    public EngineOptions withPrecision(Precision mode) {
        Objects.requireNonNull(mode, "mode");
        return new EngineOptions(cpuThreads, cpuKernels, maxEngines, cudaSchedule, cudaGraphs, deviceTraining, mode);
    }

    /**
     * Parses a choice by name, case-insensitive ({@code avx512}, {@code tf32}, ...).
     *
     * @param <E>   the enum
     * @param type  the enum's class, e.g. {@code Precision.class}
     * @param what  what is parsed, for the message (a property or option name)
     * @param value the text
     * @return the constant
     * @throws IllegalArgumentException naming {@code what}, the allowed values and the bad value
     */
    public static <E extends Enum<E>> E parse(Class<E> type, String what, String value) {
        return choice(what, value, type);
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof EngineOptions e && cpuThreads == e.cpuThreads && cpuKernels == e.cpuKernels
                && maxEngines == e.maxEngines && cudaSchedule == e.cudaSchedule && cudaGraphs == e.cudaGraphs
                && deviceTraining == e.deviceTraining && precision == e.precision;
    }

    @Override
    public int hashCode() {
        return Objects.hash(cpuThreads, cpuKernels, maxEngines, cudaSchedule, cudaGraphs, deviceTraining, precision);
    }

    @Override
    public String toString() {
        return "EngineOptions[cpuThreads=" + (cpuThreads == 0 ? "all" : cpuThreads) + ", cpuKernels=" + lower(cpuKernels)
                + ", maxEngines=" + (maxEngines == 0 ? "default" : maxEngines) + ", cudaSchedule=" + lower(cudaSchedule)
                + ", cudaGraphs=" + (cudaGraphs ? "on" : "off") + ", deviceTraining=" + (deviceTraining ? "on" : "off")
                + ", precision=" + lower(precision) + "]";
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static String value(Properties properties, String name) {
        String v = properties.getProperty(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    private static int wholeNumber(String name, String value, int min, int max) {
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a whole number from " + min
                + (max == Integer.MAX_VALUE ? " up" : " to " + max) + ", got '" + value + "'");
    }

    private static boolean onOff(String name, String value) {
        if (value.equalsIgnoreCase("on") || value.equalsIgnoreCase("true")) {
            return true;
        }
        if (value.equalsIgnoreCase("off") || value.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException(name + " must be on or off, got '" + value + "'");
    }

    private static <E extends Enum<E>> E choice(String name, String value, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value.trim())) {
                return e;
            }
        }
        StringBuilder allowed = new StringBuilder();
        E[] all = type.getEnumConstants();
        for (int i = 0; i < all.length; i++) {
            allowed.append(i == 0 ? "" : i == all.length - 1 ? " or " : ", ").append(lower(all[i]));
        }
        throw new IllegalArgumentException(name + " must be " + allowed + ", got '" + value + "'");
    }
}
