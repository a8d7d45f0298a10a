package jlstm.internal.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Makes {@code libcublas.so.12} loadable for JCuda's {@code libJCublas2} before that class is
 * touched (a failed static initialiser would make JCublas2 unusable for the rest of the JVM).
 *
 * <ol>
 *   <li>If {@code libcublas.so.12} is on the dynamic linker's path (LD_LIBRARY_PATH, the
 *       ld.so cache, the system directories), nothing is done.</li>
 *   <li>If it lies in a known place off that path (CUDA 12 toolkit, a Python wheel), it is
 *       loaded by absolute path; libJCublas2's dependency then resolves to it by soname.</li>
 *   <li>Otherwise, if a {@code libcublas.so.13} is found (LD_LIBRARY_PATH, the system property
 *       {@value #CUBLAS13_PATH_PROPERTY} — a file or a directory —, /usr/local/cuda*&#47;lib64,
 *       the ld.so cache, Python wheels {@code nvidia/cublas/lib}, {@code nvidia/cu13/lib} and other
 *       {@code nvidia/*&#47;lib} folders of the active venv, of the {@code python3} on PATH and of
 *       virtual environments under /opt),
 *       it is loaded by absolute path, then the forwarding library {@code libcublas.so.12}
 *       (built from {@code cuda/cublas_forwarding}, shipped in the jar) is extracted and loaded:
 *       its trampolines call into cuBLAS 13.</li>
 * </ol>
 */
final class CublasLoader {
    /** System property: a libcublas.so.13 file, or a directory holding one. */
    static final String CUBLAS13_PATH_PROPERTY = "jlstm.cublas13.path";
    /** Classpath location of the forwarding library built by cuda/cublas_forwarding/build.sh. */
    static final String FORWARDING_RESOURCE = "jlstm/internal/cuda/libcublas.so.12";

    private static final String CUBLAS12 = "libcublas.so.12";
    private static final String CUBLAS13 = "libcublas.so.13";

    private static String loadedDescription;

    private CublasLoader() {
    }

    /**
     * Ensures libcublas.so.12 (real or forwarding) can be resolved; idempotent.
     *
     * @return how cuBLAS is provided, e.g. "libcublas.so.12 (system)" or
     *         "forwarding library libcublas.so.12 → /usr/local/cuda-13.0/lib64/libcublas.so.13"
     * @throws IllegalStateException "cuBLAS library missing: …" when neither is available
     */
    static synchronized String ensureLoaded() {
        if (loadedDescription != null) {
            return loadedDescription;
        }
        Optional<Path> standIn = CudaStandIn.cublas();
        if (standIn.isPresent()) {
            System.load(standIn.get().toString());
            loadedDescription = "CPU stand-in " + standIn.get();
            return loadedDescription;
        }
        if (onLinkerPath(CUBLAS12)) {
            loadedDescription = CUBLAS12 + " (on the dynamic linker path)";
            return loadedDescription;
        }
        Optional<Path> cublas12 = find(CUBLAS12, searchDirectories(false));
        if (cublas12.isPresent()) {
            loadBeside(cublas12.get(), "libcublasLt.so.12");
            System.load(cublas12.get().toString());
            loadedDescription = cublas12.get().toString();
            return loadedDescription;
        }
        Optional<Path> cublas13 = findCublas13();
        if (cublas13.isEmpty()) {
            throw new IllegalStateException("cuBLAS library missing: " + CUBLAS12 + " not found, and no " + CUBLAS13
                    + " to forward to (searched LD_LIBRARY_PATH, the ld.so cache, /usr/local/cuda*/lib64, Python "
                    + "wheels; set -D" + CUBLAS13_PATH_PROPERTY + "=DIR to point at a libcublas.so.13)");
        }
        loadForwarding(cublas13.get());
        loadedDescription = "forwarding library " + CUBLAS12 + " → " + cublas13.get();
        return loadedDescription;
    }

    /**
     * Loads {@code cublas13} (and its libcublasLt beside it) by absolute path, then the
     * forwarding library from the jar. Public to the package for the forwarding test.
     */
    static void loadForwarding(Path cublas13) {
        Path forwarding = extractForwardingLibrary();
        loadBeside(cublas13, "libcublasLt.so.13");
        System.load(cublas13.toAbsolutePath().toString());
        System.load(forwarding.toString());
    }

    private static void loadBeside(Path library, String companion) {
        Path lt = library.resolveSibling(companion);
        if (Files.isRegularFile(lt)) {
            System.load(lt.toAbsolutePath().toString());
        }
    }

    private static Path extractForwardingLibrary() {
        try (InputStream in = CublasLoader.class.getResourceAsStream("/" + FORWARDING_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("cuBLAS library missing: only " + CUBLAS13 + " is installed and "
                        + "this jar has no forwarding library (built without gcc; see cuda/cublas_forwarding)");
            }
            // The file must be named libcublas.so.12: libJCublas2 finds it by that soname once loaded.
            Path dir = Files.createTempDirectory("jlstm-cublas");
            Path file = dir.resolve(CUBLAS12);
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            file.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new IllegalStateException("cannot extract the cuBLAS forwarding library: " + e.getMessage(), e);
        }
    }

    /** A libcublas.so.13: the configured path first, then the usual places. */
    static Optional<Path> findCublas13() {
        String configured = System.getProperty(CUBLAS13_PATH_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            Path p = Path.of(configured.trim());
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
            Optional<Path> inDir = find(CUBLAS13, List.of(p));
            if (inDir.isPresent()) {
                return inDir;
            }
        }
        Optional<Path> found = find(CUBLAS13, searchDirectories(true));
        if (found.isPresent()) {
            return found;
        }
        return ldCachePath(CUBLAS13);
    }

    /** Whether the dynamic linker would find the library by soname (LD_LIBRARY_PATH, cache, system dirs). */
    private static boolean onLinkerPath(String soname) {
        List<Path> dirs = new ArrayList<>(pathList(System.getenv("LD_LIBRARY_PATH")));
        dirs.addAll(List.of(Path.of("/lib64"), Path.of("/usr/lib64"), Path.of("/lib/x86_64-linux-gnu"),
                Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/lib"), Path.of("/usr/lib")));
        return find(soname, dirs).isPresent() || ldCachePath(soname).isPresent();
    }

    /** The path the ld.so cache lists for a soname (read from /etc/ld.so.cache, no process spawned). */
    private static Optional<Path> ldCachePath(String soname) {
        Path cache = Path.of("/etc/ld.so.cache");
        try {
            if (!Files.isReadable(cache)) {
                return Optional.empty();
            }
            // Entries are NUL-terminated strings: the soname, and elsewhere the full path ending in it.
            String text = new String(Files.readAllBytes(cache), StandardCharsets.ISO_8859_1);
            for (String s : text.split("\0")) {
                if (s.startsWith("/") && s.endsWith("/" + soname) && Files.exists(Path.of(s))) {
                    return Optional.of(Path.of(s));
                }
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** Directories where CUDA toolkits and Python wheels put cuBLAS, LD_LIBRARY_PATH first. */
    static List<Path> searchDirectories(boolean cuda13) {
        Set<Path> dirs = new LinkedHashSet<>(pathList(System.getenv("LD_LIBRARY_PATH")));
        for (Path root : List.of(Path.of("/usr/local"), Path.of("/opt"))) {
            for (Path cuda : children(root, "cuda*")) {
                dirs.add(cuda.resolve("lib64"));
                dirs.add(cuda.resolve("targets/x86_64-linux/lib"));
            }
        }
        for (Path site : sitePackages()) {
            dirs.add(site.resolve("nvidia/cublas/lib"));
            if (cuda13) {
                dirs.add(site.resolve("nvidia/cu13/lib"));
                for (Path wheel : children(site.resolve("nvidia"), "*")) {   // other CUDA 13 wheel layouts
                    dirs.add(wheel.resolve("lib"));
                }
            }
        }
        String conda = System.getenv("CONDA_PREFIX");
        if (conda != null) {
            dirs.add(Path.of(conda, "lib"));
        }
        return new ArrayList<>(dirs);
    }

    /**
     * site-packages / dist-packages of the active venv, of the {@code python3} first on PATH (often a
     * venv: {@code …/bin/python3} → {@code …/lib/python3.x/site-packages}), of virtual environments
     * under /opt (as on hosts where PyTorch lives in {@code /opt/<name>/.venv}), the user and the
     * system Pythons.
     */
    private static List<Path> sitePackages() {
        List<Path> roots = new ArrayList<>();
        for (String env : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = System.getenv(env);
            if (v != null) {
                roots.add(Path.of(v, "lib"));
            }
        }
        for (Path dir : pathList(System.getenv("PATH"))) {
            if (Files.isExecutable(dir.resolve("python3")) && dir.getParent() != null) {
                roots.add(dir.getParent().resolve("lib"));
                break;
            }
        }
        for (Path opt : children(Path.of("/opt"), "*")) {
            roots.add(opt.resolve(".venv/lib"));
            roots.add(opt.resolve("venv/lib"));
            roots.add(opt.resolve("lib"));
        }
        String home = System.getProperty("user.home");
        if (home != null) {
            roots.add(Path.of(home, ".local/lib"));
        }
        roots.addAll(List.of(Path.of("/usr/local/lib"), Path.of("/usr/lib"), Path.of("/opt/conda/lib")));
        List<Path> sites = new ArrayList<>();
        for (Path root : roots) {
            for (Path python : children(root, "python3*")) {
                sites.add(python.resolve("site-packages"));
                sites.add(python.resolve("dist-packages"));
            }
        }
        return sites;
    }

    private static List<Path> children(Path dir, String glob) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, glob)) {
            stream.forEach(out::add);
        } catch (IOException | RuntimeException e) {
            // An unreadable directory is simply not a place cuBLAS can be loaded from.
        }
        out.sort(null);
        return out;
    }

    private static List<Path> pathList(String value) {
        List<Path> out = new ArrayList<>();
        if (value != null) {
            for (String part : value.split(":")) {
                if (!part.isBlank()) {
                    out.add(Path.of(part));
                }
            }
        }
        return out;
    }

    private static Optional<Path> find(String name, List<Path> dirs) {
        for (Path dir : dirs) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
