package jlstm.internal.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import jlstm.Tensor;
import jlstm.io.Safetensors;

/**
 * Compares a {@code run} output file with a golden {@code expected.safetensors}; used by
 * benchmarks/gpu-check.sh after {@code run --device cuda}. Every tensor of the expected file must
 * be in the output with the same shape and within 1e-4 · max(1, max|expected|) (the accuracy
 * contract of ARCHITECTURE.md). Prints one line per tensor and exits 1 on any failure.
 *
 * <p>usage: {@code java -cp jlstm.jar:test-classes jlstm.internal.cuda.GoldenCheck EXPECTED OUTPUT}
 */
public final class GoldenCheck {
    private static final double RELATIVE_TOLERANCE = 1e-4;

    private GoldenCheck() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: GoldenCheck EXPECTED.safetensors OUTPUT.safetensors");
            System.exit(2);
        }
        for (String a : args) {
            if (!Files.isRegularFile(Path.of(a))) {
                System.err.println("GoldenCheck: no such file: " + a);
                System.exit(2);
            }
        }
        Map<String, Tensor> expected = Safetensors.readFloatTensors(Path.of(args[0]));
        Map<String, Tensor> actual = Safetensors.readFloatTensors(Path.of(args[1]));
        boolean ok = true;
        double worstRatio = 0;
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            String name = e.getKey();
            Tensor want = e.getValue();
            Tensor got = actual.get(name);
            if (got == null) {
                System.out.println("  MISSING " + name);
                ok = false;
                continue;
            }
            if (!got.hasShape(want.shape())) {
                System.out.println("  SHAPE   " + name + ": expected " + java.util.Arrays.toString(want.shape())
                        + ", got " + java.util.Arrays.toString(got.shape()));
                ok = false;
                continue;
            }
            float[] w = want.data();
            float[] g = got.data();
            double scale = 1;
            for (float v : w) {
                scale = Math.max(scale, Math.abs(v));
            }
            double worst = 0;
            int at = 0;
            for (int i = 0; i < w.length; i++) {
                double d = Math.abs((double) w[i] - g[i]);
                if (!(d <= worst)) {
                    worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
                    at = i;
                }
            }
            double tolerance = RELATIVE_TOLERANCE * scale;
            boolean pass = worst <= tolerance;
            worstRatio = Math.max(worstRatio, worst / tolerance);
            System.out.printf(Locale.ROOT, "  %s %-28s max|diff| %.3g (tolerance %.3g)%s%n", pass ? "ok  " : "FAIL",
                    name, worst, tolerance, pass ? "" : " at [" + at + "]: expected " + w[at] + ", got " + g[at]);
            ok &= pass;
        }
        System.out.printf(Locale.ROOT, "  %s: worst diff / tolerance = %.3g%n", ok ? "PASS" : "FAIL", worstRatio);
        System.exit(ok ? 0 : 1);
    }
}
