#!/usr/bin/env bash
# Times the working tree's CPU kernels (src/main/native/kernels.inc) against another version of
# them, in one process, interleaved, by CPU time (see kernel_ab.cpp): for deciding a kernel change
# on a machine shared with other work, where separate benchmark runs are too noisy to compare.
#
# usage: benchmarks/kernel_ab/run.sh [--base REV | --base-file FILE] [--avx2] [ROUNDS [PASSES [T,B,I,H ...]]]
#   --base REV        the base kernels from git revision REV (default HEAD: the last commit)
#   --base-file FILE  the base kernels from a file (e.g. a variant kept outside git)
#   --avx2            both built for AVX2 + FMA (vector width 8) instead of AVX-512
#   ROUNDS (default 7), PASSES and shapes: as kernel_ab.cpp says.
# Both versions share the working tree's args.h. Needs g++ and git.
set -euo pipefail
cd "$(dirname "$0")/../.."
. benchmarks/kernel_ab/kernel_pair.sh
base_rev=HEAD
base_file=
isa=(-mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma)
vw=16
while [ $# -gt 0 ]; do
    case "$1" in
        --base) shift; base_rev="$1" ;;
        --base-file) shift; base_file="$1" ;;
        --avx2) isa=(-mavx2 -mfma); vw=8 ;;
        *) break ;;
    esac
    shift
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
kernel_pair "$work" "$vw" "$base_rev" "$base_file"
g++ -O3 -std=c++17 "${isa[@]}" -Isrc/main/native -Ibenchmarks/kernel_ab -I"$work" \
    -DBASE_INC='"base.h"' -DCAND_INC='"cand.h"' benchmarks/kernel_ab/kernel_ab.cpp -o "$work/kernel_ab"
echo "base: ${base_file:-git $base_rev ($(git rev-parse --short "$base_rev"))}; candidate: the working tree; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), vector width $vw; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/kernel_ab" "${@:-7}"
