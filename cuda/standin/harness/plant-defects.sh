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
#   7. rows of the staged tiles padded by 4 bytes, not   → wmma's ldm is no multiple of 16 bytes: the
#      16, in lstm_persistent_tiled.cu                    stand-in's load_matrix_sync refuses it (the
#                                                         CUDA-core path alone would not notice)
#   8. TF32 operands neither rounded when staged nor     → raw float32 bits reach the tensor cores (what
#      converted with __float_to_tf32                     they do with the low 13 bits is not specified):
#                                                         the stand-in's mma_sync refuses them
#   9. a removed grid.sync() in the tiled backward       → blocks stage dG_t rows other blocks have not
#      kernel (lstm_persistent_tiled.cu)                  written yet (NaN bytes, or the step before's):
#                                                         wrong dG and dh0
#  10. a removed __syncthreads before the tiled          → threads add up partial tiles that other warps
#      backward sums its splits' partial tiles            have not stored yet: wrong dh; under --tsan a
#                                                         race
# Exit 0 when every defect was caught.
#
# usage: cuda/standin/harness/plant-defects.sh [--tsan] [NAME ...]   (NAMEs: plant only those, e.g. wmma-ldm)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
mode=""
if [[ "${1:-}" == --tsan ]]; then
    mode=--tsan
    shift
fi
only=("$@")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
missed=0

plant() { # plant NAME FILE SED_EXPRESSION
    local name="$1" file="$2" expression="$3"
    if [[ ${#only[@]} -gt 0 && " ${only[*]} " != *" $name "* ]]; then
        return
    fi
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
plant tiled-no-grid-sync lstm_persistent_tiled.cu \
    '/every h_t is written before any block stages it/s/grid.sync();/\/\/ (grid barrier removed)/'
plant wmma-ldm lstm_persistent_tiled.cu 's|int pad = 16 / (int) sizeof(E);|int pad = 4 / (int) sizeof(E) + 1;|'
plant tf32-unconverted lstm_persistent_tiled.cu \
    's|return lstm_round_tf32(x);|return x;|; s|f.x\[e\] = nvcuda::wmma::__float_to_tf32(f.x\[e\]);|(void) f.x[e];|'
plant tiled-backward-no-grid-sync lstm_persistent_tiled.cu \
    '/every dG_t is written before any block stages it/s/grid.sync();/\/\/ (grid barrier removed)/'
plant tiled-backward-no-sum-barrier lstm_persistent_tiled.cu \
    '/the partial tiles are in s.g before they are summed/s/__syncthreads();/\/\/ (barrier removed)/'
if [[ "$mode" != --tsan ]]; then
    plant off-by-one lstm_forward_pointwise.cu 's/if (element >= batch \* hidden)/if (element > batch * hidden)/'
fi
exit $missed
