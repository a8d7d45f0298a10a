package jlstm;

/** A way to run LSTMs (the CPU or the GPU): whether it is usable here, and engines for models. */
public interface LstmBackend {

    /**
     * The device name.
     *
     * @return {@code cpu} or {@code cuda}
     */
    String name();

    /**
     * Whether this backend can run here with the options of {@link EngineOptions#fromSystemProperties()};
     * when not, the reason (e.g. "no CUDA driver").
     *
     * @return the probe's result (cached by the backend)
     */
    default Availability availability() {
        return availability(EngineOptions.fromSystemProperties());
    }

    /**
     * Whether this backend can run here with these options (e.g. the CPU kernels they demand).
     *
     * @param options the engine settings to check
     * @return the probe's result
     */
    Availability availability(EngineOptions options);

    /**
     * An engine for a model with the options of {@link EngineOptions#fromSystemProperties()}.
     *
     * @param parameters the weights (the engine reads them, and after
     *                   {@link LstmEngine#parametersUpdated()} again)
     * @return a new engine; the caller closes it
     * @throws IllegalStateException if the backend cannot run here (the message says why)
     */
    default LstmEngine open(LstmParameters parameters) {
        return open(parameters, EngineOptions.fromSystemProperties());
    }

    /**
     * An engine for a model, run as the options say; fails with the availability reason when the
     * backend cannot run, and with a clear message for an option it does not support.
     *
     * @param parameters the weights
     * @param options    engine settings
     * @return a new engine; the caller closes it
     * @throws IllegalStateException if the backend cannot run here (the message says why)
     */
    LstmEngine open(LstmParameters parameters, EngineOptions options);

    /**
     * An estimate of the Java heap an engine of this backend holds for calls of one shape (its
     * workspace), so that {@link LstmLayer} can refuse a call the heap cannot hold before anything
     * is allocated ({@link InsufficientMemoryException}). Backends whose workspace lives elsewhere
     * (GPU memory) return 0.
     *
     * @param config   the model's shape
     * @param steps    T of the calls
     * @param batch    B of the calls
     * @param training whether the workspace must also serve a backward pass
     * @param options  the options the engine was opened with
     * @return bytes, an estimate
     */
    default long workspaceBytes(LstmConfig config, int steps, int batch, boolean training, EngineOptions options) {
        return 0;
    }

    /**
     * An estimate of the native memory (outside the Java heap, on the host) an engine of this
     * backend holds for calls of one shape: the CPU kernels' workspace. {@link LstmLayer} counts
     * it against the heap's limit too, so that {@code -Xmx} bounds what a call may take whichever
     * path runs it, and a call too large is refused at once with the {@code -Xmx} that would do.
     *
     * @param config   the model's shape
     * @param steps    T of the calls
     * @param batch    B of the calls
     * @param training whether the workspace must also serve a backward pass
     * @param options  the options the engine was opened with
     * @return bytes, an estimate
     */
    default long nativeWorkspaceBytes(LstmConfig config, int steps, int batch, boolean training,
                                      EngineOptions options) {
        return 0;
    }

    /**
     * The result of a backend's probe.
     *
     * @param available whether the backend can run
     * @param detail    when available, a description (device name, version); otherwise why not
     */
    record Availability(boolean available, String detail) {
        /**
         * A usable backend.
         *
         * @param detail a description (device name, version)
         * @return an available result
         */
        public static Availability yes(String detail) {
            return new Availability(true, detail);
        }

        /**
         * A backend that cannot run here.
         *
         * @param reason why, for the user (e.g. "no CUDA driver")
         * @return an unavailable result
         */
        public static Availability no(String reason) {
            return new Availability(false, reason);
        }
    }
}
