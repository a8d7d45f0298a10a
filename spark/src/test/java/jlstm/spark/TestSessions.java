package jlstm.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.apache.spark.sql.SparkSession;

import jlstm.LstmConfig;
import jlstm.LstmParameters;
import jlstm.train.LinearHead;

/** Spark sessions and small models for the tests. */
final class TestSessions {
    private TestSessions() {
    }

    /** A session on {@code master} (local[2], local-cluster[2,1,1024], …), bound to loopback, no UI. */
    static SparkSession start(String master) {
        return start(master, java.util.Map.of());
    }

    /** A session with extra settings. */
    static SparkSession start(String master, java.util.Map<String, String> extra) {
        SparkSession.Builder builder = SparkSession.builder().master(master).appName("jlstm-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        if (master.startsWith("local-cluster")) {
            String home = System.getenv("SPARK_HOME");
            if (home == null) {
                throw new IllegalStateException("local-cluster tests need SPARK_HOME (the pom sets it)");
            }
            try {
                java.nio.file.Files.createDirectories(java.nio.file.Path.of(home, "jars"));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            // Executors are separate JVMs started by the in-process standalone worker: they need
            // this test's classpath (surefire names it) and the module options spark-submit adds.
            String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            builder.config("spark.executor.extraClassPath", classpath)
                    .config("spark.executor.extraJavaOptions", System.getProperty("jlstm.test.sparkJavaOptions", ""))
                    .config("spark.executor.memory", "768m");
        }
        extra.forEach(builder::config);
        return builder.getOrCreate();
    }

    /**
     * Settings for local-cluster workers that each offer two GPUs "0" and "1" (a discovery script
     * that prints them; there is no GPU), with one GPU per executor and per task.
     */
    static java.util.Map<String, String> fakeGpus() {
        try {
            java.nio.file.Path script = java.nio.file.Files.createTempFile("jlstm-gpus-", ".sh");
            java.nio.file.Files.writeString(script,
                    "#!/usr/bin/env bash\necho '{\"name\": \"gpu\", \"addresses\": [\"0\", \"1\"]}'\n");
            script.toFile().setExecutable(true);
            script.toFile().deleteOnExit();
            return java.util.Map.of(
                    "spark.worker.resource.gpu.amount", "2",
                    "spark.worker.resource.gpu.discoveryScript", script.toString(),
                    "spark.executor.resource.gpu.amount", "1",
                    "spark.task.resource.gpu.amount", "1");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** An LSTM (seeded PyTorch-style init) with a head. */
    static ModelPayload model(LstmConfig config, int outputs, LinearHead.Mode mode, long seed) {
        LstmParameters lstm = LstmParameters.initialize(config, seed);
        return ModelPayload.of(lstm, LinearHead.initialize(config.outputSize(), outputs, mode, seed + 1));
    }

    /** [T][I] values from U(−1, 1). */
    static float[][] sequence(SplittableRandom random, int steps, int inputs) {
        float[][] x = new float[steps][inputs];
        for (float[] step : x) {
            for (int i = 0; i < inputs; i++) {
                step[i] = (float) random.nextDouble(-1, 1);
            }
        }
        return x;
    }

    /** A Scala Seq of the values, nested lists converted too (what a Row built for an RDD must hold). */
    static scala.collection.immutable.Seq<Object> seq(List<?> values) {
        List<Object> converted = new ArrayList<>();
        for (Object v : values) {
            converted.add(v instanceof List<?> l ? seq(l) : v);
        }
        return scala.jdk.javaapi.CollectionConverters.asScala(converted).toSeq();
    }

    /** A Row-friendly nested list of a [T][I] array (what a Dataset's array<array<float>> holds). */
    static List<List<Float>> nested(float[][] x) {
        List<List<Float>> out = new ArrayList<>();
        for (float[] step : x) {
            List<Float> s = new ArrayList<>();
            for (float v : step) {
                s.add(v);
            }
            out.add(s);
        }
        return out;
    }
}
