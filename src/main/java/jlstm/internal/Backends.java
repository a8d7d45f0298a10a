package jlstm.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import jlstm.Device;
import jlstm.EngineOptions;
import jlstm.LstmBackend;
import jlstm.internal.cpu.CpuBackend;
import jlstm.internal.cuda.CudaBackend;

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

    /** The CUDA engine on GPU 0; check {@link LstmBackend#availability()} before use. */
    public static LstmBackend cuda() {
        return CudaBackend.instance();
    }

    /** The CUDA engine on GPU {@code ordinal}; check {@link LstmBackend#availability()} before use. */
    public static LstmBackend cuda(int ordinal) {
        return CudaBackend.forDevice(ordinal);
    }

    /** Every backend, CPU first, then one per GPU the driver reports (GPU 0 alone when there is none). */
    public static List<LstmBackend> all() {
        List<LstmBackend> backends = new ArrayList<>();
        backends.add(cpu());
        backends.add(cuda());
        for (int ordinal = 1; ordinal < CudaBackend.deviceCount(); ordinal++) {
            backends.add(cuda(ordinal));
        }
        return backends;
    }

    /**
     * The backend for a device choice. {@code AUTO} takes CUDA (GPU 0) when its probe passes and
     * otherwise the CPU, logging the reason once per JVM; {@code CUDA} and {@code cuda(n)} fail
     * with the reason when that GPU is unusable.
     */
    public static LstmBackend select(Device device) {
        return select(device, EngineOptions.fromSystemProperties());
    }

    /** {@link #select(Device)} with the availability each backend has under these options. */
    public static LstmBackend select(Device device, EngineOptions options) {
        return switch (device.kind()) {
            case CPU -> cpu();
            case CUDA -> {
                LstmBackend gpu = cuda(device.ordinal());
                LstmBackend.Availability a = gpu.availability(options);
                if (!a.available()) {
                    throw new IllegalStateException("CUDA backend"
                            + (device.ordinal() == 0 ? "" : " (" + device.label() + ")") + " unavailable: " + a.detail());
                }
                yield gpu;
            }
            case AUTO -> {
                LstmBackend.Availability a = cuda().availability(options);
                if (a.available()) {
                    yield cuda();
                }
                if (FALLBACK_LOGGED.compareAndSet(false, true)) {
                    LOG.log(System.Logger.Level.DEBUG, "jlstm: using the CPU engine; the GPU is not used because: "
                            + a.detail());
                }
                yield cpu();
            }
        };
    }
}
