package jlstm;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import jlstm.cpu.CpuBackend;
import jlstm.cuda.CudaBackend;

/** The registry of backends and the rule that turns a {@link Device} into one of them. */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("jlstm");
    private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();

    private Backends() {
    }

    /** The pure-Java engine, always available. */
    public static LstmBackend cpu() {
        return CpuBackend.INSTANCE;
    }

    /** The CUDA engine; check {@link LstmBackend#availability()} before use. */
    public static LstmBackend cuda() {
        return CudaBackend.instance();
    }

    /** Every backend, CPU first. */
    public static List<LstmBackend> all() {
        return List.of(cpu(), cuda());
    }

    /**
     * The backend for a device choice. {@code AUTO} takes CUDA when its probe passes and otherwise
     * the CPU, logging the reason once per JVM; {@code CUDA} fails with the reason when unusable.
     */
    public static LstmBackend select(Device device) {
        return select(device, EngineOptions.fromSystemProperties());
    }

    /** {@link #select(Device)} with the availability each backend has under these options. */
    public static LstmBackend select(Device device, EngineOptions options) {
        return switch (device) {
            case CPU -> cpu();
            case CUDA -> {
                LstmBackend.Availability a = cuda().availability(options);
                if (!a.available()) {
                    throw new IllegalStateException("CUDA backend unavailable: " + a.detail());
                }
                yield cuda();
            }
            case AUTO -> {
                LstmBackend.Availability a = cuda().availability(options);
                if (a.available()) {
                    yield cuda();
                }
                if (FALLBACK_LOGGED.compareAndSet(false, true)) {
                    LOG.log(System.Logger.Level.INFO, "jlstm: using the CPU engine; the GPU is not used because: "
                            + a.detail());
                }
                yield cpu();
            }
        };
    }
}
