#!/usr/bin/env bash
# gpu-check.sh — everything to verify the GPU path on an NVIDIA machine, in one go:
#   1. host probe (GPU, driver, CUDA libraries, cuBLAS sonames, Java, compilers, PyTorch)
#   2. jlstm's own probe (`info`): the CUDA backend must be available; it loads the cuBLAS
#      forwarding library by itself when only libcublas.so.13 is installed
#   3. the test suite (GPU tests included) with the JUnit console launcher
#   4. `run --device cuda` on every golden case, checked against expected.safetensors
#   5. a short timing of the benchmark shapes: jlstm vs PyTorch nn.LSTM (cuDNN), same run
# then prints a summary (PASS / FAIL / SKIP per step) and exits 1 if any step failed.
#
# Needs no Maven and no network: run it from the repository root with the carry folder made by
# benchmarks/prepare-gpu-carry.sh (target/gpu-carry: jlstm.jar, test classes, the JUnit console
# launcher and a jlink Java runtime, so the machine needs no Java either).
#
# usage: benchmarks/gpu-check.sh            (logs in $OUT when set, else target/gpu-check)
# env:   JLSTM_CARRY   carry folder (default target/gpu-carry)
#        JAVA          java executable to use instead of the carried runtime
#        GPU_CHECK_SKIP_TIMING=1   skip step 5
set -u
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo" || exit 2
carry="${JLSTM_CARRY:-$repo/target/gpu-carry}"
logs="${OUT:-$repo/target/gpu-check}"
mkdir -p "$logs" || { echo "gpu-check: cannot create log folder $logs" >&2; exit 2; }
summary="$logs/summary.txt"
: > "$summary"
failed=0

say() { printf '\n=== %s\n' "$*"; }
record() { # record STATUS STEP DETAIL
    printf '%-5s %-22s %s\n' "$1" "$2" "$3" | tee -a "$summary" >/dev/null
    [[ "$1" == FAIL ]] && failed=1
    return 0
}
finish() {
    say "summary (logs in $logs)"
    cat "$summary"
    exit "$failed"
}

# ---------------------------------------------------------------- 1. host probe
say "host probe"
bash "$repo/tools/nvidia-host-probe.sh" 2>&1 | tee "$logs/host-probe.txt"
if command -v nvidia-smi >/dev/null 2>&1; then
    record INFO host "$(nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader 2>/dev/null | head -1)"
else
    record FAIL host "nvidia-smi not found: no NVIDIA driver on this machine"
fi

# ---------------------------------------------------------------- Java, jar, tests
java_bin=""
for candidate in "${JAVA:-}" "$carry/runtime/bin/java" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java 2>/dev/null)"; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then java_bin="$candidate"; break; fi
done
if [[ -z "$java_bin" ]]; then
    record FAIL java "no Java: run benchmarks/prepare-gpu-carry.sh and carry target/gpu-carry (it holds a jlink runtime)"
    finish
fi
record INFO java "$java_bin ($("$java_bin" -version 2>&1 | head -1))"
jar=""
for candidate in "$carry/jlstm.jar" "$repo/target/jlstm.jar"; do
    [[ -f "$candidate" ]] && { jar="$candidate"; break; }
done
if [[ -z "$jar" ]]; then
    record FAIL jar "no jlstm.jar in $carry or target/ (run benchmarks/prepare-gpu-carry.sh)"
    finish
fi
test_classes=""
for candidate in "$carry/test-classes" "$repo/target/test-classes"; do
    [[ -d "$candidate/jlstm" ]] && { test_classes="$candidate"; break; }
done
jvm=("$java_bin" -Xmx8g)

# ---------------------------------------------------------------- 2. jlstm probe
say "jlstm info"
timeout 120 "${jvm[@]}" -jar "$jar" info 2>&1 | tee "$logs/info.txt"
cuda_line="$(grep -m1 '^cuda' "$logs/info.txt" || true)"
if [[ "$cuda_line" == *" available:"* ]]; then
    record PASS probe "${cuda_line#cuda*available: }"
else
    record FAIL probe "${cuda_line:-no cuda line in 'info' output (see info.txt)}"
fi

# ---------------------------------------------------------------- 3. test suite
say "test suite (JUnit console)"
if [[ -z "$test_classes" ]]; then
    record FAIL tests "no test classes in $carry/test-classes or target/test-classes"
elif [[ ! -f "$carry/junit-console.jar" ]]; then
    record FAIL tests "no $carry/junit-console.jar (run benchmarks/prepare-gpu-carry.sh)"
