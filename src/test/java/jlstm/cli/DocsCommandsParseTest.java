package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every {@code java … -jar target/jlstm.jar …} command in README.md, docs/ and benchmarks/ parses as
 * the command line parses it: its command exists, each option belongs to that command (not merely
 * to some command, which {@link DocsNameRealOptionsTest} checks), and each value converts. A
 * concrete command is parsed whole; a synopsis ({@code [--device auto|cpu|cuda]}, {@code --epochs N})
 * option by option, each listed alternative parsed, placeholders (N, FILE, …) skipped; a
 * {@code --task} must name a task of the registry.
 */
class DocsCommandsParseTest {
    private static final String JAR = "jlstm.jar";

    /** A command as found: where, and the words after {@code jlstm.jar}. */
    record Found(String where, List<String> words) {
    }

    /** N, FILE, T,B,I,H,L, CHECKPOINT, …: a value the reader fills in. */
    private static boolean placeholder(String value) {
        return value.matches("[A-Z][A-Z0-9,_]*") || value.equals("…") || value.equals("...");
    }

    static List<Path> docs() throws IOException {
        List<Path> docs = new ArrayList<>(List.of(Path.of("README.md")));
        for (String dir : new String[] {"docs", "benchmarks"}) {
            try (Stream<Path> files = Files.list(Path.of(dir))) {
                files.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
            }
        }
        return docs;
    }

    /** {@code java … -jar target/jlstm.jar}: what starts a command. */
    private static final java.util.regex.Pattern COMMAND = java.util.regex.Pattern.compile(
            "\\bjava\\b[^`]*?-jar \\S*" + java.util.regex.Pattern.quote(JAR));
    private static final java.util.regex.Pattern INLINE = java.util.regex.Pattern.compile(
            "`[^`]*?" + COMMAND.pattern() + "(( [^`]*)?)`");

    /** A code line without its shell comment. */
    private static String uncommented(String line) {
        return line.replaceAll("(^|\\s)#.*", "");
    }

