#!/usr/bin/env bash
# Regenerates driver_symbols.txt: every CUDA driver function that JCuda's libJCudaDriver imports
# (unversioned cu* symbols). build.sh gives each one the stand-in does not implement a weak stub
# answering CUDA_ERROR_NOT_SUPPORTED, so libJCudaDriver loads against the stand-in libcuda.so.1.
# The cuBLAS list is the forwarding library's (cuda/cublas_forwarding/cublas12_symbols.txt).
# Run when the JCuda version changes; the output is committed.
#
# usage: cuda/standin/generate.sh [JCUDA_NATIVES_JAR]
#   default jar: ~/.m2/repository/org/jcuda/jcuda-natives/12.6.0/jcuda-natives-12.6.0-linux-x86_64.jar
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jar="${1:-$HOME/.m2/repository/org/jcuda/jcuda-natives/12.6.0/jcuda-natives-12.6.0-linux-x86_64.jar}"
[[ -f "$jar" ]] || { echo "generate.sh: $jar not found (run mvn dependency:resolve first or pass the jar)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unzip -q -o "$jar" 'lib/libJCudaDriver-*' -d "$work"
binding="$(ls "$work"/lib/libJCudaDriver-*.so)"
readelf --dyn-syms -W "$binding" \
    | awk '$7 == "UND" && $8 ~ /^cu[A-Z]/ { sub(/@.*/, "", $8); print $8 }' \
    | sort -u > "$here/driver_symbols.txt"
echo "generate.sh: $(wc -l < "$here/driver_symbols.txt") driver symbols of $(basename "$binding") → driver_symbols.txt"
