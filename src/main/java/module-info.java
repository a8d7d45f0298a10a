/**
 * jlstm: LSTM layers for the JVM (forward and backward through time) on a pure-Java or native CPU
 * engine and on CUDA through JCuda.
 *
 * <p>The API is three packages: {@code jlstm} (layers, cells, parameters, tensors, engine options),
 * {@code jlstm.train} (heads, losses, optimizers, datasets, {@code fit}, checkpoints) and
 * {@code jlstm.io} (safetensors). The engines ({@code jlstm.internal.*}), the command line
 * ({@code jlstm.cli}) and the example tasks ({@code jlstm.examples}) are in the module but not
 * exported: on the module path they cannot be imported; on the class path they are not API and may
 * change without notice.
 */
module jlstm {
    exports jlstm;
    exports jlstm.io;
    exports jlstm.train;

    // The CUDA backend. JCuda's jars carry no module name, so these are the automatic modules named
    // after the jar files (jcuda-12.6.0.jar, jcublas-12.6.0.jar); the build warns about exactly this
    // ("filename-based automodules"): the names change if JCuda ever declares its own.
    requires jcuda;
    requires jcublas;
    // safetensors headers (jlstm.io), checkpoint metadata
    requires com.google.gson;
    // nullness annotations on the API (@NullMarked packages, @Nullable parameters): a consumer's
    // compiler and Kotlin read them, so they pass on to modules that read jlstm; not needed at run time.
    requires static transitive org.jspecify;

    // The command line only (jlstm.cli): optional Maven dependencies, so optional here too.
    requires static info.picocli;
    requires static me.tongfei.progressbar;
    requires static org.knowm.xchart;
    requires static java.desktop;
    requires static java.management;   // bench --cpu-time: the thread's CPU time
    // The command line shows the library's System.Logger records one line each through a JUL handler
    // (jlstm.cli.Main); a JDK module, so required outright: the CLI also runs from the module path.
    requires java.logging;

    // picocli reads and sets the commands' @Option fields by reflection.
    opens jlstm.cli to info.picocli;
}
