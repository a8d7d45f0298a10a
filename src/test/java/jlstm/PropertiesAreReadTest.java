package jlstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The other half of EngineOptionsTest's check that the docs name only {@code -Djlstm.*} properties
 * in {@link EngineOptions#PROPERTIES}: every property of that list is read by something — a
 * {@code getProperty}/{@code getBoolean} call (with the name or a constant holding it), EngineOptions'
 * own {@code value(properties, NAME)}, or the build's {@code ${name}} — so that a property whose
 * reader is gone cannot stay documented.
 */
class PropertiesAreReadTest {
    private static final Pattern CONSTANT = Pattern.compile("static final String (\\w+) = \"(jlstm\\.[\\w.]+)\"");
    private static final Pattern READ = Pattern.compile(
            "\\b(?:getProperty|getBoolean|getInteger|getLong|value)\\(\\s*(?:\\w+,\\s*)?(\"jlstm\\.[\\w.]+\"|\\w+)");
    private static final Pattern POM_READ = Pattern.compile("\\$\\{(jlstm\\.[\\w.]+)}");

    @Test
    void everyListedPropertyIsRead() throws IOException {
        List<Path> sources = new ArrayList<>();
        for (String dir : new String[] {"src/main/java", "src/test/java", "spark/src"}) {
            if (Files.isDirectory(Path.of(dir))) {
                try (Stream<Path> files = Files.walk(Path.of(dir))) {
                    files.filter(p -> p.toString().endsWith(".java")).forEach(sources::add);
                }
            }
        }
        Map<String, Set<String>> constants = new HashMap<>(); // constant name → the property names it holds
        List<String> texts = new ArrayList<>();
        for (Path f : sources) {
            String text = Files.readString(f, StandardCharsets.UTF_8);
            texts.add(text);
            Matcher c = CONSTANT.matcher(text);
            while (c.find()) {
                constants.computeIfAbsent(c.group(1), k -> new HashSet<>()).add(c.group(2));
            }
        }
        Set<String> read = new TreeSet<>();
        for (String text : texts) {
            Matcher r = READ.matcher(text);
            while (r.find()) {
                String arg = r.group(1);
                if (arg.startsWith("\"")) {
                    read.add(arg.substring(1, arg.length() - 1));
                } else {
                    read.addAll(constants.getOrDefault(arg, Set.of()));
                }
            }
        }
        Matcher pom = POM_READ.matcher(Files.readString(Path.of("pom.xml"), StandardCharsets.UTF_8));
        while (pom.find()) {
            read.add(pom.group(1));
        }
        assertTrue(read.contains(EngineOptions.CPU_THREADS) && read.contains("jlstm.debug"),
                "the scan finds EngineOptions' and the command line's reads: " + read);
        Set<String> unread = new TreeSet<>(EngineOptions.PROPERTIES.keySet());
        unread.removeAll(read);
        assertEquals(Set.of(), unread, "listed in EngineOptions.PROPERTIES (and so allowed in the docs) but read by "
                + "nothing");
    }
}
