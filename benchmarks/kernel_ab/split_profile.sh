#!/usr/bin/env bash
# Builds and runs split_profile.cpp on the working tree's kernels (AVX-512): how two workers share
# one layer, by thread CPU time per phase and per barrier interval (see split_profile.cpp).
# usage: benchmarks/kernel_ab/split_profile.sh ROUNDS T,B,I,H ...
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
g++ -O3 -std=c++17 -pthread -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma -Isrc/main/native \
    -Ibenchmarks/kernel_ab benchmarks/kernel_ab/split_profile.cpp -o "$work/split_profile"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/split_profile" "$@"
