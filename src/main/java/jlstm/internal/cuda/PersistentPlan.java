package jlstm.internal.cuda;

import jlstm.EngineOptions.Precision;

/**
 * How the persistent kernels of {@code cuda/lstm_persistent.cu} and {@code cuda/lstm_persistent_tiled.cu}
 * are launched for a hidden size and batch on this device, or why they cannot be: every block of a
 * cooperative launch must be resident at once, each holding the W_hh rows (forward) or columns
 * (backward) of its units in shared memory for all steps.
 *
 * <p>The plan puts U = ⌈H / (multiprocessors · k)⌉ units in a block (one warp each) for the
 * smallest k = 1, 2, … that the occupancy calculator accepts for both kernels. With two directions
 * that should run side by side, both grids must fit at the same time; when they cannot, the
 * directions run one after the other ({@link #concurrentDirections} false).
 *
 * <p>The forward pass runs the tiled kernel of {@code cuda/lstm_persistent_tiled.cu} where its
 * plan ({@link Tiled}) fits beside these: the same grids at once, one block per slice of units, the
 * whole slice of W_hh in shared memory; otherwise the warp-per-unit forward kernel of
 * {@code cuda/lstm_persistent.cu} ({@link #tiled} null, {@link #tiledReason} says why). The backward
 * pass likewise runs {@code lstm_persistent_tiled_backward} where its own plan
 * ({@link #tiledBackward}: U a multiple of 16, the W_hh columns of the block's units for all 4H
 * gate rows in shared memory) fits, else {@code lstm_persistent_backward} with this plan
 * ({@link #tiledBackwardReason} says why). The two tiled plans are independent: either may fit
 * without the other.
 *
 * @param units                units (warps) per block, U
 * @param blocks               blocks per launch, ⌈H / U⌉
 * @param forwardShared        dynamic shared memory of the forward kernels, bytes: (4·U·H + U·B) floats
 * @param backwardShared       of the backward kernel: (4·U·H + 2·U·B) floats
 * @param concurrentDirections whether both directions' grids fit on the device together
 * @param reason               null when usable; otherwise why not (for the log and {@code info})
 * @param tiled                the tiled forward kernel's plan, or null when it does not fit
 * @param tiledReason          why the tiled forward kernel does not fit, or null
 * @param tiledBackward        the tiled backward kernel's plan, or null when it does not fit
 * @param tiledBackwardReason  why the tiled backward kernel does not fit, or null
 */
