package jlstm.internal.cuda;

/**
 * How the persistent kernels of {@code cuda/lstm_persistent.cu} are launched for a hidden size
 * and batch on this device, or why they cannot be: every block of a cooperative launch must be
 * resident at once, each holding the W_hh rows (forward) or columns (backward) of its units in
 * shared memory for all steps.
 *
 * <p>The plan puts U = ⌈H / (multiprocessors · k)⌉ units in a block (one warp each) for the
 * smallest k = 1, 2, … that the occupancy calculator accepts for both kernels. With two directions
 * that should run side by side, both grids must fit at the same time; when they cannot, the
 * directions run one after the other ({@link #concurrentDirections} false).
 *
 * @param units                units (warps) per block, U
 * @param blocks               blocks per launch, ⌈H / U⌉
 * @param forwardShared        dynamic shared memory of the forward kernels, bytes: (4·U·H + U·B) floats
 * @param backwardShared       of the backward kernel: (4·U·H + 2·U·B) floats
 * @param concurrentDirections whether both directions' grids fit on the device together
 * @param reason               null when usable; otherwise why not (for the log and {@code info})
 */
record PersistentPlan(int units, int blocks, int forwardShared, int backwardShared, boolean concurrentDirections,
                      String reason) {
    private static final int WARP = 32;
    private static final int MAX_UNITS = 32;            // 1024 threads per block
    private static final int MAX_BLOCKS_PER_SM = 8;     // more would only shrink U further

    boolean usable() {
        return reason == null;
    }

    int threads() {
        return WARP * units;
    }

    /** The plan for hidden size {@code hidden}, batch {@code batch} and {@code directions} directions. */
    static PersistentPlan of(CudaDevice device, int hidden, int batch, int directions) {
        PersistentPlan plan = search(device, hidden, batch, directions);
        if (plan.usable() || directions == 1) {
            return plan;
        }
        PersistentPlan sequential = search(device, hidden, batch, 1);
        return sequential.usable()
                ? new PersistentPlan(sequential.units, sequential.blocks, sequential.forwardShared,
                        sequential.backwardShared, false, null)
                : plan;
    }

    private static PersistentPlan search(CudaDevice device, int hidden, int batch, int grids) {
        int sms = device.multiprocessors;
        String last = null;
        for (int perSm = 1; perSm <= MAX_BLOCKS_PER_SM; perSm++) {
            int units = CudaModule.ceilDiv(hidden, sms * perSm);
            if (units > MAX_UNITS) {
                last = "H = " + hidden + " needs more than " + MAX_UNITS + " units per block on " + sms
                        + " multiprocessors";
                continue;
            }
            int blocks = CudaModule.ceilDiv(hidden, units);
            long forwardBytes = (4L * units * hidden + (long) units * batch) * Float.BYTES;
            long backwardBytes = (4L * units * hidden + 2L * units * batch) * Float.BYTES;
            if (forwardBytes > device.maxDynamicShared(Kernel.PERSISTENT_FORWARD_TRAINING)
                    || forwardBytes > device.maxDynamicShared(Kernel.PERSISTENT_FORWARD_INFERENCE)
                    || backwardBytes > device.maxDynamicShared(Kernel.PERSISTENT_BACKWARD)) {
                last = "the W_hh slice of " + units + " units needs " + backwardBytes / 1024
                        + " KiB of shared memory per block, more than the device allows";
                continue;
            }
            int threads = WARP * units;
            int fit = Math.min(Math.min(
                    device.activeBlocksPerMultiprocessor(Kernel.PERSISTENT_FORWARD_TRAINING, threads, forwardBytes),
                    device.activeBlocksPerMultiprocessor(Kernel.PERSISTENT_FORWARD_INFERENCE, threads, forwardBytes)),
                    device.activeBlocksPerMultiprocessor(Kernel.PERSISTENT_BACKWARD, threads, backwardBytes));
            if ((long) fit * sms >= (long) blocks * grids) {
                return new PersistentPlan(units, blocks, (int) forwardBytes, (int) backwardBytes, grids > 1, null);
            }
            last = (grids > 1 ? grids + " grids of " : "") + blocks + " blocks of " + threads + " threads with "
                    + backwardBytes / 1024 + " KiB shared memory do not fit at once (" + fit
                    + " blocks per multiprocessor, " + sms + " multiprocessors)";
        }
        return new PersistentPlan(0, 0, 0, 0, false, "persistent kernels do not fit: " + last);
    }
}
