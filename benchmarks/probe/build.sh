#!/usr/bin/env bash
# Builds the host probe (host_probe.cpp: each CPU's fp32 FMA speed, all together and each alone).
# usage: benchmarks/probe/build.sh [OUT]    (default OUT: benchmarks/probe/target/host_probe)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/target/host_probe}"
mkdir -p "$(dirname "$out")"
g++ -O2 -std=c++17 -pthread -Wall -Wextra -o "$out" "$here/host_probe.cpp"
echo "$out"
