package jlstm.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jlstm.cuda.CudaCalls.check;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.Map;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

/**
 * The kernels of {@code cuda/*.cu}: the fatbin resource loaded into the current context with
 * {@code cuModuleLoadData}, every {@link Kernel} resolved, and a launcher that packs arguments.
 * Must be created and closed with the owning context current.
 */
final class CudaModule implements AutoCloseable {
    /** Classpath location of the fatbin that {@code cuda/build.sh} writes at build time. */
    static final String FATBIN_RESOURCE = "jlstm/cuda/jlstm_kernels.fatbin";

    private final CUmodule module = new CUmodule();
    private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
    private boolean loaded;

    /** Loads the module; see {@link #readFatbin} for the "kernels not built" case. */
    CudaModule(byte[] fatbin) {
        check(cuModuleLoadData(module, fatbin), "cuModuleLoadData(" + FATBIN_RESOURCE + ")");
        loaded = true;
        for (Kernel k : Kernel.values()) {
            CUfunction f = new CUfunction();
            check(cuModuleGetFunction(f, module, k.entryName()), "cuModuleGetFunction(" + k.entryName() + ")");
            functions.put(k, f);
        }
    }

    /** The fatbin bytes from the classpath, or null when the jar was built without nvcc. */
    static byte[] readFatbin() {
        try (InputStream in = CudaModule.class.getClassLoader().getResourceAsStream(FATBIN_RESOURCE)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + FATBIN_RESOURCE, e);
        }
    }

    /**
     * Launches a kernel on a stream. Arguments are {@link Integer}, {@link Float} or
     * {@link CUdeviceptr}, in the kernel's parameter order.
     */
    void launch(Kernel kernel, int gridX, int gridY, int blockX, int blockY, CUstream stream, Object... args) {
        String kinds = kernel.parameterKinds();
        if (args.length != kinds.length()) {
            throw new IllegalArgumentException(kernel.entryName() + " takes " + kinds.length() + " arguments ("
                    + kinds + "), got " + args.length);
        }
        Pointer[] params = new Pointer[args.length];
        for (int n = 0; n < args.length; n++) {
            Object a = args[n];
            char kind = kinds.charAt(n);
            if (kind == 'i' && a instanceof Integer i) {
                params[n] = Pointer.to(new int[] {i});
            } else if (kind == 'f' && a instanceof Float f) {
                params[n] = Pointer.to(new float[] {f});
            } else if (kind == 'p' && a instanceof CUdeviceptr p) {
                params[n] = Pointer.to(p);
            } else {
                throw new IllegalArgumentException("argument " + n + " of " + kernel.entryName() + " must be of kind '"
                        + kind + "' (" + kinds + "), got " + a);
            }
        }
        check(cuLaunchKernel(functions.get(kernel), gridX, gridY, 1, blockX, blockY, 1, 0, stream,
                Pointer.to(params), null), "cuLaunchKernel(" + kernel.entryName() + ", grid " + gridX + "×" + gridY
                + ", block " + blockX + "×" + blockY + ")");
    }

    /** ⌈n / d⌉, for every grid size. */
    static int ceilDiv(long n, int d) {
        return (int) ((n + d - 1) / d);
    }

    @Override
    public void close() {
        if (loaded) {
            loaded = false;
            check(cuModuleUnload(module), "cuModuleUnload");
        }
    }
}
