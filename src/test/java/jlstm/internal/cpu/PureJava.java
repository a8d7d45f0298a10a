package jlstm.internal.cpu;

import jlstm.LstmBackend;
import jlstm.LstmConfig;
import jlstm.LstmEngine;
import jlstm.LstmParameters;

/** The CPU backend on its pure-Java path, whatever the machine has (for tests that need one path). */
public final class PureJava implements LstmBackend {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Availability availability(jlstm.EngineOptions options) {
        return Availability.yes("pure Java");
    }

    @Override
    public LstmEngine open(LstmParameters parameters, jlstm.EngineOptions options) {
        return new CpuLstmEngine(parameters, 0, WorkerPool.forThreads(options.resolvedCpuThreads()), CpuTuning.DEFAULT);
    }

    @Override
    public long workspaceBytes(LstmConfig config, int steps, int batch, boolean training,
                               jlstm.EngineOptions options) {
        return CpuBackend.javaWorkspaceBytes(config, steps, batch, training);
    }
}
