#!/usr/bin/env bash
# benchmarks/spark/run.sh — the numbers of benchmarks/spark/README.md: the ring all-reduce alone
# (time vs model size, N = 2, 4, 8 threads on loopback) and data-parallel training steps on
# local[8] with 1, 2, 4, 8 replicas against the same step in one JVM.
#
# usage: benchmarks/spark/run.sh [steps]     (default 30 steps per run)
# needs: the core installed (mvn -B install -DskipTests at the root) and Maven Central for the
#        first resolution of Spark.
set -euo pipefail
cd "$(dirname "$0")/../../spark"
mvn -B -q test-compile
mvn -B -q dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
# The module options spark-submit adds (org.apache.spark.launcher.JavaModuleOptions, Spark 4.1);
# the same list as spark.addOpens in spark/pom.xml.
opens="-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector"
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
    opens="$opens --add-opens=java.base/$p=ALL-UNNAMED"
done
opens="$opens --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false"
opens="$opens -Dio.netty.tryReflectionSetAccessible=true --enable-native-access=ALL-UNNAMED"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
java -Xmx4g $opens -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" \
    jlstm.spark.bench.SparkBench "${1:-30}" 2> target/bench.log
