package jlstm.internal.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The CPU stand-in for the CUDA driver and cuBLAS ({@code cuda/standin}, built by
 * {@code mvn package} into {@code target/cuda-standin}), selected only on purpose with
 * {@code -Djlstm.cuda.standin=DIR}. It runs the project's real kernels, compiled for the host,
 * through JCuda's unchanged natives: {@link #loadDriverIfSelected()} loads its
 * {@code libcuda.so.1} before JCuda's driver binding loads, which then binds to it by soname, and
 * {@link CublasLoader} loads its {@code libcublas.so.12} the same way. Times measured on it mean
 * nothing; results are the GPU code's results.
 *
 * <p>Without the property nothing changes: no stand-in is looked for, and a machine without a GPU
 * reports why the CUDA backend is unusable.
 */
public final class CudaStandIn {
    /** System property: the folder holding the stand-in's libcuda.so.1 and libcublas.so.12. */
    public static final String PROPERTY = "jlstm.cuda.standin";
    /** What the device reports as its name. */
    static final String DEVICE_NAME = "jlstm CPU stand-in (not a GPU)";

    private static Path loadedFrom;

    private CudaStandIn() {
    }

    /** The folder named by {@value #PROPERTY}, when the property is set (and not blank). */
    public static Optional<Path> selected() {
        String value = System.getProperty(PROPERTY);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(Path.of(value.trim()));
    }

    /** Whether this JVM runs the CUDA backend on the stand-in. */
    public static synchronized boolean active() {
        return loadedFrom != null;
    }

    /**
     * Loads the stand-in's libcuda.so.1 when selected; must run before JCuda's driver class is
     * first touched. Idempotent.
     *
     * @throws IllegalStateException when selected but the folder does not hold a built stand-in
     */
    static synchronized void loadDriverIfSelected() {
        Optional<Path> dir = selected();
        if (dir.isEmpty() || loadedFrom != null) {
            return;
        }
        Path driver = dir.get().resolve("libcuda.so.1");
        Path cublas = dir.get().resolve("libcublas.so.12");
        if (!Files.isRegularFile(driver) || !Files.isRegularFile(cublas)) {
            throw new IllegalStateException("-D" + PROPERTY + "=" + dir.get() + ": no CUDA stand-in there (expected "
                    + "libcuda.so.1 and libcublas.so.12, built by mvn package into target/cuda-standin; it needs g++)");
        }
        System.load(driver.toAbsolutePath().toString());
        loadedFrom = dir.get().toAbsolutePath();
    }

    /** The stand-in's libcublas.so.12, once the driver part is loaded; empty otherwise. */
    static synchronized Optional<Path> cublas() {
        return loadedFrom == null ? Optional.empty() : Optional.of(loadedFrom.resolve("libcublas.so.12"));
    }

    /** Folder the stand-in was loaded from, for messages. */
    static synchronized String describeSource() {
        return loadedFrom == null ? "" : loadedFrom.toString();
    }
}
