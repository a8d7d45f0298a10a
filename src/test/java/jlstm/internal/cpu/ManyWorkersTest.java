package jlstm.internal.cpu;

import static jlstm.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import jlstm.LstmConfig;
import jlstm.LstmGradients;
import jlstm.LstmLayer;
import jlstm.LstmOutput;
import jlstm.LstmParameters;
import jlstm.Tensor;
import jlstm.io.Safetensors;

/**
 * The CPU engine on more workers than this machine has cores (16, in a child JVM, as on a 16-core
 * machine), on each of its paths: with H = 100 the kernels' time loop (forced to split by units)
 * gives each worker one 16- or 8-unit block, so some workers get none, and they must still meet
 * every step's barrier; the Java path splits 40 sequences so that some workers get two or three,
 * and small batches so that some get none. The results must agree with this JVM's own on the same
 * path.
 */
class ManyWorkersTest {
    static final LstmConfig CONFIG = new LstmConfig(6, 100, 2, true, true, false);
    static final int[] BATCHES = {1, 2, 3, 40};

    @ParameterizedTest
    @EnumSource(CpuPathsTest.Path.class)
    void sixteenWorkersFinishAndAgree(CpuPathsTest.Path path, @TempDir Path dir) throws Exception {
        path.unitBlock(); // skips a path this CPU cannot run
        Path out = dir.resolve("sixteen.safetensors");
        String javaCommand = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(javaCommand, "-Djlstm.cpu.threads=16", "-cp",
                System.getProperty("java.class.path"), ManyWorkersTest.class.getName(), out.toString(), path.name())
                .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        boolean finished = child.waitFor(2, TimeUnit.MINUTES);
        if (!finished) {
            child.destroyForcibly();
        }
        assertTrue(finished, "16 workers did not finish within 2 minutes (a barrier some worker never meets?)");
        assertEquals(0, child.exitValue(), java.nio.file.Files.readString(dir.resolve("child.log")));
        Map<String, Tensor> theirs = Safetensors.readFloatTensors(out);
        Map<String, Tensor> ours = results(path);
        assertEquals(ours.keySet(), theirs.keySet());
        ours.forEach((name, t) -> assertClose(name, t, theirs.get(name), 1e-5));
    }

    /** Child: the results of path args[1] with this JVM's worker count, written to the file named by args[0]. */
    public static void main(String[] args) throws IOException {
        Safetensors.write(Path.of(args[0]), results(CpuPathsTest.Path.valueOf(args[1])), Map.of());
    }

    static Map<String, Tensor> results(CpuPathsTest.Path path) {
        Map<String, Tensor> all = new LinkedHashMap<>();
        LstmParameters p = LstmParameters.initialize(CONFIG, 3);
        // The kernels' time loop split by units on every worker, even at these sizes.
        CpuTuning split = CpuTuning.DEFAULT.withTimeLoop(CpuTuning.TimeLoop.SPLIT_UNITS);
        try (LstmLayer layer = LstmLayer.create(p, path.backend(split))) {
            for (int b : BATCHES) {
                Tensor x = random(b, 4, b, 6);
                LstmOutput out = layer.forwardTraining(x, null, null);
                LstmGradients g = layer.backward(random(b + 100, 4, b, 200), null, null);
                for (Map.Entry<String, Tensor> e : Map.of("y", out.y(), "cn", out.cn(), "dx", g.dx(),
                        "dW_hh_l1_reverse", g.parameter("weight_hh_l1_reverse")).entrySet()) {
                    all.put("B" + b + "." + e.getKey(), e.getValue());
                }
            }
        }
        return all;
    }

    private static Tensor random(long seed, int... shape) {
        Tensor t = Tensor.zeros(shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) r.nextDouble(-1, 1);
        }
        return t;
    }
}
