package jlstm.cuda;

import java.util.Locale;

import jlstm.Backends;
import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.cuda.CudaEngineGpuTest.Inputs;
import jlstm.cuda.CudaEngineGpuTest.Results;

/**
 * A short run of every schedule (forward in both modes and backward, graphs off and on) on small
 * shapes, checked against the CPU engine: what benchmarks/gpu-check.sh runs under NVIDIA's
 * compute-sanitizer (memcheck; racecheck with {@code fused}) on a GPU. Exits 1 on a mismatch.
 *
 * <p>usage: {@code java -cp jlstm.jar:test-classes jlstm.cuda.SanitizerWorkload [gemm|fused|persistent ...]}
 */
public final class SanitizerWorkload {
    private SanitizerWorkload() {
    }

    public static void main(String[] args) {
        String[] schedules = args.length > 0 ? args : new String[] {"gemm", "fused", "persistent"};
        // (T, B, I, H, L, bidirectional): odd H, B past the kernels' row groups, two layers both ways.
        int[][] shapes = {{3, 5, 7, 33, 2, 1}, {4, 1, 6, 64, 1, 0}, {2, 9, 5, 17, 1, 1}};
        for (int[] s : shapes) {
            LstmConfig config = new LstmConfig(s[2], s[3], s[4], s[5] == 1, true, false);
            LstmParameters params = LstmParameters.initialize(config, 3);
            Inputs in = Inputs.random(config, s[0], s[1], 4);
            Results cpu = Results.run(Backends.cpu().open(params), params, in, null);
            for (String name : schedules) {
                CudaLstmEngine.Schedule schedule = CudaLstmEngine.Schedule.valueOf(name.toUpperCase(Locale.ROOT));
                for (boolean graphs : new boolean[] {false, true}) {
                    try (CudaLstmEngine engine = CudaLstmEngine.open(params)) {
                        engine.setSchedule(schedule);
                        engine.setGraphs(graphs);
                        String label = config + " T=" + s[0] + " B=" + s[1] + " " + name + (graphs ? "+graphs" : "")
                                + " (ran as " + engine.effectiveSchedule(s[1]) + ")";
                        cpu.assertClose(Results.pass(engine, params, in), label);
                        System.out.println("ok " + label);
                    }
                }
            }
        }
    }
}
