package jlstm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar jlstm.jar <command>}: the command-line entry point. */
@Command(name = "jlstm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "LSTM layers on the CPU and NVIDIA GPUs, cross-checked against PyTorch.",
        subcommands = {RunCommand.class, InfoCommand.class, TrainCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {

    public static void main(String[] args) {
        showLibraryLog();
        System.exit(execute(args));
    }

    /** Held so that the logger keeps its level (java.util.logging keeps loggers weakly). */
    private static java.util.logging.Logger jlstmLog;

    /**
     * The command line shows what the library logs at DEBUG and above under {@code jlstm} (which
     * engine runs and why, F16/BF16/F64 conversions), one plain line per record on stderr
     * ("jlstm: using the CPU engine; …"; warnings start with "warning: "), where a library user sees
     * nothing below INFO by default. A {@code java.util.logging} configuration given with
     * {@code -Djava.util.logging.config.file} (or {@code .class}) is left alone.
     */
    static void showLibraryLog() {
        if (System.getProperty("java.util.logging.config.file") != null
                || System.getProperty("java.util.logging.config.class") != null) {
            return;
        }
        java.util.logging.Handler stderr = new java.util.logging.StreamHandler(System.err,
                new java.util.logging.Formatter() {
                    @Override
                    public String format(java.util.logging.LogRecord r) {
                        return (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue() ? "warning: " : "")
                                + formatMessage(r) + System.lineSeparator();
                    }
                }) {
            @Override
            public synchronized void publish(java.util.logging.LogRecord r) {
                super.publish(r);
                flush();
            }
        };
        stderr.setLevel(java.util.logging.Level.FINE); // System.Logger's DEBUG
        jlstmLog = java.util.logging.Logger.getLogger("jlstm");
        jlstmLog.setLevel(java.util.logging.Level.FINE);
        jlstmLog.setUseParentHandlers(false);
        jlstmLog.addHandler(stderr);
    }

    /**
     * Runs a command line and returns its exit status (for tests: no System.exit). Every failure
     * prints one line {@code error: <what is wrong>} on stderr (a bad option adds one usage line,
     * not the whole help) and returns non-zero: 2 for a bad command line, 1 for anything else.
     * {@code -Djlstm.debug=true} adds the stack trace.
     */
    public static int execute(String... args) {
        CommandLine cli = commandLine();
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + describe(ex));
            if (Boolean.getBoolean("jlstm.debug")) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        cli.setParameterExceptionHandler((ex, arguments) -> {
            CommandLine cmd = ex.getCommandLine();
            String message = oneLine(ex.getMessage());
            if (ex instanceof CommandLine.UnmatchedArgumentException u && !cmd.getSubcommands().isEmpty()
                    && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
                message = "unknown command '" + u.getUnmatched().get(0) + "' (commands: "
                        + String.join(", ", cmd.getSubcommands().keySet()) + ")";
            }
            cmd.getErr().println("error: " + message);
            cmd.getErr().println("usage: " + synopsis(cmd.getCommandSpec()) + "   ('"
                    + cmd.getCommandSpec().qualifiedName() + " --help' lists every option)");
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            // The memory estimates (jlstm.internal.MemoryBudget) should prevent this; when one falls short,
            // still say what happened and what to do rather than print a stack trace.
            cli.getErr().println("error: out of memory (Java heap of " + jlstm.internal.MemoryBudget.human(
                    Runtime.getRuntime().maxMemory()) + "): give Java more with -Xmx, e.g. java -Xmx8g -jar jlstm.jar …");
            return 1;
        }
    }

    /** The command line as {@link #execute} parses it (its converters and help footers), without the error handlers. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        // Devices are parsed by picocli, so that a bad --device is a usage error (exit 2) like any bad option value.
        cli.registerConverter(jlstm.Device.class, text -> {
            try {
                return jlstm.Device.parse(text);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        });
        cli.getSubcommands().get("train").getCommandSpec().usageMessage().footer(TrainCommand.defaultsFooter());
        return cli;
    }

    /** {@code jlstm run --model=FILE --input=FILE --output=FILE [options]}: the command and its required options. */
    static String synopsis(CommandLine.Model.CommandSpec spec) {
        StringBuilder sb = new StringBuilder(spec.qualifiedName());
        boolean optional = false;
        for (CommandLine.Model.OptionSpec o : spec.options()) {
            if (o.required()) {
                sb.append(' ').append(o.longestName());
                if (o.arity().max() > 0) {
                    sb.append(' ').append(o.paramLabel());
                }
            } else {
                optional = true;
            }
        }
        if (optional) {
            sb.append(" [options]");
        }
        if (!spec.subcommands().isEmpty()) {
            sb.append(" <command>");
        }
        return sb.toString();
    }

    /** The message of an exception, with its type where the message alone would be unclear; one line. */
    static String describe(Throwable ex) {
        String message = ex.getMessage();
        if (ex instanceof java.nio.file.NoSuchFileException nf) {
            return (nf.getReason() == null ? "file not found" : nf.getReason()) + ": " + nf.getFile();
        }
        if (ex instanceof java.nio.file.AccessDeniedException ad) {
            return "permission denied: " + ad.getFile();
        }
        if (ex instanceof java.nio.file.FileAlreadyExistsException fe) {
            return fe.getFile() + (fe.getReason() == null ? " already exists" : ": " + fe.getReason());
        }
        if (ex instanceof java.nio.file.NotDirectoryException nd) {
            return "not a folder: " + nd.getFile();
        }
        if (ex instanceof java.nio.file.FileSystemException fs && fs.getReason() != null) {
            return fs.getFile() + ": " + fs.getReason();
        }
        if (message == null || message.isBlank()) {
            return ex.getClass().getSimpleName();
        }
        return oneLine(message);
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** No command: one usage line on stderr and the status of a bad command line. */
    @Override
    public Integer call() {
        CommandLine cmd = new CommandLine(this);
        cmd.getErr().println("usage: jlstm <command> [options]   (commands: "
                + String.join(", ", cmd.getSubcommands().keySet()) + "; 'jlstm --help' describes them)");
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** The version from the jar's manifest, or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"jlstm " + (v == null ? "development build" : v)};
        }
    }
}
