#!/usr/bin/env bash
# Builds the oneDNN peer against Debian's libdnnl-dev (apt-get install libdnnl-dev).
# usage: benchmarks/onednn/build.sh [OUT]    (default OUT: benchmarks/onednn/target/onednn_lstm)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/target/onednn_lstm}"
mkdir -p "$(dirname "$out")"
[ -f /usr/include/dnnl.hpp ] || { echo "libdnnl-dev is missing (apt-get install libdnnl-dev)" >&2; exit 1; }
g++ -O2 -std=c++17 -fopenmp -o "$out" "$here/onednn_lstm.cpp" -ldnnl
echo "$out"
