package jlstm.internal.cpu;

/**
 * How the CPU engine shares its time loops between the workers: the thresholds its heuristics
 * use, and a way for tests to force one schedule. Package-private on purpose: users choose
 * threads and kernels; this is the engine's own tuning, passed to it at construction (never a
 * mutable static, never a system property).
 *
 * @param timeLoop          {@link TimeLoop#AUTO} (the heuristics below) or one schedule forced
 * @param splitStepFlops    native kernels, units split: from this many FLOPs a step (2·B·4Hp·Rp)
 *                          splitting the units pays for the barrier per step
 * @param splitWeightBytes  native kernels, units split: above this much W_hh (16·Hp·Rp bytes) one
 *                          core's cache cannot hold it, and each worker keeping half does pay
 * @param rowsWeightBytes   native kernels, rows split: up to this much W_hh each worker can
 *                          stream all of it every step from its own cache (default: half of one
 *                          core's L2)
 * @param javaSplitStepFlops pure-Java path: from this many FLOPs a step its rows are split
 */
record CpuTuning(TimeLoop timeLoop, long splitStepFlops, long splitWeightBytes, long rowsWeightBytes,
                 double javaSplitStepFlops) {

    /** How a time loop is shared. */
    enum TimeLoop {
        /** The engine decides by shape (the thresholds of this record). */
        AUTO,
        /** Worker 0 runs the loop alone; the big products before and after it stay split. */
        ONE_WORKER,
        /** Each worker owns unit blocks of every sequence: one barrier per step (native only; rows for the Java path and projections). */
        SPLIT_UNITS,
        /** Each worker owns whole sequences, balanced by length: no barrier per step. */
        SPLIT_ROWS
    }

    /**
     * The defaults. Measured on 2 cores (benchmarks/RESULTS.md): (B, H) = (1, 256), 0.5 MFLOP a step
     * but 1 MiB of W_hh: units split 0.94 ms against 1.50 on one worker; (16, 128) with 256 KiB
     * of W_hh: one worker 3.0 ms, units split 3.1-3.4 (the barrier per step costs what the split
     * saves), which the rows split, with no barrier, avoids. The Java path's threshold keeps only
     * toy sizes on one worker.
     *
     * <p>The rows split's limit is half of one core's L2 (512 KiB where it cannot be read: the
     * Zen 5 above has 1 MiB). On the Intel Xeon (2 MiB L2 per core) at (T, B, I, H) =
     * (100, 32, 256, 256), W_hh 1 MiB, the rows split took 6-8 % less CPU time in the backward
     * pass than the units split (62.0 against 67.6 ms, 65.6 against 71.1, summed over both
     * workers), the same in the forward pass, with 2 barriers a layer instead of 101
     * (benchmarks/kernel_ab/README.md, split_profile.sh); at H = 512 (4 MiB of W_hh) the rows
     * split's forward loop was 15 % slower, and it stays split by units.
     */
    static final CpuTuning DEFAULT = new CpuTuning(TimeLoop.AUTO, 8_000_000, 512 * 1024,
            Math.max(512 * 1024, l2BytesPerCore() / 2), 1e5);

    /** One core's L2 in bytes from Linux's sysfs (cpu0, the level-2 cache), or 0 where it cannot be read. */
    static long l2BytesPerCore() {
        for (int index = 0; index < 8; index++) {
            java.nio.file.Path dir = java.nio.file.Path.of("/sys/devices/system/cpu/cpu0/cache/index" + index);
            try {
                if (!java.nio.file.Files.readString(dir.resolve("level")).trim().equals("2")) {
                    continue;
                }
                String size = java.nio.file.Files.readString(dir.resolve("size")).trim();
                long unit = size.endsWith("K") ? 1024 : size.endsWith("M") ? 1024 * 1024 : 1;
                return Long.parseLong(unit == 1 ? size : size.substring(0, size.length() - 1)) * unit;
            } catch (java.io.IOException | RuntimeException e) {
                return 0;  // no sysfs (not Linux, or a sandbox), or an unexpected format
            }
        }
        return 0;
    }

    CpuTuning {
        if (timeLoop == null) {
            throw new IllegalArgumentException("timeLoop must not be null");
        }
    }

    /** These thresholds with another time-loop schedule (tests force each one). */
    CpuTuning withTimeLoop(TimeLoop loop) {
        return new CpuTuning(loop, splitStepFlops, splitWeightBytes, rowsWeightBytes, javaSplitStepFlops);
    }
}
