#!/usr/bin/env bash
# Compiles every cuda/*.cu into one fatbin (SASS for sm_75, 80, 86, 89, 90 and PTX for
# compute_90, which newer GPUs JIT-compile) and writes it where the jar picks it up.
# Run by Maven (exec-maven-plugin, generate-resources); also fine by hand.
#
# usage: cuda/build.sh OUTPUT_DIR REQUIRE_NVCC
#   OUTPUT_DIR    e.g. target/classes/jlstm/internal/cuda (jlstm_kernels.fatbin is written there)
#   REQUIRE_NVCC  true: a missing nvcc fails the build; false: warn and build without kernels
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:?usage: build.sh OUTPUT_DIR REQUIRE_NVCC}"
require="${2:-false}"
nvcc_bin="${NVCC:-nvcc}"   # NVCC set: exactly that compiler, no search

if [[ -z "${NVCC:-}" ]] && ! command -v "$nvcc_bin" >/dev/null 2>&1; then
    for candidate in /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc; do
        [[ -x "$candidate" ]] && nvcc_bin="$candidate" && break
    done
fi
if ! command -v "$nvcc_bin" >/dev/null 2>&1; then
    if [[ "$require" == "true" ]]; then
        echo "[cuda/build.sh] ERROR: nvcc not found and jlstm.requireNvcc=true; install the CUDA toolkit or set NVCC" >&2
        exit 1
    fi
    echo "[cuda/build.sh] WARNING: nvcc not found: building without GPU kernels (the CUDA backend will report 'kernels not built')" >&2
    exit 0
fi

mkdir -p "$out_dir"
# One translation unit so that one fatbin (one cuModuleLoadData) holds every kernel.
unit="$(mktemp --suffix=.cu)"
trap 'rm -f "$unit"' EXIT
for source in "$here"/*.cu; do
    echo "#include \"$source\"" >> "$unit"
done

# sm_75 … sm_90 as SASS; PTX of the newest one so later GPUs (sm_100, sm_120) can JIT it.
# Not compressed, so the entry-point test (FatbinEntryPointsTest) can read names from the file.
"$nvcc_bin" -fatbin -O3 -std=c++17 -I "$here" --no-compress -t 0 \
    -gencode arch=compute_75,code=sm_75 \
    -gencode arch=compute_80,code=sm_80 \
    -gencode arch=compute_86,code=sm_86 \
    -gencode arch=compute_89,code=sm_89 \
    -gencode arch=compute_90,code=[sm_90,compute_90] \
    -o "$out_dir/jlstm_kernels.fatbin" "$unit"
echo "[cuda/build.sh] wrote $out_dir/jlstm_kernels.fatbin ($(stat -c %s "$out_dir/jlstm_kernels.fatbin") bytes) with $("$nvcc_bin" --version | tail -1)"
