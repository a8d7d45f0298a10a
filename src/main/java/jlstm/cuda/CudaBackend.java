package jlstm.cuda;

import jlstm.LstmBackend;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/** The JCuda backend. (Placeholder until the GPU engine lands: reports itself unavailable.) */
public final class CudaBackend implements LstmBackend {
    private static final CudaBackend INSTANCE = new CudaBackend();

    private CudaBackend() {
    }

    public static CudaBackend instance() {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Availability availability() {
        return Availability.no("the CUDA engine is not built into this version");
    }

    @Override
    public LstmEngine open(LstmParameters parameters) {
        throw new IllegalStateException("CUDA backend unavailable: " + availability().detail());
    }
}