record PersistentPlan(int units, int blocks, int forwardShared, int backwardShared, boolean concurrentDirections,
                      String reason, Tiled tiled, String tiledReason, Tiled tiledBackward,
                      String tiledBackwardReason) {
    private static final int WARP = 32;
    private static final int MAX_UNITS = 32;            // 1024 threads per block
    private static final int MAX_BLOCKS_PER_SM = 8;     // more would only shrink U further

    boolean usable() {
        return reason == null;
    }

    int threads() {
        return WARP * units;
    }

    /**
     * This plan with a tiled kernel's plan dropped where {@code forward} or {@code backward} is
     * false (tests of the warp-per-unit fallback: CudaLstmEngine.setTiledPersistentKernels).
     */
    PersistentPlan withTiled(boolean forward, boolean backward) {
        if (!usable() || forward && backward) {
            return this;
        }
        String off = " kernel turned off (CudaLstmEngine.setTiledPersistentKernels)";
        return new PersistentPlan(units, blocks, forwardShared, backwardShared, concurrentDirections, null,
                forward ? tiled : null, forward ? tiledReason : "tiled forward" + off,
                backward ? tiledBackward : null, backward ? tiledBackwardReason : "tiled backward" + off);
    }

    /**
     * The plan for hidden size {@code hidden}, batch {@code batch}, {@code directions} directions
     * and products in {@code precision} (the tiled kernel holds bf16 operands in half the bytes).
     */
    static PersistentPlan of(CudaDevice device, int hidden, int batch, int directions, Precision precision) {
        PersistentPlan plan = search(device, hidden, batch, directions);
        if (!plan.usable() && directions > 1) {
            PersistentPlan sequential = search(device, hidden, batch, 1);
            if (sequential.usable()) {
                plan = new PersistentPlan(sequential.units, sequential.blocks, sequential.forwardShared,
                        sequential.backwardShared, false, null, null, null, null, null);
            }
        }
        if (!plan.usable()) {
            return plan;
        }
        int grids = plan.concurrentDirections ? 2 : 1;
        String[] why = new String[1];
        Tiled tiled = Tiled.search(device, hidden, batch, grids, precision, false, why);
        String[] whyBackward = new String[1];
        Tiled backward = Tiled.search(device, hidden, batch, grids, precision, true, whyBackward);
        return new PersistentPlan(plan.units, plan.blocks, plan.forwardShared, plan.backwardShared,
                plan.concurrentDirections, null, tiled, tiled == null ? why[0] : null, backward,
                backward == null ? whyBackward[0] : null);
    }

    /**
     * The launch of one of {@code cuda/lstm_persistent_tiled.cu}'s kernels: {@link #THREADS}
     * threads per block, {@code units} hidden units per block, the product's B operand staged
     * {@code chunk} columns at a time, {@code shared} bytes of dynamic shared memory laid out as the
     * kernel's {@code tiled_shared_layout} for a product of M × K weights with the batch as N:
     * W slice [M][Kp + 16/E] of E, B-operand chunk [Bp][chunk + 16/E] of E, partial tiles
     * [S][M][Bp + 4] floats (S = 8 / tiles splits of k when a block has fewer than 8 tiles of
     * 16 × 16, else 1), the state in floats, each section 32-byte aligned, from the first 32-byte
     * aligned address (32 bytes added for that; Kp, Bp: K, B rounded up to 16; E = 2 bytes in bf16,
     * else 4).
     * <ul>
     * <li>Forward ({@code lstm_persistent_tiled_forward_*}): M = 4U gate rows of W_hh, K = H, the
     * staged operand h_{t-1}, the state c [U][B]; U a multiple of 4.
     * <li>Backward ({@code lstm_persistent_tiled_backward}): M = U columns of W_hh, K = 4H gate
     * rows, the staged operand dG_t, the state dh [U][B] and dc [U][B]; U a multiple of 16.
     * </ul>
     *
     * @param units  U
     * @param blocks ⌈H / U⌉
     * @param chunk  columns of the staged operand at a time, a multiple of 16 (Kp when all of it fits)
     * @param shared dynamic shared memory per block, bytes
     */
    record Tiled(int units, int blocks, int chunk, int shared) {
        /** kTiledThreads of the kernel: 8 warps. */
        static final int THREADS = 256;
        private static final int SIDE = 16;             // kTiledSide
        private static final int WARPS = THREADS / WARP;          // kTiledWarps
        private static final int MAX_TILES = 4 * WARPS;           // kTiledMaxTiles per warp × warps
        private static final int[] CHUNKS = {256, 128, 64, 32, 16};

        /**
         * The plan of the tiled forward kernels ({@code backward} false) or of the tiled backward
         * kernel: the smallest blocks-per-multiprocessor k = 1, 2, … whose U = ⌈H / (SMs · k)⌉
         * (rounded up to the kernel's multiple) fits the tile count, shared memory (with the staged
         * operand in the largest chunk that fits) and occupancy for {@code grids} grids at once;
         * null with the last reason in {@code why[0]} when none does.
         */
        static Tiled search(CudaDevice device, int hidden, int batch, int grids, Precision precision, boolean backward,
                            String[] why) {
            int sms = device.multiprocessors;
            int e = precision == Precision.BF16 ? 2 : 4;
            int pad = 16 / e;
            int multiple = backward ? SIDE : 4;              // whole 16-row tiles: M = U, or 4U
            int rowsPerUnit = backward ? 1 : 4;              // M per unit
            long kp = roundUp(backward ? 4L * hidden : hidden, SIDE), bp = roundUp(batch, SIDE);
            int stateFloats = backward ? 2 : 1;              // dh, dc; or c: [U][B] each
            Kernel[] kernels = backward ? new Kernel[] {Kernel.PERSISTENT_TILED_BACKWARD}
                    : new Kernel[] {Kernel.PERSISTENT_TILED_FORWARD_TRAINING, Kernel.PERSISTENT_TILED_FORWARD_INFERENCE};
            int limit = Integer.MAX_VALUE;
            for (Kernel k : kernels) {
                limit = Math.min(limit, device.maxDynamicShared(k));
            }
            String last = null;
            for (int perSm = 1; perSm <= MAX_BLOCKS_PER_SM; perSm++) {
                int units = (int) roundUp(CudaModule.ceilDiv(hidden, sms * perSm), multiple);
                int blocks = CudaModule.ceilDiv(hidden, units);
                long rows = (long) rowsPerUnit * units;
                long tiles = (rows / SIDE) * (bp / SIDE);
                if (tiles > MAX_TILES) {
                    last = tiles + " tiles of 16 × 16 per block (" + units + " units, B = " + batch + "), more than "
                            + MAX_TILES;
                    continue;
                }
                long splits = tiles >= WARPS ? 1 : WARPS / tiles;   // warps sharing a tile (TiledWork)
                long fixed = 32 + align32(rows * (kp + pad) * e) + align32(splits * rows * (bp + 4) * Float.BYTES)
                        + (long) stateFloats * units * batch * Float.BYTES;
                long shared = -1;
                int chunk = 0;
                for (int i = -1; i < CHUNKS.length && shared < 0; i++) {
                    int c = i < 0 ? (int) kp : CHUNKS[i];
                    if (i >= 0 && c >= kp) {
                        continue;
                    }
                    long bytes = fixed + align32(bp * (c + pad) * e);
                    if (bytes <= limit) {
                        shared = bytes;
                        chunk = c;
                    }
                }
                if (shared < 0) {
                    last = "the W_hh slice of " + units + " units with " + (backward ? "dG" : "h")
                            + " in chunks of 16 needs " + (fixed + align32(bp * (SIDE + pad) * e)) / 1024
                            + " KiB of shared memory per block, more than " + limit / 1024 + " KiB";
                    continue;
                }
                int fit = Integer.MAX_VALUE;
                for (Kernel k : kernels) {
                    fit = Math.min(fit, device.activeBlocksPerMultiprocessor(k, THREADS, shared));
                }
                if ((long) fit * sms >= (long) blocks * grids) {
                    return new Tiled(units, blocks, chunk, (int) shared);
                }
                last = (grids > 1 ? grids + " grids of " : "") + blocks + " blocks with " + shared / 1024
                        + " KiB shared memory do not fit at once (" + fit + " blocks per multiprocessor, " + sms
                        + " multiprocessors)";
            }
            why[0] = "tiled " + (backward ? "backward" : "forward") + " kernel does not fit: " + last;
            return null;
        }

        private static long roundUp(long n, int m) {
            return (n + m - 1) / m * m;
        }

        private static long align32(long bytes) {
            return roundUp(bytes, 32);
        }
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
                return new PersistentPlan(units, blocks, (int) forwardBytes, (int) backwardBytes, grids > 1, null, null,
                        null, null, null);
            }
            last = (grids > 1 ? grids + " grids of " : "") + blocks + " blocks of " + threads + " threads with "
                    + backwardBytes / 1024 + " KiB shared memory do not fit at once (" + fit
                    + " blocks per multiprocessor, " + sms + " multiprocessors)";
        }
        return new PersistentPlan(0, 0, 0, 0, false, "persistent kernels do not fit: " + last, null, null, null,
                null);
    }
}
