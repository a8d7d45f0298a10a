#!/usr/bin/env bash
# Times the working tree's CPU kernels against another version of them with two workers, as the
# engine runs a layer (see split_ab.cpp): for kernel changes whose effect depends on how two cores
# share the work (the units split's W_hh halves, the barrier per step), which kernel_ab's one
# worker does not show.
#
# usage: benchmarks/kernel_ab/split_ab.sh [--base REV | --base-file FILE] ROUNDS PASSES units|rows T,B,I,H ...
#   e.g. benchmarks/kernel_ab/split_ab.sh 15 01 units 100,64,512,512
set -euo pipefail
cd "$(dirname "$0")/../.."
. benchmarks/kernel_ab/kernel_pair.sh
base_rev=HEAD
base_file=
while [ $# -gt 0 ]; do
    case "$1" in
        --base) shift; base_rev="$1" ;;
        --base-file) shift; base_file="$1" ;;
        *) break ;;
    esac
    shift
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
kernel_pair "$work" 16 "$base_rev" "$base_file"
g++ -O3 -std=c++17 -pthread -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma -Isrc/main/native \
    -Ibenchmarks/kernel_ab -I"$work" -DBASE_INC='"base.h"' -DCAND_INC='"cand.h"' \
    benchmarks/kernel_ab/split_ab.cpp -o "$work/split_ab"
echo "base: ${base_file:-git $base_rev ($(git rev-parse --short "$base_rev"))}; candidate: the working tree; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/split_ab" "$@"
