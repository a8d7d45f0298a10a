#!/usr/bin/env bash
# check-consumer.sh — builds a tiny project that depends on jlstm as a library user's project
# would (tools/consumer-check), and checks what it receives:
#   - its runtime dependency list holds what the library needs (gson, JCuda, the JSpecify
#     annotations its nullness is declared with) and none
#     of the command line's libraries (picocli, progressbar/jline, XChart/PDFBox) nor any test
#     library (JUnit, opentest4j);
#   - it compiles as a named module (module consumer { requires jlstm; }), so only against the
#     packages jlstm exports, and runs on the module path and on the class path: one forward pass
#     on the CPU, training with fit and a validation set, a PyTorch LSTM + Linear export with its
#     head named fc (src/test/resources/model-export, from tools/make_model_export.py) predicting
#     what PyTorch predicted, and a batch-first model saved and loaded predicting the same; on the
#     module path also one forward pass on the CUDA engine (a GPU, else the CPU stand-in) when the
#     build has the kernels;
#   - a module that imports jlstm.internal, jlstm.cli and jlstm.examples (consumer-check/probe)
#     does NOT compile, javac naming each of the three packages as not exported by jlstm.
# The artifact is installed (jar, pom, sources and javadoc jars) into a temporary local repository,
# so the user's ~/.m2 keeps its own jlstm snapshot; released artifacts are taken from ~/.m2 when
# there (as a read-only file repository), else from Maven Central.
#
# usage: tools/check-consumer.sh        (after `mvn -B package` or `verify`; run from anywhere)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
version="$(sed -n 's:^  <version>\(.*\)</version>.*:\1:p' pom.xml | head -1)"
jar="target/jlstm-$version.jar"
for f in "$jar" "target/jlstm-$version-sources.jar" "target/jlstm-$version-javadoc.jar"; do
    [[ -f "$f" ]] || { echo "check-consumer: $f missing (run mvn -B package first)" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/settings.xml" <<EOF
<settings>
  <profiles><profile><id>user-cache</id>
    <repositories><repository><id>user-cache</id><url>file://$HOME/.m2/repository</url>
      <snapshots><enabled>false</enabled></snapshots></repository></repositories>
    <pluginRepositories><pluginRepository><id>user-cache</id><url>file://$HOME/.m2/repository</url>
      <snapshots><enabled>false</enabled></snapshots></pluginRepository></pluginRepositories>
  </profile></profiles>
  <activeProfiles><activeProfile>user-cache</activeProfile></activeProfiles>
</settings>
EOF
mvn_tmp=(mvn -B -q -Dstyle.color=never -s "$work/settings.xml" -Dmaven.repo.local="$work/repo")

quiet() { "$@" >"$work/mvn.log" 2>&1 || { cat "$work/mvn.log" >&2; echo "check-consumer: FAIL: $*" >&2; exit 1; }; }
quiet "${mvn_tmp[@]}" org.apache.maven.plugins:maven-install-plugin:3.1.3:install-file -Dfile="$jar" -DpomFile=pom.xml \
    -Dsources="target/jlstm-$version-sources.jar" -Djavadoc="target/jlstm-$version-javadoc.jar"

cp -r tools/consumer-check "$work/consumer"
rm -rf "$work/consumer/target"
quiet "${mvn_tmp[@]}" -f "$work/consumer/pom.xml" -Djlstm.version="$version" compile \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:list -DincludeScope=runtime -DexcludeTransitive=false \
    -DoutputFile="$work/dependencies.txt" -Dsort=true \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -DincludeScope=runtime \
    -Dmdep.outputFile="$work/classpath.txt"

deps="$(grep -E '^ +[^ ]+:[^ ]+:' "$work/dependencies.txt" | sed 's/^ *//; s/ -- .*//')"
echo "consumer's runtime dependencies ($(echo "$deps" | wc -l)):"
echo "$deps" | sed 's/^/  /'
failed=0
for forbidden in info.picocli me.tongfei org.jline org.knowm.xchart org.apache.pdfbox de.rototor de.erichseifert \
        com.madgag commons-logging org.junit junit: org.opentest4j org.apiguardian; do
    if echo "$deps" | grep -q "^$forbidden"; then
        echo "check-consumer: FAIL: a library user receives $(echo "$deps" | grep "^$forbidden" | head -1)" >&2
        failed=1
    fi
done
for required in com.google.code.gson:gson org.jcuda:jcuda: org.jcuda:jcublas: org.jspecify:jspecify:; do
    if ! echo "$deps" | grep -q "^$required"; then
        echo "check-consumer: FAIL: the runtime dependencies lack $required" >&2
        failed=1
    fi
done
bytes=0
while IFS= read -r -d: entry || [[ -n "$entry" ]]; do
    [[ -f "$entry" ]] && bytes=$((bytes + $(stat -c %s "$entry")))
done < <(tr -d '\n' < "$work/classpath.txt")
echo "their jars: $((bytes / 1024)) KiB"

# The probe: javac must refuse each unexported package (not fail for another reason).
if javac --release 17 -d "$work/probe-classes" -p "$(cat "$work/classpath.txt")" \
        $(find "$work/consumer/probe" -name '*.java') >"$work/probe.log" 2>&1; then
    echo "check-consumer: FAIL: a module importing jlstm.internal, jlstm.cli and jlstm.examples compiled" >&2
    failed=1
else
    for package in jlstm.internal jlstm.cli jlstm.examples; do
        if grep -q "package $package is declared in module jlstm, which does not export it" "$work/probe.log"; then
            echo "probe: $package is not exported (javac refuses the import)"
        else
            cat "$work/probe.log" >&2
            echo "check-consumer: FAIL: javac did not refuse $package as unexported" >&2
            failed=1
        fi
    done
fi

# On the module path, the CUDA engine too where it can run: on an NVIDIA GPU (the gpu profile's test),
# else on the CPU stand-in the build made (target/cuda-standin; see docs/TESTING.md).
# JCuda loads its JNI libraries from its natives jars through its own module, so on the module path
# those jars are patched into the module jcuda (docs/API.md); an empty temporary folder keeps a JNI
# library that an earlier class-path run extracted from hiding a failure.
cuda=(); standin=()
if [[ -e /dev/nvidiactl ]]; then
    cuda=(--cuda)
elif [[ -f target/cuda-standin/libcuda.so.1 && -f target/classes/jlstm/internal/cuda/jlstm_kernels.fatbin ]]; then
    cuda=(--cuda); standin=(-Djlstm.cuda.standin="$repo/target/cuda-standin")
fi
natives="$(tr ':' '\n' < "$work/classpath.txt" | grep -E '/(jcuda|jcublas)-natives-[^/]*\.jar$' | paste -sd:)"
mkdir -p "$work/tmp"
echo "on the module path:"
java -Djava.io.tmpdir="$work/tmp" "${standin[@]}" --patch-module jcuda="$natives" \
    -p "$work/consumer/target/classes:$(cat "$work/classpath.txt")" -m consumer/consumer.Main \
    "$repo/src/test/resources/model-export" "${cuda[@]}" || failed=1
echo "on the class path:"
java -cp "$work/consumer/target/classes:$(cat "$work/classpath.txt")" consumer.Main "$repo/src/test/resources/model-export" \
    || failed=1
[[ $failed == 0 ]] && echo "check-consumer: PASS"
exit $failed