    /**
     * The commands of one Markdown file: lines of code blocks (with a synopsis's indented
     * continuation lines) and inline code spans (which may go on over a line break).
     */
    static List<Found> commands(Path doc) throws IOException {
        List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
        List<Found> found = new ArrayList<>();
        StringBuilder prose = new StringBuilder();
        List<Integer> proseLine = new ArrayList<>(); // prose's line number at each of its characters
        boolean fenced = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            if (!fenced) {
                prose.append(line).append('\n');
                for (int c = 0; c <= line.length(); c++) {
                    proseLine.add(i + 1);
                }
                continue;
            }
            String code = uncommented(line);
            java.util.regex.Matcher jar = COMMAND.matcher(code);
            if (!jar.find()) {
                continue;
            }
            int first = i;
            StringBuilder text = new StringBuilder(code.substring(jar.end()));
            while (i + 1 < lines.size() && lines.get(i + 1).matches("\\s+\\[.*")) {
                text.append(' ').append(uncommented(lines.get(++i)));
            }
            found.add(new Found(doc + ":" + (first + 1), words(text.toString())));
        }
        java.util.regex.Matcher m = INLINE.matcher(prose);
        while (m.find()) {
            found.add(new Found(doc + ":" + proseLine.get(m.start()), words(m.group(1))));
        }
        return found;
    }

    private static List<String> words(String text) {
        String command = text.replace('\n', ' ').strip();
        return command.isEmpty() ? List.of() : Arrays.asList(command.split("\\s+"));
    }

    @Test
    void everyDocumentedCommandParses() throws IOException {
        List<String> problems = new ArrayList<>();
        int commands = 0, parsedWhole = 0;
        for (Path doc : docs()) {
            for (Found f : commands(doc)) {
                commands++;
                List<String> words = f.words();
                CommandLine root = Main.commandLine();
                String name = words.isEmpty() || words.get(0).startsWith("-") ? null : words.get(0);
                if (name != null && !root.getSubcommands().containsKey(name)) {
                    problems.add(f.where() + ": no command '" + name + "'");
                    continue;
                }
                boolean synopsis = words.stream().anyMatch(w -> w.contains("[") || w.contains("|") || placeholder(w)
                        || w.contains("…")) || endsWithValuelessOption(root, name, words);
                if (!synopsis) {
                    try {
                        Main.commandLine().parseArgs(words.toArray(String[]::new));
                        parsedWhole++;
                    } catch (CommandLine.ParameterException e) {
                        problems.add(f.where() + ": " + String.join(" ", words) + ": " + e.getMessage());
                    }
                }
                checkOptions(f, name, words.subList(name == null ? 0 : 1, words.size()), problems);
            }
        }
        assertTrue(commands >= 25, "only " + commands + " commands found: is the scan looking in the right place?");
        assertTrue(parsedWhole >= 10, "only " + parsedWhole + " concrete commands parsed whole");
        assertEquals(List.of(), problems, "commands in the docs that the command line does not take");
    }

    /** "{@code run --model}" in prose names an option; it is no command to parse whole. */
    private static boolean endsWithValuelessOption(CommandLine root, String command, List<String> words) {
        if (words.isEmpty()) {
            return false;
        }
        CommandSpec spec = command == null ? root.getCommandSpec() : root.getSubcommands().get(command).getCommandSpec();
        OptionSpec last = spec.findOption(words.get(words.size() - 1));
        return last != null && last.arity().min() > 0;
    }

    /** Each option belongs to the command; each value given (or each alternative listed) converts. */
    private static void checkOptions(Found f, String command, List<String> words, List<String> problems) {
        CommandSpec spec = command == null ? Main.commandLine().getCommandSpec()
                : Main.commandLine().getSubcommands().get(command).getCommandSpec();
        for (int i = 0; i < words.size(); i++) {
            String word = strip(words.get(i));
            if (!word.startsWith("-") || word.equals("-")) {
                continue;
            }
            String optionName = word.contains("=") ? word.substring(0, word.indexOf('=')) : word;
            OptionSpec option = spec.findOption(optionName);
            if (option == null) {
                problems.add(f.where() + ": " + (command == null ? "jlstm" : command) + " has no option " + optionName);
                continue;
            }
            if (option.arity().max() == 0) {
                continue;
            }
            String value = word.contains("=") ? word.substring(word.indexOf('=') + 1)
                    : i + 1 < words.size() ? strip(words.get(++i)) : "";
            for (String alternative : value.split("\\|")) {
                if (alternative.isEmpty() || placeholder(alternative) || alternative.contains("…")) {
                    continue;
                }
                List<String> args = new ArrayList<>();
                if (command != null) {
                    args.add(command);
                }
                args.addAll(List.of(optionName, alternative));
                for (OptionSpec required : spec.options().stream().filter(OptionSpec::required).toList()) {
                    if (required != option) {
                        args.addAll(List.of(required.longestName(), "x")); // run's --model, --input, --output
                    }
                }
                try {
                    Main.commandLine().parseArgs(args.toArray(String[]::new));
                } catch (CommandLine.ParameterException e) {
                    problems.add(f.where() + ": " + String.join(" ", args) + ": " + e.getMessage());
                }
                if (optionName.equals("--task") && !TrainCommand.DEFAULTS.containsKey(alternative)) {
                    problems.add(f.where() + ": no task '" + alternative + "' (tasks: " + TrainCommand.DEFAULTS.keySet()
                            + ")");
                }
            }
        }
    }

    /** A synopsis word without its brackets and repetition marks: "[--shape" → "--shape", "S]]" → "S". */
    private static String strip(String word) {
        return word.replaceAll("^\\[+", "").replaceAll("(\\]|\\.\\.\\.|…)+$", "");
    }

    @Test
    void theScanFindsSynopsesInlineCodeAndContinuations() throws IOException {
        Path doc = Files.createTempFile("docs", ".md");
        try {
            Files.writeString(doc, String.join("\n",
                    "Runs (`java -jar target/jlstm.jar train --task",
                    "stocks --device cpu`, a machine) and `java -jar target/jlstm.jar info`.",
                    "```",
                    "java -jar target/jlstm.jar run --model M [--device auto|cpu]   # a comment",
                    "                               [--prefix P]",
                    "```",
                    "target/jlstm.jar is the jar."));
            List<Found> found = commands(doc);
            assertEquals(List.of(List.of("run", "--model", "M", "[--device", "auto|cpu]", "[--prefix", "P]"),
                    List.of("train", "--task", "stocks", "--device", "cpu"), List.of("info")),
                    found.stream().map(Found::words).toList());
            assertTrue(found.get(1).where().endsWith(":1") && found.get(2).where().endsWith(":2"), found.toString());
            List<String> problems = new ArrayList<>();
            checkOptions(found.get(0), "run", found.get(0).words().subList(1, 7), problems);
            assertEquals(List.of(), problems);
            checkOptions(new Found("x", List.of()), "train", List.of("--task", "adding|nosuch", "--device", "gpu",
                    "[--seed-len", "N]"), problems);
            assertEquals(3, problems.size(), problems.toString());
            assertTrue(problems.get(0).contains("no task 'nosuch'"), problems.toString());
            assertTrue(problems.get(1).contains("unknown device 'gpu'"), problems.toString());
            assertTrue(problems.get(2).contains("train has no option --seed-len"), problems.toString());
        } finally {
            Files.delete(doc);
        }
    }
}
