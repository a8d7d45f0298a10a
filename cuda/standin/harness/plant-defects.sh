#!/usr/bin/env bash
# Shows that the sanitizer harness catches real kernel bugs: each defect is planted in a copy of
# cuda/ (the repository's files are never touched), the harness is built against the copy, and it
# must fail. Prints, per defect, the first line of the report that caught it.
#   1. a removed __syncthreads in lstm_bias_grad.cu      → row lane 0 reads unwritten shared memory
#                                                         (NaN bytes): wrong sums; under --tsan a race
#   2. `continue` turned into `return` before the next   → lane 0 shuffles with lanes that have exited
#      row's shuffles in lstm_fused_step.cu                (seen when grid.y < B)
#   3. an off-by-one bound in lstm_forward_pointwise.cu  → one thread past B·H reads and writes out of
#                                                         bounds: AddressSanitizer
# Exit 0 when every defect was caught.
#
# usage: cuda/standin/harness/plant-defects.sh [--tsan]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
mode="${1:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
missed=0

plant() { # plant NAME FILE SED_EXPRESSION
    local name="$1" file="$2" expression="$3"
    local copy="$work/$name/cuda"
    mkdir -p "$copy"
    cp "$repo"/cuda/*.cu "$repo"/cuda/*.cuh "$copy/"
    sed -i "$expression" "$copy/$file"
    if cmp -s "$repo/cuda/$file" "$copy/$file"; then
        echo "NOT PLANTED  $name: the expression no longer matches cuda/$file (update this script)"
        missed=1
        return
    fi
    local log="$work/$name.log"
    if "$here/run.sh" $mode --cuda-dir "$copy" --work "$work/$name/build" > "$log" 2>&1; then
        echo "MISSED       $name: the harness passed with the defect in place"
        missed=1
    else
        echo "CAUGHT       $name: $(grep -m1 -E 'jlstm CUDA stand-in:|ERROR: AddressSanitizer|runtime error|WARNING: ThreadSanitizer|FAIL' "$log")"
    fi
}

plant no-syncthreads lstm_bias_grad.cu '0,/__syncthreads();/s/__syncthreads();/\/\/ (barrier removed)/'
plant return-before-shuffle lstm_fused_step.cu 's/            continue;/            return;/'
plant off-by-one lstm_forward_pointwise.cu 's/if (element >= batch \* hidden)/if (element > batch * hidden)/'
exit $missed
