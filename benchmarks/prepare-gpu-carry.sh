#!/usr/bin/env bash
# Prepares target/gpu-carry: what benchmarks/gpu-check.sh needs on an NVIDIA machine that has
# neither Maven, nor network, nor Java. Run here (with Maven, a JDK ≥ 17 with jlink):
#   jlstm.jar          the executable jar (all dependencies, kernels fatbin, forwarding library)
#   test-classes/      compiled tests (GPU tests, GoldenCheck, GpuTiming)
#   junit-console.jar  JUnit Platform console launcher (runs the tests without Maven)
#   runtime/           a jlink Java runtime (~35 MB)
# and checks that the folder stays under the 64 MiB a device run can carry.
#
# usage: benchmarks/prepare-gpu-carry.sh [--no-build]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
carry="target/gpu-carry"
junit_console_version=1.11.4   # the platform version of junit-jupiter 5.11.4 in pom.xml
limit_mib=60

if [[ "${1:-}" != "--no-build" ]]; then
    # Kernels are required here: a carry without them could only report "kernels not built".
    mvn -B -q package -DskipTests -Djlstm.requireNvcc=true
fi
[[ -f target/jlstm.jar && -d target/test-classes/jlstm ]] || { echo "target/jlstm.jar or test classes missing" >&2; exit 1; }

rm -rf "$carry"
mkdir -p "$carry"
cp target/jlstm.jar "$carry/"
cp -r target/test-classes "$carry/test-classes"
rm -rf "$carry/test-classes/golden"   # the golden files are read from src/test/resources
mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_console_version" \
    -DoutputDirectory="$carry" -Dmdep.stripVersion=true
mv "$carry/junit-platform-console-standalone.jar" "$carry/junit-console.jar"

# Modules the check runs on: info, run, the tests and the timing. Not java.desktop (xchart's
# charts, 15 MB) nor java.sql (optional in gson and picocli): the device run never reaches them.
modules="java.base,java.logging,java.xml,jdk.unsupported,jdk.zipfs"  # java.xml: JUnit reports
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
    --output "$carry/runtime" 2>&1 | grep -v "compress=2 is deprecated" || true
"$carry/runtime/bin/java" -version 2>&1 | head -1

size_mib=$(( $(du -sb "$carry" | cut -f1) / 1048576 ))
echo "$carry: ${size_mib} MiB (modules: $modules)"
du -sh "$carry"/* | sed 's/^/  /'
if (( size_mib > limit_mib )); then
    echo "prepare-gpu-carry: $carry is ${size_mib} MiB, over the ${limit_mib} MiB budget" >&2
    exit 1
fi
echo "device run: bash benchmarks/gpu-check.sh   (carry: $carry)"
