package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

/**
 * Every {@code --option} that README.md and docs/*.md name on a line about jlstm's command line
 * must be an option of one of its commands: a renamed or removed option fails here. Lines about
 * other programs (Maven, Python scripts, shell scripts, nvcc, pip, spark-submit, nvidia-smi), with
 * their continuation lines, are not checked.
 */
class DocsNameRealOptionsTest {
    private static final Pattern OPTION = Pattern.compile("(?<![\\w-])--([a-z][a-z0-9-]*)");
    private static final Pattern OTHER_PROGRAM = Pattern.compile("\\.py\\b|\\.sh\\b|\\bmvn\\b|\\bpip\\b|\\bnvcc\\b"
            + "|compute-sanitizer|\\bapt(-get)?\\b|\\bgit\\b|\\bcmake\\b|\\breadelf\\b|spark-submit|nvidia-smi");
    /** Options of the stand-in's own test script (docs/GPU.md) and of the JVM (API.md), not of jlstm's commands. */
    private static final Set<String> OTHER_TOOLS = Set.of("--tsan", "--add-opens", "--patch-module");

    @Test
    void everyOptionTheDocsNameExists() throws IOException {
        Set<String> known = new TreeSet<>();
        CommandLine cli = new CommandLine(new Main());
        collect(cli, known);
        List<Path> docs = new ArrayList<>(List.of(Path.of("README.md")));
        try (Stream<Path> files = Files.list(Path.of("docs"))) {
            files.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        List<String> unknown = new ArrayList<>();
        int seen = 0;
        for (Path doc : docs) {
            List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
            boolean otherCommandGoesOn = false; // a line ending in \ continues another program's command
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (otherCommandGoesOn || OTHER_PROGRAM.matcher(line).find()) {
                    otherCommandGoesOn = line.stripTrailing().endsWith("\\");
                    continue;
                }
                Matcher m = OPTION.matcher(line);
                while (m.find()) {
                    seen++;
                    if (!known.contains("--" + m.group(1)) && !OTHER_TOOLS.contains("--" + m.group(1))) {
                        unknown.add(doc + ":" + (i + 1) + ": --" + m.group(1));
                    }
                }
            }
        }
        assertTrue(seen > 20, "only " + seen + " options found in the docs: is the scan looking in the right place?");
        assertTrue(unknown.isEmpty(), "options named in the docs that no command has: " + unknown + " (known: " + known
                + ")");
    }

    private static void collect(CommandLine cmd, Set<String> names) {
        for (CommandLine.Model.OptionSpec o : cmd.getCommandSpec().options()) {
            for (String name : o.names()) {
                names.add(name);
            }
        }
        for (CommandLine sub : cmd.getSubcommands().values()) {
            collect(sub, names);
        }
    }
}
