package jlstm.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.ludovic.netlib.blas.NativeBLAS;

/**
 * The optional native sgemm of the CPU engine: netlib's JNI binding ({@code dev.ludovic.netlib:blas})
 * to the system {@code libblas.so.3}, which on Debian is OpenBLAS through the alternatives system.
 * OpenBLAS's hand-written AVX-512 sgemm runs about twice as fast per core as the best pure-Java
 * kernel ({@link Gemm}), which matters for the large per-layer products at B ≥ 32.
 *
 * <p>Choice: the system property {@code jlstm.cpu.blas} = {@code auto} (default: native when it
 * is usable), {@code native} (required: the CPU backend reports itself unavailable with the reason
 * otherwise) or {@code java} (never). "Usable" means: the JNI implementation loaded (netlib's own
 * pure-Java fallbacks are never counted, they are no faster than {@link Gemm}), one small product
 * in each transpose combination matches a plain Java product, and (in auto mode) the library is a
 * known optimised one (OpenBLAS, MKL, BLIS, ATLAS), not the reference BLAS. netlib reports load failures
 * through {@code java.util.logging}; that logger is silenced, the reason is kept for {@code info}.
 *
 * <p>Threads: OpenBLAS runs its own pool, sized by {@code OPENBLAS_NUM_THREADS} (default: every
 * core) when the library loads. With {@code OPENBLAS_NUM_THREADS=1} the engine's workers each call
 * it on their share; otherwise the engine calls it from one thread while its workers wait, so the
 * two pools never compete for the cores.
 */
final class NativeBlas {
    /** The property that chooses the path. */
    static final String PROPERTY = "jlstm.cpu.blas";

    /** Keeps the silenced logger alive: java.util.logging holds loggers weakly and would forget the level. */
    private static final Logger NETLIB_LOGGER = Logger.getLogger("dev.ludovic.netlib");

    /** What was found at first use: the binding (null when not usable) and a sentence for {@code info}. */
    record Status(NativeBlas blas, boolean required, String description) {
        boolean usable() {
            return blas != null;
        }
    }

    private static volatile Status status;

    private final NativeBLAS blas;
    private final boolean singleThreaded;

    private NativeBlas(NativeBLAS blas) {
        this.blas = blas;
        String threads = System.getenv("OPENBLAS_NUM_THREADS");
        this.singleThreaded = threads != null && threads.trim().equals("1");
    }

    /**
     * Whether the library runs each call on the calling thread alone ({@code OPENBLAS_NUM_THREADS=1},
     * read by OpenBLAS when it loads): the engine then splits the native work across its own workers,
     * otherwise it calls from one thread and lets OpenBLAS's threads share each product.
     */
    boolean singleThreaded() {
        return singleThreaded;
    }

    /** The path chosen by {@value #PROPERTY}, probed once per process. */
    static Status status() {
        Status s = status;
        if (s == null) {
            synchronized (NativeBlas.class) {
                s = status;
                if (s == null) {
                    s = probe(System.getProperty(PROPERTY, "auto"));
                    status = s;
                }
            }
        }
        return s;
    }

    /** The binding when usable, whatever the property says (for tests that compare the two paths). */
    static NativeBlas loadIgnoringProperty() {
        return probe("native").blas();
    }

