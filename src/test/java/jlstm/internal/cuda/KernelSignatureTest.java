package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The Java side's idea of each kernel's parameters ({@link Kernel#parameterKinds()}, which
 * {@link CudaModule} checks at every launch) against the {@code extern "C"} declarations in
 * {@code cuda/*.cu}: a kernel whose signature changes without the Java side would otherwise read
 * its arguments from the wrong places, on a GPU and on the stand-in alike.
 */
class KernelSignatureTest {
    private static final Pattern DECLARATION = Pattern.compile(
            "extern \"C\" __global__ (?:__launch_bounds__\\([^)]*\\) )?void (?:__launch_bounds__\\([^)]*\\) )?"
                    + "(\\w+)\\(([^)]*)\\)");

    /** name → one letter per parameter, from every cuda/*.cu file. */
    static Map<String, String> declaredKinds() throws IOException {
        Map<String, String> kinds = new LinkedHashMap<>();
        try (var files = Files.list(Path.of("cuda"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".cu")).sorted()::iterator) {
                String text = Files.readString(file).replaceAll("//[^\n]*", "");
                Matcher m = DECLARATION.matcher(text);
                while (m.find()) {
                    StringBuilder letters = new StringBuilder();
                    for (String parameter : m.group(2).split(",")) {
                        String p = parameter.trim();
                        if (p.isEmpty()) {
                            continue;
                        }
                        letters.append(p.contains("*") ? 'p' : p.startsWith("int ") ? 'i'
                                : p.startsWith("long long ") ? 'l' : p.startsWith("float ") ? 'f'
                                : p.startsWith("double ") ? 'd' : '?');
                    }
                    kinds.put(m.group(1), letters.toString());
                }
            }
        }
        return kinds;
    }

    @Test
    void everyKernelMatchesItsDeclaration() throws IOException {
        Map<String, String> declared = declaredKinds();
        for (Kernel kernel : Kernel.values()) {
            String name = kernel.entryName();
            assertTrue(declared.containsKey(name), name + ": no extern \"C\" __global__ declaration in cuda/*.cu");
            assertEquals(declared.get(name), kernel.parameterKinds(), name + ": parameter kinds");
        }
    }

    @Test
    void everyDeclaredKernelIsLaunchable() throws IOException {
        for (String name : declaredKinds().keySet()) {
            boolean known = false;
            for (Kernel kernel : Kernel.values()) {
                known |= kernel.entryName().equals(name);
            }
            assertTrue(known, name + " is declared in cuda/*.cu but has no jlstm.internal.cuda.Kernel constant");
        }
    }
}
