package jlstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/** The options object: parsing of every property, its errors, and the docs naming only real properties. */
class EngineOptionsTest {

    private static EngineOptions parse(String... pairs) {
        Properties p = new Properties();
        for (int i = 0; i < pairs.length; i += 2) {
            p.setProperty(pairs[i], pairs[i + 1]);
        }
        return EngineOptions.fromProperties(p);
    }

    @Test
    void everyPropertyIsRead() {
        EngineOptions o = parse(EngineOptions.CPU_THREADS, "3", EngineOptions.CPU_KERNELS, "AVX2",
                EngineOptions.MAX_ENGINES, "5", EngineOptions.CUDA_SCHEDULE, "persistent",
                EngineOptions.CUDA_GRAPHS, "off", EngineOptions.CUDA_DEVICE_TRAINING, "off",
                EngineOptions.PRECISION, " tf32 ");
        assertEquals(EngineOptions.defaults().withCpuThreads(3).withCpuKernels(EngineOptions.CpuKernels.AVX2)
                .withMaxEngines(5).withCudaSchedule(EngineOptions.CudaSchedule.PERSISTENT).withCudaGraphs(false)
                .withDeviceTraining(false).withPrecision(EngineOptions.Precision.TF32), o);
        assertEquals(3, o.resolvedCpuThreads());
        assertEquals(5, o.resolvedMaxEngines());
    }

    @Test
    void unsetOrBlankPropertiesGiveTheDefaults() {
        EngineOptions o = parse(EngineOptions.CPU_THREADS, " ", EngineOptions.PRECISION, "");
        assertEquals(EngineOptions.defaults(), o);
        int cores = Runtime.getRuntime().availableProcessors();
        assertEquals(cores, o.resolvedCpuThreads());
        assertEquals(Math.max(1, Math.min(8, cores)), o.resolvedMaxEngines());
        assertTrue(o.cudaGraphs() && o.deviceTraining());
        assertEquals(EngineOptions.Precision.FP32, o.precision());
    }

    @Test
    void badValuesNameThePropertyAndTheAllowedValues() {
        String m = assertThrows(IllegalArgumentException.class, () -> parse(EngineOptions.CPU_THREADS, "0")).getMessage();
        assertTrue(m.contains("jlstm.cpu.threads") && m.contains("1 to 1024") && m.contains("'0'"), m);
        m = assertThrows(IllegalArgumentException.class, () -> parse(EngineOptions.MAX_ENGINES, "x")).getMessage();
        assertTrue(m.contains("jlstm.maxEngines") && m.contains("'x'"), m);
        m = assertThrows(IllegalArgumentException.class, () -> parse(EngineOptions.PRECISION, "fp16")).getMessage();
        assertTrue(m.contains("fp32, tf32 or bf16") && m.contains("'fp16'"), m);
        m = assertThrows(IllegalArgumentException.class, () -> parse(EngineOptions.CUDA_GRAPHS, "maybe")).getMessage();
        assertTrue(m.contains("on or off"), m);
        m = assertThrows(IllegalArgumentException.class, () -> parse(EngineOptions.CPU_KERNELS, "sse")).getMessage();
        assertTrue(m.contains("auto, avx512, avx2 or java"), m);
        assertThrows(IllegalArgumentException.class, () -> EngineOptions.defaults().withCpuThreads(-1));
        assertThrows(IllegalArgumentException.class, () -> EngineOptions.defaults().withMaxEngines(-2));
    }

    @Test
    void aLayerRunsWithTheOptionsItWasGiven() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 4), 1);
        EngineOptions options = EngineOptions.defaults().withCpuThreads(1).withMaxEngines(1)
                .withCpuKernels(EngineOptions.CpuKernels.JAVA);
        try (LstmLayer lstm = LstmLayer.create(params, Device.CPU, options)) {
            assertEquals(options, lstm.options());
            lstm.forward(Tensor.zeros(2, 1, 3));
            assertEquals(1, lstm.engineCount());
        }
    }

    @Test
    void theCpuEngineRefusesTensorCorePrecisions() {
        LstmParameters params = LstmParameters.initialize(LstmConfig.of(3, 4), 1);
        for (EngineOptions.Precision p : new EngineOptions.Precision[] {EngineOptions.Precision.TF32,
                EngineOptions.Precision.BF16}) {
            String m = assertThrows(IllegalArgumentException.class, () -> LstmLayer.create(params, Device.CPU,
                    EngineOptions.defaults().withPrecision(p))).getMessage();
            assertTrue(m.contains("fp32 only"), m);
        }
    }

    /** Every {@code -Djlstm.name} in the Markdown docs must be one the library reads. */
    @Test
    void docsNameOnlyPropertiesThatExist() throws IOException {
        Pattern property = Pattern.compile("-D(jlstm\\.[A-Za-z0-9_.]*[A-Za-z0-9_])");
        List<String> unknown = new ArrayList<>();
        int seen = 0;
        for (Path doc : markdownFiles()) {
            Matcher m = property.matcher(Files.readString(doc));
            while (m.find()) {
                seen++;
                if (!EngineOptions.PROPERTIES.containsKey(m.group(1))) {
                    unknown.add(doc + ": -D" + m.group(1));
                }
            }
        }
        assertTrue(seen > 0, "no -Djlstm.* property found in the docs: is the scan looking in the right place?");
        assertTrue(unknown.isEmpty(), "docs name properties that nothing reads: " + unknown);
    }

    private static List<Path> markdownFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        for (String dir : new String[] {".", "docs", "benchmarks"}) {
            Path d = Path.of(dir);
            if (Files.isDirectory(d)) {
                try (Stream<Path> s = Files.list(d)) {
                    s.filter(f -> f.toString().endsWith(".md")).forEach(files::add);
                }
            }
        }
        return files;
    }
}
