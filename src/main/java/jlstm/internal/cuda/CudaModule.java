package jlstm.internal.cuda;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jlstm.internal.cuda.CudaCalls.check;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.Map;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/**
 * The kernels of {@code cuda/*.cu}: the fatbin resource loaded into the current context with
 * {@code cuModuleLoadData}, every {@link Kernel} resolved up front, one {@link KernelLauncher}
 * each. Must be created and closed with the owning context current.
 */
final class CudaModule implements AutoCloseable {
    /** Classpath location of the fatbin that {@code cuda/build.sh} writes at build time. */
    static final String FATBIN_RESOURCE = "jlstm/internal/cuda/jlstm_kernels.fatbin";

    private final CUmodule module = new CUmodule();
    private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
    private final Map<Kernel, KernelLauncher> launchers = new EnumMap<>(Kernel.class);
    private boolean loaded;

    /** Loads the module; see {@link #readFatbin} for the "kernels not built" case. */
    CudaModule(byte[] fatbin) {
        check(cuModuleLoadData(module, fatbin), "cuModuleLoadData(" + FATBIN_RESOURCE + ")");
        loaded = true;
        for (Kernel k : Kernel.values()) {
            CUfunction f = new CUfunction();
            check(cuModuleGetFunction(f, module, k.entryName()), "cuModuleGetFunction(" + k.entryName() + ")");
            functions.put(k, f);
            launchers.put(k, new KernelLauncher(k, f));
        }
    }

    /** The fatbin bytes from the classpath, or null when the jar was built without nvcc. */
    static byte[] readFatbin() {
        try (InputStream in = CudaModule.class.getResourceAsStream("/" + FATBIN_RESOURCE)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + FATBIN_RESOURCE, e);
        }
    }

    /** The reusable launcher of a kernel. */
    KernelLauncher launcher(Kernel kernel) {
        return launchers.get(kernel);
    }

    /** The driver's handle of a kernel (occupancy queries, attributes). */
    CUfunction function(Kernel kernel) {
        return functions.get(kernel);
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
