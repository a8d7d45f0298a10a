package jlstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/**
 * The compiled module descriptor (target/classes/module-info.class) exports the API packages and
 * only those, and every other package of the module is one that docs/API.md names as not API. A
 * package added to src/main/java fails here until it is exported (and documented) or placed under
 * jlstm.internal. tools/check-consumer.sh checks the same descriptor from a user's side.
 */
class ModuleDescriptorTest {
    /** docs/API.md, "Module and class path". */
    private static final Set<String> EXPORTED = Set.of("jlstm", "jlstm.io", "jlstm.train");

    @Test
    void exportsTheApiPackagesOnly() throws Exception {
        Path classes = Path.of(LstmLayer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ModuleDescriptor module = ModuleFinder.of(classes).find("jlstm").orElseThrow(
                () -> new AssertionError("no module jlstm in " + classes)).descriptor();
        Set<String> exported = new TreeSet<>();
        for (ModuleDescriptor.Exports e : module.exports()) {
            assertTrue(e.targets().isEmpty(), "a qualified export: " + e);
            exported.add(e.source());
        }
        assertEquals(new TreeSet<>(EXPORTED), exported, "the packages module jlstm exports");

        // Not exported: the engines, the command line, the example tasks and their data (resources).
        List<String> stray = module.packages().stream().filter(p -> !EXPORTED.contains(p))
                .filter(p -> !(p.equals("jlstm.internal") || p.startsWith("jlstm.internal.") || p.equals("jlstm.cli")
                        || p.equals("jlstm.examples") || p.equals("jlstm.data")))
                .sorted().collect(Collectors.toList());
        assertEquals(List.of(), stray, "packages that are neither API nor internal; all: " + new TreeSet<>(module.packages()));
    }
}
