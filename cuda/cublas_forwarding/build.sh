#!/usr/bin/env bash
# Builds the cuBLAS forwarding library libcublas.so.12 (see cublas12_forward.c) with gcc.
# Run by Maven (exec-maven-plugin, generate-resources); also fine by hand.
#
# usage: cuda/cublas_forwarding/build.sh OUTPUT_DIR REQUIRE_GCC
#   OUTPUT_DIR   e.g. target/classes/jlstm/internal/cuda (libcublas.so.12 is written there)
#   REQUIRE_GCC  true: a missing gcc fails the build; false: warn and skip (CUDA 13-only hosts
#                then fall back to the CPU with a message saying the forwarding library is absent)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:?usage: build.sh OUTPUT_DIR REQUIRE_GCC}"
require="${2:-false}"
cc="${CC:-gcc}"
if ! command -v "$cc" >/dev/null 2>&1; then
    if [[ "$require" == "true" ]]; then
        echo "[cublas_forwarding/build.sh] ERROR: $cc not found" >&2
        exit 1
    fi
    echo "[cublas_forwarding/build.sh] WARNING: $cc not found: the cuBLAS forwarding library is not built" >&2
    exit 0
fi
if [[ "$(uname -m)" != "x86_64" ]]; then
    echo "[cublas_forwarding/build.sh] WARNING: trampolines are x86-64 only; skipped on $(uname -m)" >&2
    exit 0
fi
mkdir -p "$out_dir"
"$cc" -O2 -fPIC -shared -std=c11 -Wall -Werror \
    -Wl,-soname,libcublas.so.12 \
    -Wl,--version-script="$here/cublas12_forward.map" \
    -Wl,-z,noexecstack \
    -o "$out_dir/libcublas.so.12" "$here/cublas12_forward.c" -ldl
echo "[cublas_forwarding/build.sh] wrote $out_dir/libcublas.so.12 ($(wc -l < "$here/cublas12_symbols.txt") forwarded functions)"
