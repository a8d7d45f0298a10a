package jlstm.cpu;

import jlstm.LstmBackend;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/** The pure-Java backend: always available. */
public final class CpuBackend implements LstmBackend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Availability availability() {
        return Availability.yes("pure Java, " + Runtime.getRuntime().availableProcessors() + " cores");
    }

    @Override
    public LstmEngine open(LstmParameters parameters) {
        return new CpuLstmEngine(parameters);
    }
}
