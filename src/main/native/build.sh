#!/usr/bin/env bash
# Builds the CPU engine's native kernels, libjlstm_cpu.so (JNI), with g++: one object per ISA
# (AVX-512, AVX2+FMA), chosen at run time by cpuid, and the JNI glue built without ISA flags.
# Run by Maven (exec-maven-plugin, generate-resources); also fine by hand.
#
# usage: src/main/native/build.sh OUTPUT_DIR JAVA_HOME REQUIRE
#   OUTPUT_DIR  e.g. target/classes/jlstm/internal/cpu/linux-x86_64 (the library is a classpath resource)
#   JAVA_HOME   a JDK (for jni.h)
#   REQUIRE     true: a missing compiler fails the build; false: warn and skip (the CPU engine then
#               runs its pure-Java path and `jlstm info` says that the kernels are missing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:?usage: build.sh OUTPUT_DIR JAVA_HOME REQUIRE}"
jdk="${2:?usage: build.sh OUTPUT_DIR JAVA_HOME REQUIRE}"
require="${3:-false}"
cxx="${CXX:-g++}"
skip() {
    if [[ "$require" == "true" ]]; then
        echo "[native/build.sh] ERROR: $1" >&2
        exit 1
    fi
    echo "[native/build.sh] WARNING: $1: the CPU engine's native kernels are not built (pure Java only)" >&2
    exit 0
}
command -v "$cxx" >/dev/null 2>&1 || skip "$cxx not found"
command -v "${CC:-gcc}" >/dev/null 2>&1 || skip "${CC:-gcc} not found"
[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] || skip "kernels are built for Linux x86-64 only, not $(uname -s)-$(uname -m)"
[[ -f "$jdk/include/jni.h" ]] || skip "no jni.h under $jdk/include (a JDK is needed)"
mkdir -p "$out_dir"
obj="$(mktemp -d)"
trap 'rm -rf "$obj"' EXIT
flags=(-O3 -std=c++17 -fPIC -fvisibility=hidden -fno-exceptions -fno-rtti -fno-threadsafe-statics -Wall -Wextra -Werror -Wno-maybe-uninitialized)  # (GCC 12 warns falsely inside its own AVX-512 headers)
"$cxx" "${flags[@]}" -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma -c "$here/kernels_avx512.cpp" -o "$obj/avx512.o"
"$cxx" "${flags[@]}" -mavx2 -mfma -c "$here/kernels_avx2.cpp" -o "$obj/avx2.o"
"$cxx" "${flags[@]}" -I"$jdk/include" -I"$jdk/include/linux" -c "$here/jlstm_cpu.cpp" -o "$obj/jni.o"
# Linked without libstdc++ (the code uses none of it): the library needs only glibc 2.17 or later.
"${CC:-gcc}" -shared -Wl,-z,noexecstack -Wl,--no-undefined -Wl,--as-needed \
    -o "$out_dir/libjlstm_cpu.so" "$obj/jni.o" "$obj/avx512.o" "$obj/avx2.o" -lc
echo "[native/build.sh] wrote $out_dir/libjlstm_cpu.so ($(stat -c %s "$out_dir/libjlstm_cpu.so") bytes)"
