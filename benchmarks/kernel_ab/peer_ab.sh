#!/usr/bin/env bash
# jlstm's CPU kernels (the working tree's src/main/native/kernels.inc) against oneDNN's LSTM on one
# core, in one process, interleaved, by CPU time (see peer_ab.cpp): per-core speed against the peer,
# pass by pass (the input projection, the time loop, training), steadier than two separate runs.
#
# usage: benchmarks/kernel_ab/peer_ab.sh [--avx2] ROUNDS [PASSES [T,B,I,H ...]]
#   e.g. benchmarks/kernel_ab/peer_ab.sh 15 ft 100,64,512,512
#   --avx2: jlstm's AVX2 kernels, and oneDNN limited to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2)
# Needs g++ and Debian's libdnnl-dev (as benchmarks/onednn/build.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
. benchmarks/kernel_ab/kernel_pair.sh
isa=(-mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma)
vw=16
dnnl_env=()
if [ "${1:-}" = --avx2 ]; then
    shift; isa=(-mavx2 -mfma); vw=8; dnnl_env=(ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2)
fi
[ -f /usr/include/dnnl.hpp ] || { echo "libdnnl-dev is missing (apt-get install libdnnl-dev)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
kernel_cand "$work" "$vw"
g++ -O3 -std=c++17 -fopenmp "${isa[@]}" -Isrc/main/native -Ibenchmarks/kernel_ab -Ibenchmarks/onednn -I"$work" \
    -DCAND_INC='"cand.h"' benchmarks/kernel_ab/peer_ab.cpp -o "$work/peer_ab" -ldnnl
echo "$(date -u +%FT%TZ) jlstm: the working tree's kernels ($(git rev-parse --short HEAD)$(git diff --quiet -- src/main/native/kernels.inc || echo ', modified')), vector width $vw; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
env "${dnnl_env[@]}" "$work/peer_ab" "$@"