else
    timeout 420 "${jvm[@]}" -jar "$carry/junit-console.jar" execute --disable-banner --details=tree \
        --class-path "$jar:$test_classes" --scan-class-path "$test_classes" \
        --reports-dir "$logs/junit" > "$logs/tests.txt" 2>&1
    status=$?
    tail -25 "$logs/tests.txt"
    counts="$(grep -E '\[ *[0-9]+ tests (successful|failed|skipped|aborted) *\]' "$logs/tests.txt" | tr -s ' []' ' ' | tr '\n' ',' )"
    gpu_skipped="$(grep -c 'no usable GPU' "$logs/tests.txt" || true)"
    if [[ $status -eq 124 ]]; then
        record FAIL tests "timed out after 420 s (see tests.txt)"
    elif [[ $status -ne 0 ]]; then
        record FAIL tests "failures: ${counts} see tests.txt"
    elif [[ "$gpu_skipped" -gt 0 ]]; then
        record FAIL tests "passed, but GPU tests skipped (no usable GPU): ${counts}"
    else
        record PASS tests "${counts}"
    fi
fi

# ---------------------------------------------------------------- 4. golden cases on CUDA
say "golden cases with --device cuda"
golden_root="$repo/src/test/resources/golden"
cases=0
for case_dir in "$golden_root"/*/; do
    [[ -f "$case_dir/model.safetensors" && -f "$case_dir/input.safetensors" && -f "$case_dir/expected.safetensors" ]] || continue
    cases=$((cases + 1))
    name="$(basename "$case_dir")"
    # Lengths, projections and dropout are CPU-only so far (issue 11): the CUDA engine rejects them.
    features="$(grep -oE '"(lengths|proj_size|dropout)":' "$case_dir/meta.json" | cut -d'"' -f2 | tr '\n' ' ')"
    if [[ -n "$features" ]]; then
        record SKIP "golden $name" "the CUDA engine does not support ${features% } yet (CPU only)"
        continue
    fi
    out_file="$logs/golden/$name.safetensors"
    mkdir -p "$logs/golden"
    if ! timeout 120 "${jvm[@]}" -jar "$jar" run --model "$case_dir/model.safetensors" \
            --input "$case_dir/input.safetensors" --output "$out_file" --device cuda > "$logs/golden/$name.run.txt" 2>&1; then
        record FAIL "golden $name" "run --device cuda failed: $(tail -1 "$logs/golden/$name.run.txt")"
        continue
    fi
    if [[ -z "$test_classes" ]]; then
        record FAIL "golden $name" "ran, but no test classes to compare with (GoldenCheck)"
        continue
    fi
    "${jvm[@]}" -cp "$jar:$test_classes" jlstm.cuda.GoldenCheck "$case_dir/expected.safetensors" "$out_file" \
        > "$logs/golden/$name.check.txt" 2>&1
    if [[ $? -eq 0 ]]; then
        record PASS "golden $name" "$(tail -1 "$logs/golden/$name.check.txt" | sed 's/^ *//')"
    else
        record FAIL "golden $name" "$(grep -m1 -E 'FAIL|MISSING|SHAPE|usage|no such' "$logs/golden/$name.check.txt" | sed 's/^ *//')"
    fi
done
[[ $cases -eq 0 ]] && record SKIP golden "no cases in src/test/resources/golden/<case>/{model,input,expected}.safetensors"

# ---------------------------------------------------------------- 5. timing vs cuDNN
say "timing: jlstm vs PyTorch nn.LSTM (cuDNN), same GPU, same run"
if [[ "${GPU_CHECK_SKIP_TIMING:-0}" == 1 ]]; then
    record SKIP timing "GPU_CHECK_SKIP_TIMING=1"
elif [[ "$cuda_line" != *" available:"* || -z "$test_classes" ]]; then
    record SKIP timing "CUDA backend unavailable or no test classes"
else
    timeout 300 "${jvm[@]}" -cp "$jar:$test_classes" jlstm.cuda.GpuTiming > "$logs/timing-jlstm.txt" 2>&1
    jstatus=$?
    python=""
    for candidate in python3 /usr/bin/python3 python; do
        command -v "$candidate" >/dev/null 2>&1 && { python="$candidate"; break; }
    done
    tstatus=3
    if [[ -n "$python" ]]; then
        timeout 300 "$python" "$repo/benchmarks/gpu_timing_torch.py" > "$logs/timing-torch.txt" 2>&1
        tstatus=$?
    else
        echo "no python" > "$logs/timing-torch.txt"
    fi
    if [[ -n "$python" ]]; then
        "$python" "$repo/benchmarks/gpu_timing_table.py" "$logs/timing-jlstm.txt" "$logs/timing-torch.txt" \
            | tee "$logs/timing-table.txt"
    else
        cat "$logs/timing-jlstm.txt"
    fi
    if [[ $jstatus -ne 0 ]]; then
        record FAIL timing "jlstm timing failed (exit $jstatus): $(tail -1 "$logs/timing-jlstm.txt")"
    elif [[ $tstatus -ne 0 ]]; then
        record PASS timing "jlstm timed; PyTorch peer not run: $(tail -1 "$logs/timing-torch.txt")"
    else
        record PASS timing "see timing-table.txt (speedup = cuDNN ms / jlstm ms)"
    fi
fi

finish
