package jlstm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar jlstm.jar <command>}: the command-line entry point. */
@Command(name = "jlstm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "LSTM layers on the CPU and NVIDIA GPUs, cross-checked against PyTorch.",
        subcommands = {RunCommand.class, InfoCommand.class, TrainCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        // One plain line per log record ("INFO: jlstm: using the CPU engine ...") instead of JUL's two.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        }
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit status (for tests: no System.exit). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + describe(ex));
            if (Boolean.getBoolean("jlstm.debug")) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cli.execute(args);
    }

    /** The message of an exception, with its type where the message alone would be unclear. */
    static String describe(Throwable ex) {
        String message = ex.getMessage();
        if (ex instanceof java.nio.file.NoSuchFileException nf) {
            return (nf.getReason() == null ? "file not found" : nf.getReason()) + ": " + nf.getFile();
        }
        if (ex instanceof java.nio.file.AccessDeniedException ad) {
            return "permission denied: " + ad.getFile();
        }
        if (message == null || message.isBlank()) {
            return ex.getClass().getSimpleName();
        }
        return message;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
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