    private static Status probe(String property) {
        String mode = property.trim().toLowerCase(Locale.ROOT);
        switch (mode) {
            case "java":
                return new Status(null, false, "pure Java (" + PROPERTY + "=java)");
            case "auto":
            case "native":
                break;
            default:
                throw new IllegalArgumentException(PROPERTY + " must be auto, native or java, got '" + property + "'");
        }
        boolean required = mode.equals("native");
        NETLIB_LOGGER.setLevel(Level.OFF);
        NativeBLAS loaded;
        try {
            loaded = NativeBLAS.getInstance();
        } catch (Throwable e) { // UnsatisfiedLinkError, missing classes, netlib's RuntimeException
            return new Status(null, required, "pure Java (no native BLAS: " + describe(e) + ")");
        }
        String kind = loaded.getClass().getName();
        if (!kind.endsWith(".JNIBLAS")) {
            return new Status(null, required, "pure Java (netlib gave " + kind + ", not its JNI binding)");
        }
        NativeBlas candidate = new NativeBlas(loaded);
        String mismatch = candidate.selfCheck();
        if (mismatch != null) {
            return new Status(null, required, "pure Java (native BLAS failed its self-check: " + mismatch + ")");
        }
        String library = libraryName();
        if (!required && !library.startsWith("OpenBLAS") && !library.startsWith("optimised")) {
            // Netlib's reference BLAS (plain Fortran loops) is several times slower than Gemm.
            return new Status(null, false, "pure Java (the native BLAS is " + library
                    + ", not a known optimised one; " + PROPERTY + "=native uses it anyway)");
        }
        String threads = System.getenv("OPENBLAS_NUM_THREADS");
        String split = candidate.singleThreaded() ? "OPENBLAS_NUM_THREADS=1: each worker calls it on its share"
                : "called from one thread, OpenBLAS's own threads share each product ("
                + (threads == null ? "OPENBLAS_NUM_THREADS unset: one per core" : "OPENBLAS_NUM_THREADS=" + threads) + ")";
        return new Status(candidate, required, "native BLAS for the large products: " + library
                + " via netlib JNI, " + split + "; pure Java for the rest");
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        Throwable cause = e.getCause();
        if (cause != null && cause.getMessage() != null) {
            message = message + ": " + cause.getMessage();
        }
        return message == null ? e.getClass().getSimpleName() : message;
    }

    /** Which BLAS library the process mapped (from /proc/self/maps), e.g. "OpenBLAS (/usr/lib/…/libblas.so.3)". */
    private static String libraryName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash < 0) {
                    continue;
                }
                String file = line.substring(slash);
                String name = Path.of(file).getFileName().toString();
                if (name.contains("blas") && !name.contains("netlibblasjni")) {
                    String real = Path.of(file).toRealPath().toString();
                    String lower = real.toLowerCase(Locale.ROOT);
                    String kind = lower.contains("openblas") ? "OpenBLAS"
                            : lower.contains("mkl") || lower.contains("blis") || lower.contains("atlas")
                            ? "optimised BLAS" : "system BLAS";
                    return kind + " (" + real + ")";
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable: the generic name below
        }
        return "system libblas";
    }

    /**
     * Compares a small product in each transpose combination with a plain loop; null when all agree.
     * Catches a broken or mismatched library before it can give wrong results quietly.
     */
    private String selfCheck() {
        Random random = new Random(12345);
        int m = 7, n = 9, k = 13;
        float[] a = new float[m * k], b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextFloat() - 0.5f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = random.nextFloat() - 0.5f;
        }
        for (int combo = 0; combo < 4; combo++) {
            boolean transA = (combo & 1) != 0, transB = (combo & 2) != 0;
            float[] c = new float[m * n];
            try {
                // Row-major A is [m][k] or (transposed) [k][m]; B is [k][n] or [n][k]. beta = 1 on ones checks accumulation.
                java.util.Arrays.fill(c, 1f);
                gemm(transA, transB, m, n, k, 1f, a, 0, transA ? m : k, b, 0, transB ? k : n, 1f, c, 0, n);
            } catch (Throwable e) {
                return "sgemm threw " + describe(e);
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 1;
                    for (int p = 0; p < k; p++) {
                        sum += (double) (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                    }
                    if (Math.abs(c[i * n + j] - sum) > 1e-4) {
                        return String.format(Locale.ROOT, "transA=%b transB=%b: c[%d][%d] = %g, expected %g",
                                transA, transB, i, j, c[i * n + j], sum);
                    }
                }
            }
        }
        return null;
    }

    /**
     * Row-major C = alpha · op(A) · op(B) + beta · C, C [m][n] at cOff with row stride ldc.
     *
     * @param a op(A) [m][k]: A is [m][k] (row stride lda ≥ k), or [k][m] (lda ≥ m) when transA
     * @param b op(B) [k][n]: B is [k][n] (ldb ≥ n), or [n][k] (ldb ≥ k) when transB
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
              float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        // BLAS is column-major: a row-major [m][n] matrix is its transpose, so C = op(A)·op(B)
        // is computed as Cᵀ = op(B)ᵀ · op(A)ᵀ with the operands swapped.
        blas.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha, b, bOff, ldb, a, aOff, lda, beta, c, cOff,
                ldc);
    }
}
