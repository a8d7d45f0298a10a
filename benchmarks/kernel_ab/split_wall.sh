#!/usr/bin/env bash
# Builds and runs split_wall.cpp on the working tree's kernels (AVX-512): what two workers wait for
# each other by the wall clock (fixed halves, as the engine runs them).
# usage: benchmarks/kernel_ab/split_wall.sh ROUNDS units|rows T,B,I,H ...
#   env: PIN=1|2 (worker w pinned to CPU w | 1 - w)
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
g++ -O3 -std=c++17 -pthread -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma ${SPLIT_WALL_FLAGS:-} \
    -Isrc/main/native -Ibenchmarks/kernel_ab benchmarks/kernel_ab/split_wall.cpp -o "$work/split_wall"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/split_wall" "$@"
