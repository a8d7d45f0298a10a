package jlstm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Map;

import jlstm.Tensor;
import jlstm.io.Safetensors;

/** Golden files made by tools/make_optimizer_golden.py (PyTorch) and a tolerance check. */
final class Golden {
    private Golden() {
    }

    static Path resource(String name) {
        URL url = Golden.class.getResource("/optim/" + name);
        assertNotNull(url, "missing test resource optim/" + name + " (run tools/make_optimizer_golden.py)");
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Tensor> tensors(String name) throws java.io.IOException {
        return Safetensors.readFloatTensors(resource(name));
    }

    static Map<String, String> metadata(String name) throws java.io.IOException {
        return Safetensors.read(resource(name)).metadata();
    }

    /**
     * |actual − expected| ≤ atol + rtol·|expected| element-wise, with the worst element reported.
     */
    static void assertClose(String what, Tensor expected, Tensor actual, double atol, double rtol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.data(), a = actual.data();
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < e.length; i++) {
            double excess = Math.abs((double) a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
            if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Double.isNaN(excess))) {
                worst = i;
                worstExcess = excess;
            }
        }
        if (worst >= 0) {
            fail(what + ": element " + worst + " is " + a[worst] + ", expected " + e[worst] + " (|diff| "
                    + Math.abs((double) a[worst] - e[worst]) + " > " + atol + " + " + rtol + "·|expected|)");
        }
    }
}
