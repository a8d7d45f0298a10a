package jlstm.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import jlstm.internal.cpu.CellMath;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The kernels' per-element math ({@code cuda/lstm_cell_math.cuh}, compiled for the host with g++
 * through {@code src/test/c/cell_math_check.cpp}) against {@link CellMath}, the CPU reference.
 * Only the math: the kernels' indexing needs a GPU (CudaEngineGpuTest).
 */
class CellMathHostTest {
    // The header uses float expf/tanhf, CellMath float-rounded double exp/tanh: both within an ulp
    // or two of the true value, so they agree to a few float ulps; 1e-6 absolute plus 4e-6 relative
    // leaves room for that and for the few products each formula adds, and nothing more.
    private static final double ATOL = 1e-6;
    private static final double RTOL = 4e-6;
    private static final int CASES = 2000;

    private static Path program;

    @BeforeAll
    static void build() throws Exception {
        assumeTrue(NativeTools.onPath("g++"), "g++ not on PATH: cannot build the host check of lstm_cell_math.cuh");
        Files.createDirectories(NativeTools.BUILD_DIR);
        program = NativeTools.BUILD_DIR.resolve("cell_math_check");
        NativeTools.runOk(List.of("g++", "-O2", "-std=c++17", "-Wall", "-Werror", "-Icuda", "-o", program.toString(),
                "src/test/c/cell_math_check.cpp", "-lm"), null, 120);
    }

    /** A value in [-range, range], with occasional large ones to reach the saturated activations. */
    private static float value(Random r, float range) {
        float v = (r.nextFloat() * 2 - 1) * range;
        return r.nextInt(10) == 0 ? v * 8 : v;
    }

    @Test
    void forwardMatchesCellMath() throws Exception {
        Random random = new Random(7);
        float[][] in = new float[CASES][5];
        StringBuilder stdin = new StringBuilder();
        for (float[] c : in) {
            for (int n = 0; n < 5; n++) {
                c[n] = value(random, 3f);
            }
            stdin.append(String.format(Locale.ROOT, "F %.9g %.9g %.9g %.9g %.9g%n", c[0], c[1], c[2], c[3], c[4]));
        }
        String[] lines = NativeTools.runOk(List.of(program.toString()), stdin.toString(), 60).stdout().split("\n");
        assertEquals(CASES, lines.length);
        Worst worst = new Worst();
        for (int n = 0; n < CASES; n++) {
            float[] c = in[n];
            float[] g = {c[0], c[1], c[2], c[3]};        // [B=1, 4H] with H = 1
            float[] cPrev = {c[4]};
            float[] cell = new float[1];
            float[] h = new float[1];
            CellMath.forwardPointwise(1, 1, g, 0, cPrev, 0, 1, cell, 0, h, 0, 1);
            float[] expected = {g[0], g[1], g[2], g[3], cell[0], h[0]};
            worst.compare(n, lines[n], expected, new String[] {"i", "f", "g", "o", "c", "h"});
        }
        worst.assertWithinTolerance();
    }

    @Test
    void backwardMatchesCellMath() throws Exception {
        Random random = new Random(11);
        float[][] in = new float[CASES][8];
        StringBuilder stdin = new StringBuilder();
        for (float[] c : in) {
            c[0] = random.nextFloat();               // i, f, o in (0, 1); g in (-1, 1)
            c[1] = random.nextFloat();
            c[2] = random.nextFloat() * 2 - 1;
            c[3] = random.nextFloat();
            for (int n = 4; n < 8; n++) {
                c[n] = value(random, 2f);
            }
            stdin.append(String.format(Locale.ROOT, "B %.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g%n",
                    c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]));
        }
        String[] lines = NativeTools.runOk(List.of(program.toString()), stdin.toString(), 60).stdout().split("\n");
        assertEquals(CASES, lines.length);
        Worst worst = new Worst();
        for (int n = 0; n < CASES; n++) {
            float[] c = in[n];
            float[] gates = {c[0], c[1], c[2], c[3]};
            float[] cell = {c[4]};
            float[] cPrev = {c[5]};
            float[] dy = {c[6]};          // dh = dy + dhNext with dhNext = 0
            float[] dhNext = {0f};
            float[] dc = {c[7]};
            float[] dG = new float[4];
            CellMath.backwardPointwise(1, 1, gates, 0, cell, 0, cPrev, 0, dy, 0, 1, dhNext, dc, dG, 0);
            worst.compare(n, lines[n], new float[] {dG[0], dG[1], dG[2], dG[3], dc[0]},
                    new String[] {"dG_i", "dG_f", "dG_g", "dG_o", "dc_prev"});
        }
        worst.assertWithinTolerance();
    }

    /** Keeps the worst element (relative to its tolerance) and reports it with its index. */
    private static final class Worst {
        private double ratio = -1;
        private String where = "";

        void compare(int caseIndex, String line, float[] expected, String[] names) {
            String[] parts = line.trim().split(" ");
            assertEquals(expected.length, parts.length, "case " + caseIndex + ": '" + line + "'");
            for (int k = 0; k < expected.length; k++) {
                double actual = Double.parseDouble(parts[k]);
                double tolerance = ATOL + RTOL * Math.abs(expected[k]);
                double r = Math.abs(actual - expected[k]) / tolerance;
                if (r > ratio) {
                    ratio = r;
                    where = "case " + caseIndex + " " + names[k] + ": header " + actual + ", CellMath " + expected[k];
                }
            }
        }

        void assertWithinTolerance() {
            assertTrue(ratio <= 1.0, "worst element exceeds atol " + ATOL + " + rtol " + RTOL + "·|ref| by "
                    + String.format(Locale.ROOT, "%.2f×", ratio) + ": " + where);
        }

        private static void assertTrue(boolean ok, String message) {
            if (!ok) {
                throw new AssertionError(message);
            }
        }
    }
}
