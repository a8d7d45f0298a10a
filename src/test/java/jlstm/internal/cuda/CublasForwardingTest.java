package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cuBLAS 12 → 13 forwarding library, without a GPU: a stand-in libcublas.so.13 (two
 * functions, src/test/c/cublas13_standin.c) is built with gcc; with the forwarding library loaded,
 * JCuda's unchanged libJCublas2 calls reach the stand-in, arguments and results intact; without
 * it, JCublas2 cannot load. Each scenario runs in its own JVM.
 */
class CublasForwardingTest {
    private static Path forwarding;
    private static Path standIn;

    @BeforeAll
    static void buildStandIn() throws Exception {
        assumeTrue(NativeTools.onPath("gcc"), "gcc not on PATH: the forwarding library and the stand-in are not built");
        assumeTrue(System.getProperty("os.arch").equals("amd64"), "the forwarding trampolines are x86-64 only");
        Path dir = NativeTools.BUILD_DIR.resolve("standin");
        Files.createDirectories(dir);
        // The copy on the classpath: the one the jar ships (cuda/cublas_forwarding/build.sh put it there).
        try (InputStream in = CublasForwardingTest.class.getClassLoader()
                .getResourceAsStream(CublasLoader.FORWARDING_RESOURCE)) {
            assertNotNull(in, CublasLoader.FORWARDING_RESOURCE + " missing although gcc is available (build step "
                    + "cublas-forwarding-library in pom.xml)");
            // Kept out of the stand-in's folder, which the loader test points the loader at.
            Files.createDirectories(NativeTools.BUILD_DIR.resolve("forwarding"));
            forwarding = NativeTools.BUILD_DIR.resolve("forwarding").resolve("libcublas.so.12");
            Files.copy(in, forwarding, StandardCopyOption.REPLACE_EXISTING);
        }
        standIn = dir.resolve("libcublas.so.13").toAbsolutePath();
        NativeTools.runOk(List.of("gcc", "-shared", "-fPIC", "-Wall", "-Werror", "-Wl,-soname,libcublas.so.13",
                "-Wl,-z,noexecstack", "-o", standIn.toString(), "src/test/c/cublas13_standin.c"), null, 120);
    }

    @Test
    void jcublas2CallsReachCublas13ThroughTheForwardingLibrary() throws Exception {
        NativeTools.Result r = NativeTools.runOk(
                NativeTools.javaCommand(CublasForwardingCheck.class.getName(), "forward", standIn.toString()), null, 120);
        String out = r.stdout();
        assertTrue(out.contains("stand-in libcublas.so.13: cublasCreate_v2 reached"), r.all());
        assertTrue(out.contains("create=0"), r.all());
        // The handle written by the stand-in came back through JCublas2 and the trampolines intact.
        assertTrue(out.contains("getVersion=0 version=130042"), r.all());
        // cublasDestroy_v2 is not in the stand-in: its trampoline answers CUBLAS_STATUS_NOT_SUPPORTED (15).
        assertTrue(out.contains("destroy=15"), r.all());
        // Hand-written trampolines must not make the JVM warn about an executable stack.
        assertTrue(!r.stderr().contains("stack guard"), r.all());
    }

    @Test
    void loaderFindsCublas13AtTheConfiguredPathAndForwards() throws Exception {
        assumeTrue(System.getenv("LD_LIBRARY_PATH") == null, "LD_LIBRARY_PATH is set; a real cuBLAS may be found");
        assumeTrue(!Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcublas.so.12")),
                "a real libcublas.so.12 is installed");
        java.util.List<String> cmd = new java.util.ArrayList<>(
                NativeTools.javaCommand(CublasForwardingCheck.class.getName(), "ensure"));
        cmd.add(1, "-D" + CublasLoader.CUBLAS13_PATH_PROPERTY + "=" + standIn.getParent());
        NativeTools.Result r = NativeTools.runOk(cmd, null, 120);
        assertTrue(r.stdout().contains("loader=forwarding library libcublas.so.12 → " + standIn), r.all());
        assertTrue(r.stdout().contains("getVersion=0 version=130042"), r.all());
    }

    @Test
    void withoutItJcublas2CannotLoad() throws Exception {
        assumeTrue(System.getenv("LD_LIBRARY_PATH") == null, "LD_LIBRARY_PATH is set; a real cuBLAS may be found");
        assumeTrue(!Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcublas.so.12")),
                "a real libcublas.so.12 is installed");
        NativeTools.Result r = NativeTools.runOk(
                NativeTools.javaCommand(CublasForwardingCheck.class.getName(), "direct"), null, 120);
        assertTrue(r.stdout().contains("error=java.lang.UnsatisfiedLinkError"), r.all());
        assertTrue(r.stdout().contains("libcublas.so.12"), r.all());
    }

    @Test
    void forwardingLibraryExportsEveryImportedSymbolUnderVersionLibcublas12() throws Exception {
        assumeTrue(NativeTools.onPath("readelf"), "readelf not on PATH");
        Path symbols = Path.of("cuda/cublas_forwarding/cublas12_symbols.txt");
        assumeTrue(Files.isRegularFile(symbols), "not run from the repository root: " + symbols + " not found");
        List<String> expected = Files.readAllLines(symbols).stream()
                .filter(s -> !s.isBlank()).sorted().collect(Collectors.toList());
        NativeTools.Result r = NativeTools.runOk(List.of("readelf", "--dyn-syms", "-W", forwarding.toString()), null, 60);
        List<String> exported = r.stdout().lines()
                .map(String::trim)
                .filter(l -> l.contains(" FUNC ") && l.endsWith("@@libcublas.so.12"))
                .map(l -> l.substring(l.lastIndexOf(' ') + 1).replace("@@libcublas.so.12", ""))
                .sorted().collect(Collectors.toList());
        assertEquals(expected, exported);
        NativeTools.Result dynamic = NativeTools.runOk(List.of("readelf", "-d", forwarding.toString()), null, 60);
        assertTrue(dynamic.stdout().contains("Library soname: [libcublas.so.12]"), dynamic.all());
    }
}
