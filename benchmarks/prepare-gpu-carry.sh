#!/usr/bin/env bash
# Prepares target/gpu-carry: what benchmarks/gpu-check.sh needs on an NVIDIA machine that has
# neither Maven, nor network, nor Java. Run here (with Maven and a JDK ≥ 17 with jlink):
#   jlstm.jar          the executable jar, without the JCuda natives the GPU path never loads
#                      (PTX compiler, NVRTC, runtime API, cuBLAS v1: 12 MB of the 17)
#   test-classes/      compiled tests and their resources (the golden cases)
#   junit-console.jar  JUnit Platform console launcher (runs the cuda test group without Maven)
#   runtime/           a jlink Java runtime with the modules those need
# and checks that the folder stays well under the 64 MiB a device run can carry.
#
# usage: benchmarks/prepare-gpu-carry.sh [--no-build]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
carry="target/gpu-carry"
junit_console_version=1.11.4   # the platform version of junit-jupiter 5.11.4 in pom.xml
limit_mib=56   # plus the repository (~1 MB): well under the 64 MiB a device run carries

if [[ "${1:-}" != "--no-build" ]]; then
    # Kernels are required here: a carry without them could only report "kernels not built".
    mvn -B -q package -DskipTests -Djlstm.requireNvcc=true
fi
[[ -f target/jlstm.jar && -d target/test-classes/jlstm && -d target/test-classes/golden ]] \
    || { echo "target/jlstm.jar or the test classes (with golden/) are missing" >&2; exit 1; }

rm -rf "$carry"
mkdir -p "$carry"
# The jar minus natives of JCuda libraries jlstm does not use (they are loaded only on first use).
python3 - target/jlstm.jar "$carry/jlstm.jar" <<'PY'
import re, sys, zipfile
unused = re.compile(r"lib/lib(JNvPTXCompiler|JNvrtc|JCudaRuntime|JCublas)-[^/]*\.so$")
with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        if not unused.search(item.filename):
            dst.writestr(item, src.read(item.filename))
PY
cp -r target/test-classes "$carry/test-classes"
mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_console_version" \
    -DoutputDirectory="$carry" -Dmdep.stripVersion=true
mv "$carry/junit-platform-console-standalone.jar" "$carry/junit-console.jar"

# Modules the check runs on: info, run, the cuda test group, the golden checks and the timing.
# Not java.desktop (xchart's charts, 15 MB): the check runs no command that draws.
modules="java.base,java.logging,java.xml,java.management,jdk.unsupported,jdk.zipfs"
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
    --strip-native-debug-symbols=objcopy=$(command -v objcopy) \
    --output "$carry/runtime" 2>&1 | grep -v "compress=2 is deprecated" || true
"$carry/runtime/bin/java" -version 2>&1 | head -1

size_mib=$(( $(du -sb "$carry" | cut -f1) / 1048576 ))
echo "$carry: ${size_mib} MiB (modules: $modules)"
du -sh "$carry"/* | sed 's/^/  /'
if (( size_mib > limit_mib )); then
    echo "prepare-gpu-carry: $carry is ${size_mib} MiB, over the ${limit_mib} MiB budget (64 MiB travel in all)" >&2
    exit 1
fi
echo "device run: bash benchmarks/gpu-check.sh   (carry: $carry)"
