#!/usr/bin/env bash
# Shows that the sanitizer harness catches real kernel bugs: each defect is planted in a copy of
# cuda/ (the repository's files are never touched), the harness is built against the copy, and it
# must fail. Prints, per defect, the first line of the report that caught it.
#   1. a removed __syncthreads in lstm_fused_step.cu     → the warp finishing a unit reads the other
#                                                         parts' sums before they are written (NaN
#                                                         bytes): wrong results; under --tsan a race
#   2. `continue` turned into `return` before the next   → lanes 0–3 shuffle with lanes that have
#      row group's shuffles in lstm_fused_step.cu          exited (B > 4), and the split mode's
#                                                         barrier is reached by only some threads
#   3. a removed grid.sync() in lstm_persistent.cu       → blocks read h_{t-1} rows other blocks have
#                                                         not written yet: wrong results
#   4. an off-by-one bound in lstm_forward_pointwise.cu  → one thread past B·H reads and writes out of
#                                                         bounds: AddressSanitizer (skipped with --tsan)
#   5. a removed __syncthreads after h is staged in      → warps multiply h columns other warps have
#      lstm_persistent_tiled.cu                           not staged yet (NaN bytes): wrong results;
#                                                         under --tsan a race
#   6. a removed grid.sync() in lstm_persistent_tiled.cu → blocks stage h_{t-1} rows other blocks have
#                                                         not written yet: wrong results
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

plant no-syncthreads lstm_fused_step.cu '0,/__syncthreads();/s/__syncthreads();/\/\/ (barrier removed)/'
plant return-before-shuffle lstm_fused_step.cu 's/            continue;/            return;/'
plant no-grid-sync lstm_persistent.cu '0,/grid.sync();/s/grid.sync();/\/\/ (grid barrier removed)/'
plant tiled-no-staging-barrier lstm_persistent_tiled.cu \
    '/the chunk is staged before any warp multiplies it/s/__syncthreads();/\/\/ (barrier removed)/'
plant tiled-no-grid-sync lstm_persistent_tiled.cu 's/        grid.sync();/        \/\/ (grid barrier removed)/'
if [[ "$mode" != --tsan ]]; then
    plant off-by-one lstm_forward_pointwise.cu 's/if (element >= batch \* hidden)/if (element > batch * hidden)/'
fi
exit $missed
