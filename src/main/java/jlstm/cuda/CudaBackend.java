package jlstm.cuda;

import jlstm.EngineOptions;
import jlstm.LstmBackend;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/**
 * The JCuda backend. Its availability is the result of {@link CudaProbe}, run once per JVM on
 * first use and cached; when unavailable, the detail says why (no CUDA driver, no device, cuBLAS
 * library missing, kernels not built, …).
 */
public final class CudaBackend implements LstmBackend {
    private static final CudaBackend INSTANCE = new CudaBackend();

    private volatile Availability probed;

    private CudaBackend() {
    }

    public static CudaBackend instance() {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** The probe's result; the options change nothing (the probe checks the machine). */
    @Override
    public Availability availability(EngineOptions options) {
        return availability();
    }

    @Override
    public Availability availability() {
        Availability a = probed;
        if (a == null) {
            synchronized (this) {
                if (probed == null) {
                    probed = CudaProbe.run();
                }
                a = probed;
            }
        }
        return a;
    }

    /**
     * Whether this backend runs on the CPU stand-in ({@code -Djlstm.cuda.standin}) rather than a
     * GPU: results are the kernels' results, times mean nothing.
     */
    public boolean onStandIn() {
        return availability().available() && CudaStandIn.active();
    }

    /** Opens a {@link CudaLstmEngine}; fails with the probe's reason when the GPU is unusable. */
    @Override
    public LstmEngine open(LstmParameters parameters, EngineOptions options) {
        return CudaLstmEngine.open(parameters, options);
    }
}
