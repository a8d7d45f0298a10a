#!/usr/bin/env bash
# Builds cuda/standin/harness/kernel_harness.cpp together with the stand-in's driver, executor and
# the kernels of CUDA_DIR, under AddressSanitizer + UndefinedBehaviorSanitizer (or, with --tsan,
# ThreadSanitizer on a subset: fibers are TSan fibers and only barriers and warp exchanges order
# them, so a missing __syncthreads shows as a data race), and runs it with the blocks of every
# launch in forward, reverse and seeded random order. No JVM, no GPU. Exit 0: every check passed.
#
# usage: cuda/standin/harness/run.sh [--tsan] [--cuda-dir DIR] [--fatbin FILE] [--work DIR]
#   --cuda-dir  the kernels to test (default: the repository's cuda/; plant-defects.sh passes a copy)
#   --fatbin    the fatbin whose entry names the stand-in resolves (default: the one mvn package built)
#   --work      build folder (default: target/kernel-harness[-tsan])
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
standin="$(cd "$here/.." && pwd)"
repo="$(cd "$standin/../.." && pwd)"
cuda_dir="$repo/cuda"
fatbin="$repo/target/classes/jlstm/internal/cuda/jlstm_kernels.fatbin"
sanitizer=address
work=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --tsan) sanitizer=thread ;;
        --cuda-dir) cuda_dir="$(cd "$2" && pwd)"; shift ;;
        --fatbin) fatbin="$2"; shift ;;
        --work) work="$2"; shift ;;
        *) echo "usage: run.sh [--tsan] [--cuda-dir DIR] [--fatbin FILE] [--work DIR]" >&2; exit 2 ;;
    esac
    shift
done
[[ -f "$fatbin" ]] || { echo "run.sh: no fatbin at $fatbin (run mvn -B package first)" >&2; exit 2; }
suffix=""
[[ $sanitizer == thread ]] && suffix=-tsan
work="${work:-$repo/target/kernel-harness$suffix}"
mkdir -p "$work"
"$standin/kernel_table.sh" "$cuda_dir" "$work/kernels.cpp"
STANDIN_REGISTERS=none "$standin/register_table.sh" "$cuda_dir" "$work/registers.cpp"   # occupancy plays no part here

if [[ $sanitizer == thread ]]; then
    sanitize=(-fsanitize=thread)
    subset=--subset
else
    sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all)
    subset=""
fi
flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer "${sanitize[@]}" -I "$standin" -I "$standin/include" -I "$cuda_dir")
echo "[harness] building with -fsanitize=$sanitizer (kernels from $cuda_dir)"
g++ "${flags[@]}" -include "$standin/cuda_on_cpu.h" -Wno-unused-parameter -Wno-unknown-pragmas -c "$work/kernels.cpp" -o "$work/kernels.o"
runtime=("$standin/executor.cpp" "$standin/fiber.cpp")
if [[ $sanitizer == thread ]]; then
    # The executor's own bookkeeping stands for the hardware: uninstrumented, but annotating for
    # TSan where CUDA orders threads (fibers, barriers, warp exchanges).
    plain=(-std=c++17 -O1 -g -fno-omit-frame-pointer -DSTANDIN_TSAN_ANNOTATIONS -I "$standin" -I "$standin/include")
    g++ "${plain[@]}" -c "$standin/executor.cpp" -o "$work/executor.o"
    g++ "${plain[@]}" -c "$standin/fiber.cpp" -o "$work/fiber.o"
    runtime=("$work/executor.o" "$work/fiber.o")
fi
g++ "${flags[@]}" -o "$work/kernel_harness" "$here/kernel_harness.cpp" "$standin"/driver_*.cpp "${runtime[@]}" \
    "$work/kernels.o" "$work/registers.cpp" -lpthread

status=0
orders=(forward reverse random:7)
[[ $sanitizer == thread ]] && orders=(forward)
for order in "${orders[@]}"; do
    echo "[harness] blocks in $order order"
    if ! JLSTM_STANDIN_BLOCK_ORDER=$order ASAN_OPTIONS=detect_leaks=1 TSAN_OPTIONS=halt_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1 "$work/kernel_harness" "$fatbin" $subset; then
        status=1
        break
    fi
done
exit $status
