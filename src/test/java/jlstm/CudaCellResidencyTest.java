package jlstm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Locale;
import java.util.SplittableRandom;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import jlstm.internal.Backends;

/**
 * A cell on CUDA keeps its weights and its last h_t, c_t on the device: after the first step of a
 * batch size it allocates no device memory, a state it returned is reused only while unchanged,
 * and new weights reach it through {@link LstmCell#parametersUpdated()}. Every result is checked
 * against the same cell on the CPU.
 */
@Tag("cuda")
class CudaCellResidencyTest {
    private static final double TOLERANCE = 1e-4;   // the accuracy contract, relative to max(1, |cpu|)
    private static final int INPUT = 5;
    private static final int HIDDEN = 7;
    private static final int BATCH = 3;
    private static final int STEPS = 6;

    @BeforeEach
    void requireCuda() {
        LstmBackend.Availability a = Backends.cuda().availability();
        CudaTestSupport.requireOrSkip(a);
    }

    @Test
    void stepsAfterTheFirstAllocateNothingAndMatchTheCpu() {
        LstmCell cpu = LstmCell.initialize(INPUT, HIDDEN, true, 11);
        SplittableRandom random = new SplittableRandom(2);
        Tensor[] xs = new Tensor[STEPS];
        for (int t = 0; t < STEPS; t++) {
            xs[t] = random(random, BATCH, INPUT);
        }
        try (LstmCell gpu = cpu.on(Device.CUDA)) {
            assertEquals("cuda", gpu.deviceName());
            LstmCell.Step[] cpuSteps = new LstmCell.Step[STEPS];
            LstmCell.Step[] gpuSteps = new LstmCell.Step[STEPS];
            long afterFirst = -1;
            for (int t = 0; t < STEPS; t++) {
                cpuSteps[t] = cpu.stepTraining(xs[t], t == 0 ? null : cpuSteps[t - 1].h(),
                        t == 0 ? null : cpuSteps[t - 1].c());
                gpuSteps[t] = gpu.stepTraining(xs[t], t == 0 ? null : gpuSteps[t - 1].h(),
                        t == 0 ? null : gpuSteps[t - 1].c());
                assertClose("h at step " + t, cpuSteps[t].h(), gpuSteps[t].h());
                assertClose("c at step " + t, cpuSteps[t].c(), gpuSteps[t].c());
                if (t == 0) {
                    afterFirst = gpu.deviceAllocations();
                }
                assertEquals(afterFirst, gpu.deviceAllocations(), "device allocations by forward step " + t);
            }
            LstmCell.Gradients cpuGrads = cpu.newGradients();
            LstmCell.Gradients gpuGrads = gpu.newGradients();
            Tensor dhCpu = random(random, BATCH, HIDDEN), dhGpu = dhCpu, dcCpu = null, dcGpu = null;
            for (int t = STEPS - 1; t >= 0; t--) {
                LstmCell.StepGradients gc = cpu.backward(cpuSteps[t], dhCpu, dcCpu, cpuGrads);
                LstmCell.StepGradients gg = gpu.backward(gpuSteps[t], dhGpu, dcGpu, gpuGrads);
                assertClose("dx at step " + t, gc.dx(), gg.dx());
                assertClose("dh at step " + t, gc.dh(), gg.dh());
                assertClose("dc at step " + t, gc.dc(), gg.dc());
                assertEquals(afterFirst, gpu.deviceAllocations(), "device allocations by backward step " + t);
                dhCpu = gc.dh();
                dhGpu = gg.dh();
                dcCpu = gc.dc();
                dcGpu = gg.dc();
            }
            for (String name : cpuGrads.asMap().keySet()) {
                assertClose("grad " + name, cpuGrads.asMap().get(name), gpuGrads.asMap().get(name));
            }
        }
    }

    @Test
    void aReturnedStateChangedByTheCallerIsUploadedAgain() {
        LstmCell cpu = LstmCell.initialize(INPUT, HIDDEN, true, 12);
        SplittableRandom random = new SplittableRandom(3);
        Tensor x0 = random(random, BATCH, INPUT), x1 = random(random, BATCH, INPUT);
        try (LstmCell gpu = cpu.on(Device.CUDA)) {
            LstmCell.State s = gpu.step(x0, null, null);
            s.h().data()[4] += 0.5f;   // the caller edits the state it got back
            s.c().data()[2] -= 0.25f;
            LstmCell.State want = cpu.step(x1, s.h(), s.c());
            LstmCell.State got = gpu.step(x1, s.h(), s.c());
            assertClose("h after an edited state", want.h(), got.h());
            assertClose("c after an edited state", want.c(), got.c());
        }
    }

    @Test
    void newWeightsArriveWithParametersUpdated() {
        LstmCell cpu = LstmCell.initialize(INPUT, HIDDEN, true, 13);
        SplittableRandom random = new SplittableRandom(4);
        Tensor x = random(random, BATCH, INPUT);
        try (LstmCell gpu = cpu.on(Device.CUDA)) {
            gpu.step(x, null, null);
            for (Tensor p : cpu.parameters().values()) {   // shared with the GPU cell: an optimizer's update
                for (int i = 0; i < p.numel(); i++) {
                    p.data()[i] *= -0.5f;
                }
            }
            gpu.parametersUpdated();
            LstmCell.State want = cpu.step(x, null, null);
            LstmCell.State got = gpu.step(x, null, null);
            assertClose("h with updated weights", want.h(), got.h());
            assertClose("c with updated weights", want.c(), got.c());
        }
    }

    private static Tensor random(SplittableRandom random, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) random.nextDouble(-1, 1);
        }
        return t;
    }

    private static void assertClose(String what, Tensor want, Tensor got) {
        float[] w = want.data(), g = got.data();
        assertEquals(w.length, g.length, what + ": size");
        double scale = 1;
        for (float v : w) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < w.length; i++) {
            if (!(Math.abs((double) w[i] - g[i]) <= TOLERANCE * scale)) {
                throw new AssertionError(String.format(Locale.ROOT, "%s[%d]: cuda %s, cpu %s", what, i, g[i], w[i]));
            }
        }
    }
}
