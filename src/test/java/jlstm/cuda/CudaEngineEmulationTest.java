package jlstm.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import jlstm.Backends;
import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.cuda.CudaEngineGpuTest.Inputs;
import jlstm.cuda.CudaEngineGpuTest.Results;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link CudaLstmEngine}'s schedule on {@link EmulatedDevice} (plain Java, no GPU) against the CPU
 * engine: proves the engine's offsets, leading dimensions, kernel arguments and grids, and the
 * kernels' indexing as transcribed — not the compiled CUDA code (CudaEngineGpuTest does that on a GPU).
 */
class CudaEngineEmulationTest {

    /** (T, B, I, H, L, bidirectional, bias): B = 1, odd H, T = 1, 3 layers, bidirectional, no bias. */
    static List<Arguments> shapes() {
        return List.of(
                Arguments.of(1, 1, 3, 5, 1, false, true),
                Arguments.of(7, 1, 16, 33, 1, true, true),
                Arguments.of(1, 4, 7, 9, 2, true, true),
                Arguments.of(5, 3, 10, 17, 2, true, false),
                Arguments.of(6, 5, 12, 31, 3, true, true),
                Arguments.of(3, 11, 9, 40, 1, false, true),
                Arguments.of(2, 2, 8, 70, 1, true, true));
    }

    @ParameterizedTest(name = "T={0} B={1} I={2} H={3} L={4} bidir={5} bias={6}")
    @MethodSource("shapes")
    void emulatedScheduleMatchesTheCpuEngine(int steps, int batch, int input, int hidden, int layers, boolean bidir,
                                             boolean bias) {
        LstmConfig config = new LstmConfig(input, hidden, layers, bidir, bias, false);
        LstmParameters params = LstmParameters.initialize(config, 17);
        Inputs in = Inputs.random(config, steps, batch, 23);
        Results cpu = Results.run(Backends.cpu().open(params), params, in, null);
        for (CudaLstmEngine.Schedule schedule : List.of(CudaLstmEngine.Schedule.GEMM, CudaLstmEngine.Schedule.FUSED)) {
            EmulatedDevice device = new EmulatedDevice();
            Results emulated = Results.run(new CudaLstmEngine(params, device), params, in, schedule);
            cpu.assertClose(emulated, "emulated " + schedule);
            assertEquals(0, device.liveAllocations(), "allocations left after close()");
        }
    }

    @Test
    void nullInitialStatesAndGradientsMeanZeros() {
        LstmConfig config = new LstmConfig(4, 6, 2, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 2);
        Inputs given = Inputs.random(config, 3, 2, 4);
        java.util.Arrays.fill(given.h0(), 0f);
        java.util.Arrays.fill(given.c0(), 0f);
        java.util.Arrays.fill(given.dhn(), 0f);
        java.util.Arrays.fill(given.dcn(), 0f);
        Inputs absent = new Inputs(3, 2, given.x(), null, null, given.dy(), null, null);
        Results withZeros = Results.run(new CudaLstmEngine(params, new EmulatedDevice()), params, given, null);
        Results withNulls = Results.run(new CudaLstmEngine(params, new EmulatedDevice()), params, absent, null);
        for (int n = 0; n < withZeros.tensors.size(); n++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(withZeros.tensors.get(n), withNulls.tensors.get(n),
                    withZeros.names.get(n));
        }
    }

    @Test
    void workspaceIsReusedAndParametersReuploaded() {
        LstmConfig config = new LstmConfig(5, 8, 1, true, true, false);
        LstmParameters params = LstmParameters.initialize(config, 3);
        Inputs big = Inputs.random(config, 6, 4, 1);
        Inputs small = Inputs.random(config, 2, 3, 2);
        EmulatedDevice device = new EmulatedDevice();
        try (CudaLstmEngine engine = new CudaLstmEngine(params, device)) {
            Results.pass(engine, params, big);
            long free = engine.deviceMemoryFree();
            for (int n = 0; n < 4; n++) {
                Results.pass(engine, params, n % 2 == 0 ? small : big);
            }
            assertEquals(free, engine.deviceMemoryFree(), "device memory grew across passes");
            // In-place parameter change + parametersUpdated() must be seen, like on the CPU.
            params.weightHh(0, 1)[3] += 0.5f;
            engine.parametersUpdated();
            Results after = Results.pass(engine, params, small);
            Results cpu = Results.run(Backends.cpu().open(params), params, small, null);
            cpu.assertClose(after, "after parametersUpdated");
        }
        assertEquals(0, device.liveAllocations());
        assertTrue(device.launches > 0);
    }
}
