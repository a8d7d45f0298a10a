package jlstm.internal.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchCooperativeKernel;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;

import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/**
 * Launches one kernel with argument storage that is allocated once and reused: one single-element
 * array per parameter, of the parameter's kind, behind a fixed {@code void**} array. A launch
 * writes the values in order ({@link #begin()}, then {@link #i}, {@link #f}, {@link #p} per
 * parameter) and starts the kernel; nothing is allocated and no message is built unless it fails.
 * One launcher serves one thread at a time (the owning engine's).
 */
final class KernelLauncher {
    private final Kernel kernel;
    private final CUfunction function;
    private final String kinds;
    private final int[][] ints;
    private final float[][] floats;
    private final long[][] longs;       // addresses (p) and long long values (l): both 8 bytes
    private final double[][] doubles;
    private final Pointer params;
    private int next;

    KernelLauncher(Kernel kernel, CUfunction function) {
        this.kernel = kernel;
        this.function = function;
        this.kinds = kernel.parameterKinds();
        int n = kinds.length();
        ints = new int[n][];
        floats = new float[n][];
        longs = new long[n][];
        doubles = new double[n][];
        Pointer[] slots = new Pointer[n];
        for (int a = 0; a < n; a++) {
            switch (kinds.charAt(a)) {
                case 'i' -> slots[a] = Pointer.to(ints[a] = new int[1]);
                case 'f' -> slots[a] = Pointer.to(floats[a] = new float[1]);
                case 'p', 'l' -> slots[a] = Pointer.to(longs[a] = new long[1]);   // a device pointer is 8 bytes
                case 'd' -> slots[a] = Pointer.to(doubles[a] = new double[1]);
                default -> throw new IllegalStateException(kernel + ": unknown parameter kind " + kinds.charAt(a));
            }
        }
        params = Pointer.to(slots);
    }

    /** Starts writing the arguments of the next launch. */
    KernelLauncher begin() {
        next = 0;
        return this;
    }

    /** The next argument, an int. */
    KernelLauncher i(int value) {
        slot('i')[0] = value;
        return this;
    }

    /** The next argument, a float. */
    KernelLauncher f(float value) {
        int a = expect('f');
        floats[a][0] = value;
        return this;
    }

    /** The next argument, a device address (0 for a null pointer). */
    KernelLauncher p(long address) {
        int a = expect('p');
        longs[a][0] = address;
        return this;
    }

    /** The next argument, a long long. */
    KernelLauncher l(long value) {
        int a = expect('l');
        longs[a][0] = value;
        return this;
    }

    /** The next argument, a double. */
    KernelLauncher d(double value) {
        int a = expect('d');
        doubles[a][0] = value;
        return this;
    }

    private int[] slot(char kind) {
        return ints[expect(kind)];
    }

    private int expect(char kind) {
        int a = next++;
        if (a >= kinds.length() || kinds.charAt(a) != kind) {
            throw new IllegalArgumentException("argument " + a + " of " + kernel.entryName() + " is not of kind '"
                    + kind + "' (parameters: " + kinds + ")");
        }
        return a;
    }

    /** Launches with the arguments written since {@link #begin()}. */
    void launch(int gridX, int gridY, int blockX, int blockY, int sharedBytes, CUstream stream) {
        requireAllArguments();
        int result = cuLaunchKernel(function, gridX, gridY, 1, blockX, blockY, 1, sharedBytes, stream, params, null);
        if (result != CUresult.CUDA_SUCCESS) {
            throw failure("cuLaunchKernel", result, gridX, gridY, blockX, blockY, sharedBytes);
        }
    }

    /** A cooperative launch: every block resident at once (grid-wide synchronisation). */
    void launchCooperative(int gridX, int blockX, int sharedBytes, CUstream stream) {
        requireAllArguments();
        int result = cuLaunchCooperativeKernel(function, gridX, 1, 1, blockX, 1, 1, sharedBytes, stream, params);
        if (result != CUresult.CUDA_SUCCESS) {
            throw failure("cuLaunchCooperativeKernel", result, gridX, 1, blockX, 1, sharedBytes);
        }
    }

    private void requireAllArguments() {
        if (next != kinds.length()) {
            throw new IllegalArgumentException(kernel.entryName() + " takes " + kinds.length() + " arguments ("
                    + kinds + "), " + next + " were given");
        }
    }

    private CudaException failure(String call, int result, int gridX, int gridY, int blockX, int blockY, int shared) {
        return new CudaException(call + "(" + kernel.entryName() + ", grid " + gridX + "×" + gridY + ", block " + blockX
                + "×" + blockY + ", " + shared + " B shared) failed: " + CUresult.stringFor(result));
    }
}
