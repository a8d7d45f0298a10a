package jlstm.cli;

import java.util.concurrent.Callable;

import jlstm.internal.Backends;
import jlstm.EngineOptions;
import jlstm.LstmBackend;
import picocli.CommandLine.Command;

/** {@code info}: the Java runtime and every backend, with the reason for each one that is unavailable. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Shows the Java runtime and which backends can run here (and why not).")
final class InfoCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.out.printf("java      %s (%s), %s %s%n", System.getProperty("java.version"),
                System.getProperty("java.vm.name"), System.getProperty("os.name"), System.getProperty("os.arch"));
        System.out.printf("cores     %d%n", Runtime.getRuntime().availableProcessors());
        EngineOptions options = EngineOptions.fromSystemProperties();
        System.out.printf("precision %s (-D%s: fp32 | tf32 | bf16; tf32 and bf16 on CUDA only)%n",
                PrecisionOption.label(options.precision()), EngineOptions.PRECISION);
        for (LstmBackend backend : Backends.all()) {
            LstmBackend.Availability a = backend.availability();
            System.out.printf("%-9s %s: %s%n", backend.name(), a.available() ? "available" : "unavailable", a.detail());
        }
        return 0;
    }
}
