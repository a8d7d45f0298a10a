#!/usr/bin/env bash
# gpu-check.sh — verifies and times the GPU path on an NVIDIA machine in one short lease:
#   1. probe       the host (GPU, driver, cuBLAS 13 wheel) and jlstm's own probe (`info`)
#   2. tests       the cuda test group (@Tag("cuda")) with the JUnit console launcher, on the GPU;
#                  a skipped or aborted test counts as a failure
#   2c. concurrency the concurrency tests again with CUDA graphs forced on: engines of one layer
#                  on many threads, and one thread capturing while others upload and launch
#   2d. features   lengths, projections, dropout masks, the cell on CUDA and the device training
#                  step against the CPU engine (SanitizerWorkload packed cell training)
#   3. golden      `run --device cuda` on every golden case, checked against expected.safetensors
#   4. timing      every engine variant (gemm, fused, persistent; graphs off/on) beside PyTorch
#                  nn.LSTM on cuDNN (fp32, and TF32 labelled), same shapes, same run; inference and
#                  training (forward + backward: the persistent rows run the tiled backward kernel
#                  where its plan fits, "# persistent plan" lines say which), and the persistent
#                  training once more with the tiled kernels off (persistent-warp+graphs)
#   4b. training   the training step (LSTM + Linear + MSE + clipping + Adam) timed beside PyTorch's
#                  nn.LSTM + Linear + clip_grad_norm_ + fused Adam, eager and as one CUDA graph
#   5. sanitizer   compute-sanitizer memcheck, racecheck, synccheck and initcheck, each on every
#                  kernel (SanitizerWorkload: gemm, fused, persistent, each in fp32, tf32 and bf16;
#                  packed, cell, training)
# Every PASS/FAIL/SKIP line is printed as it happens; one deadline (GPU_CHECK_DEADLINE seconds,
# default 510, under the 10-minute command limit) bounds the whole run, and each step gets what is
# left. A step that times out, or is not run because the deadline is near, is a FAIL. Steps can be
# chosen (GPU_CHECK_STEPS, e.g. "probe sanitizer" for a second lease call). The log folder ($OUT
# when set, else target/gpu-check) gets summary.txt, failures.txt, timing.md, timing-jlstm.txt,
# timing-torch.txt, training.md and logs.tar.gz: the raw log of every step, with copies of the
# others, packed after every step so a time-out still leaves it.
#
# Needs no Maven, no network and no Java on the machine: run it from the repository root with the
# carry folder made here by benchmarks/prepare-gpu-carry.sh (target/gpu-carry: jlstm.jar, test
# classes with the golden files, the JUnit console launcher and a jlink Java runtime).
#
# usage: benchmarks/gpu-check.sh [--standin DIR]
#   --standin DIR   dry run without a GPU: every JVM runs the CUDA backend on the CPU stand-in
#                   built in DIR (target/cuda-standin); timings use tiny shapes and mean nothing
# env:   JLSTM_CARRY (default target/gpu-carry), JAVA (a java to use instead of the carried one),
#        GPU_CHECK_DEADLINE (seconds), GPU_CHECK_SHAPES (timing shapes "T,B,I,H,L ..."),
#        GPU_CHECK_TRAINING_SHAPES (training-step shapes), GPU_CHECK_STEPS (steps to run, default all:
#        probe tests concurrency features golden timing training sanitizer),
#        GPU_CHECK_SANITIZER_TOOLS (the compute-sanitizer tools, default "memcheck racecheck synccheck
#        initcheck": the step splits what is left among them, so naming two gives each twice the time)
set -u
start_time=$(date +%s)
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo" || exit 2
standin=""
if [[ "${1:-}" == "--standin" ]]; then
    standin="$(cd "${2:?--standin needs the stand-in folder}" && pwd)"
fi
carry="${JLSTM_CARRY:-$repo/target/gpu-carry}"
out="${OUT:-$repo/target/gpu-check}"
deadline=$((start_time + ${GPU_CHECK_DEADLINE:-510}))
mkdir -p "$out" || { echo "gpu-check: cannot create $out" >&2; exit 2; }
logs="$(mktemp -d)"          # everything but the few files above, packed into logs.tar.gz
summary="$out/summary.txt"
failures="$out/failures.txt"
: > "$summary"
: > "$failures"
failed=0

left() { echo $((deadline - $(date +%s))); }
record() { # record STATUS STEP DETAIL: one summary line, printed at once
    local line
    line="$(printf '%-5s %-26s %s' "$1" "$2" "$3")"
    echo "$line" | tee -a "$summary"
    if [[ "$1" == FAIL ]]; then
        failed=1
        echo "$line" >> "$failures"
    fi
    return 0
}
pack() { # the raw logs, and a copy of every summary file, in the one archive
    cp "$out"/*.txt "$out"/*.md "$logs/" 2>/dev/null
    tar -czf "$out/logs.tar.gz" -C "$logs" . 2>/dev/null
}
finish() {
    pack
    echo "=== summary ($(( $(date +%s) - start_time )) s; files in $out)"
    cat "$summary"
    exit "$failed"
}
step() { echo; echo "=== $* ($(left) s left)"; }

# ---------------------------------------------------------------- Java, jar, libraries
java_bin=""
for candidate in "${JAVA:-}" "$carry/runtime/bin/java" "$(command -v java 2>/dev/null)"; do
    if [[ -n "$candidate" && -f "$candidate" ]]; then
        [[ -x "$candidate" ]] || chmod -R u+x "$(dirname "$candidate")" "$(dirname "$candidate")/../lib" 2>/dev/null
        [[ -x "$candidate" ]] && { java_bin="$candidate"; break; }
    fi
done
[[ -n "$java_bin" ]] || { record FAIL java "no Java: run benchmarks/prepare-gpu-carry.sh and carry target/gpu-carry"; finish; }
jar="$carry/jlstm.jar"
[[ -f "$jar" ]] || jar="$repo/target/jlstm.jar"
tests="$carry/test-classes"
[[ -d "$tests/jlstm" ]] || tests="$repo/target/test-classes"
console="$carry/junit-console.jar"
for needed in "$jar" "$tests/jlstm" "$tests/golden" "$console"; do
    [[ -e "$needed" ]] || { record FAIL carry "missing $needed (run benchmarks/prepare-gpu-carry.sh)"; finish; }
done

# libcublas.so.13: where this host's Python keeps NVIDIA's cuBLAS wheel, else the usual folders
# (one find at most). Every JVM gets the folder, and jlstm loads its forwarding library for it.
cublas_dir=""
if [[ -z "$standin" ]]; then
    for py in python3 /opt/torch/.venv/bin/python3; do
        command -v "$py" >/dev/null 2>&1 || [[ -x "$py" ]] || continue
        cublas_dir="$("$py" - 2>/dev/null <<'PY'
import glob, importlib.util, os
spec = importlib.util.find_spec("nvidia")
for root in (list(spec.submodule_search_locations) if spec else []):
    hits = sorted(glob.glob(os.path.join(root, "*", "lib", "libcublas.so.13")))
    if hits:
        print(os.path.dirname(hits[0]))
        break
PY
)"
        [[ -n "$cublas_dir" ]] && break
    done
    if [[ -z "$cublas_dir" ]]; then
        hit="$(ls /usr/local/cuda*/lib64/libcublas.so.13 2>/dev/null | head -1)"
        [[ -n "$hit" ]] || hit="$(ldconfig -p 2>/dev/null | grep -m1 'libcublas.so.13 ' | sed 's/.*=> //')"
        [[ -n "$hit" ]] || hit="$(timeout 20 find /opt /usr/local /usr/lib -name libcublas.so.13 -print -quit 2>/dev/null)"
        [[ -n "$hit" ]] && cublas_dir="$(dirname "$hit")"
    fi
fi
jvm=("$java_bin" -Xmx16g)
[[ -n "$cublas_dir" ]] && jvm+=("-Djlstm.cublas13.path=$cublas_dir")
[[ -n "$standin" ]] && jvm+=("-Djlstm.cuda.standin=$standin")
# The stand-in offers two devices, as in the cuda-tests execution (CudaTwoDevicesTest needs them).
[[ -n "$standin" ]] && export JLSTM_STANDIN_DEVICES="${JLSTM_STANDIN_DEVICES:-2}"
cp_tests="$jar:$tests"
echo "java: $java_bin; cuBLAS 13: ${cublas_dir:-not found (jlstm searches by itself)}; ${standin:+stand-in: $standin}"

# ---------------------------------------------------------------- 1. probe
probe_step() {
step "1. probe"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi > "$logs/nvidia-smi.txt" 2>&1
    record INFO host "$(nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader 2>/dev/null | head -1)"
elif [[ -z "$standin" ]]; then
    record FAIL host "nvidia-smi not found: no NVIDIA driver on this machine"
fi
timeout 60 bash "$repo/tools/nvidia-host-probe.sh" > "$logs/host-probe.txt" 2>&1
timeout 120 "${jvm[@]}" -jar "$jar" info > "$logs/info.txt" 2>&1
cat "$logs/info.txt"
cuda_line="$(grep -m1 '^cuda' "$logs/info.txt")"
probe_ok=0
if [[ "$cuda_line" == *" available:"* ]] && { [[ -n "$standin" ]] || [[ "$cuda_line" != *"stand-in"* ]]; }; then
    probe_ok=1
    record PASS probe "${cuda_line#cuda*available: }"
else
    record FAIL probe "${cuda_line:-no cuda line from info (see info.txt)}"
fi
pack
}

# ---------------------------------------------------------------- 2. tests
tests_step() {
step "2. cuda test group"
if [[ $probe_ok -eq 0 ]]; then
    record SKIP tests "the CUDA backend is unavailable (probe)"
else
    budget=$(( $(left) * 2 / 5 ))
    exclude=()
    gpus="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | wc -l)"
    if [[ -z "$standin" && "$gpus" -lt 2 ]]; then
        exclude=(--exclude-classname '.*CudaTwoDevicesTest')   # it needs two GPUs; it would be a skip
        record INFO tests "one GPU here: CudaTwoDevicesTest left out (it runs on two stand-in devices in mvn verify)"
    fi
    timeout "$budget" "${jvm[@]}" -jar "$console" execute --disable-banner --details=summary --include-tag cuda \
        "${exclude[@]}" --class-path "$cp_tests" --scan-class-path "$tests" --reports-dir "$logs/junit" \
        > "$logs/tests.txt" 2>&1
    status=$?
    counts="$(grep -E '\[ *[0-9]+ tests (successful|failed|skipped|aborted) *\]' "$logs/tests.txt" | tr -s ' []' ' ' | tr '\n' ',')"
    not_run="$(grep -E '\[ *[0-9]+ tests (skipped|aborted) *\]' "$logs/tests.txt" | awk '{ n += $2 } END { print n + 0 }')"
    if [[ $status -eq 124 ]]; then
        record FAIL tests "timed out after $budget s (tests.txt in logs)"
    elif [[ $status -ne 0 ]]; then
        record FAIL tests "failures: $counts"
        grep -E 'MethodSource|JUnit Jupiter:|=> ' "$logs/tests.txt" | head -20 >> "$failures"
    elif [[ "${not_run:-0}" -gt 0 ]]; then
        record FAIL tests "passed, but $not_run tests skipped or aborted: $counts"
    else
        record PASS tests "$counts"
    fi
fi
pack
}

# ---------------------------------------------------------------- 2b. quick correctness workload
workload_step() {
step "2b. every schedule and precision against the CPU engine or PyTorch's golden (SanitizerWorkload, no sanitizer)"
if [[ $probe_ok -eq 0 ]]; then
    record SKIP workload "the CUDA backend is unavailable (probe)"
else
    timeout $(( $(left) / 3 )) "${jvm[@]}" -cp "$cp_tests" jlstm.internal.cuda.SanitizerWorkload > "$logs/workload.txt" 2>&1
    status=$?
    if [[ $status -eq 0 ]]; then
        record PASS workload "$(grep -c '^ok ' "$logs/workload.txt") schedule/graph/shape/precision runs match the CPU engine (fp32) or PyTorch's golden (tf32, bf16)"
    else
        record FAIL workload "exit $status: $(grep -m1 -E 'Error|Exception|max \|' "$logs/workload.txt")"
        grep -m5 -E 'Error|Exception|at jlstm' "$logs/workload.txt" >> "$failures"
    fi
fi
pack
}

# ---------------------------------------------------------------- 3. golden cases
golden_step() {
step "3. golden cases with run --device cuda"
mkdir -p "$logs/golden"
for case_dir in "$tests"/golden/*/; do
    name="$(basename "$case_dir")"
    [[ -f "$case_dir/model.safetensors" && -f "$case_dir/expected.safetensors" ]] || continue
    if [[ $probe_ok -eq 0 ]]; then
        record SKIP "golden $name" "the CUDA backend is unavailable"
        continue
    fi
    if [[ $(left) -lt 30 ]]; then
        record FAIL "golden $name" "not run: the deadline is near"
        continue
    fi
    extra=()
    grep -q '"batch_first": *true' "$case_dir/meta.json" && extra+=(--batch-first)   # inputs are [B, T, I]
    output="$logs/golden/$name.safetensors"
    if ! timeout 60 "${jvm[@]}" -jar "$jar" run --model "$case_dir/model.safetensors" \
            --input "$case_dir/input.safetensors" --output "$output" --device cuda "${extra[@]}" \
            > "$logs/golden/$name.run.txt" 2>&1; then
        record FAIL "golden $name" "run failed: $(tail -1 "$logs/golden/$name.run.txt")"
        continue
    fi
    if timeout 60 "${jvm[@]}" -cp "$cp_tests" jlstm.internal.cuda.GoldenCheck "$case_dir/expected.safetensors" "$output" \
            > "$logs/golden/$name.check.txt" 2>&1; then
        record PASS "golden $name" "$(tail -1 "$logs/golden/$name.check.txt" | sed 's/^ *//')"
    else
        record FAIL "golden $name" "$(grep -m1 -E 'FAIL|MISSING|SHAPE|rror' "$logs/golden/$name.check.txt" | sed 's/^ *//')"
    fi
    rm -f "$output"
done
pack
}

# ---------------------------------------------------------------- 4. timing
timing_step() {
step "4. timing: every variant beside PyTorch nn.LSTM on cuDNN"
read -r -a shapes <<< "${GPU_CHECK_SHAPES:-}"
if [[ -n "$standin" && ${#shapes[@]} -eq 0 ]]; then
    shapes=("3,2,8,8,1" "3,4,8,16,1")   # the stand-in: a dry run of the machinery, not a measurement
fi
if [[ $probe_ok -eq 0 ]]; then
    record SKIP timing "the CUDA backend is unavailable"
else
    budget=$(( $(left) - ${GPU_CHECK_TIMING_RESERVE:-60} ))
    python=""
    for candidate in python3 /opt/torch/.venv/bin/python3 /usr/bin/python3; do
        command -v "$candidate" >/dev/null 2>&1 && { python="$candidate"; break; }
    done
    if [[ -n "$python" ]]; then
        timeout $(( budget / 3 )) env PYTHONUNBUFFERED=1 "$python" "$repo/benchmarks/gpu_timing_torch.py" "${shapes[@]}" \
            > "$out/timing-torch.txt" 2> "$logs/timing-torch.err"
        tstatus=$?
    else
        echo "no python" > "$out/timing-torch.txt"
        tstatus=3
    fi
    timeout $(( budget * 2 / 3 )) "${jvm[@]}" -cp "$cp_tests" jlstm.internal.cuda.GpuTiming "${shapes[@]}" \
        > "$out/timing-jlstm.txt" 2> "$logs/timing-jlstm.err"
    jstatus=$?
    if [[ -n "$python" ]]; then
        "$python" "$repo/benchmarks/gpu_timing_table.py" "$out/timing-jlstm.txt" "$out/timing-torch.txt" \
            > "$out/timing.md" 2>> "$logs/timing-jlstm.err"
        cat "$out/timing.md"
    fi
    if [[ $jstatus -eq 124 ]]; then
        record FAIL timing "jlstm timing timed out after $(( budget * 2 / 3 )) s"
    elif [[ $jstatus -ne 0 ]]; then
        record FAIL timing "jlstm timing failed (exit $jstatus): $(tail -1 "$logs/timing-jlstm.err")"
    elif [[ $tstatus -eq 124 ]]; then
        record FAIL timing "the PyTorch peer timed out after $(( budget / 3 )) s"
    elif [[ $tstatus -ne 0 ]]; then
        record SKIP timing "jlstm timed; PyTorch peer not run: $(tail -1 "$logs/timing-torch.err")"
    else
        record PASS timing "$(grep -c '^jlstm' "$out/timing-jlstm.txt") jlstm and $(grep -c '^torch' "$out/timing-torch.txt") cuDNN timings; table in timing.md"
    fi
fi
pack
}

# ---------------------------------------------------------------- 5. compute-sanitizer
sanitizer_step() {
step "5. compute-sanitizer"
sanitizer="$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)"
if [[ -n "$standin" ]]; then
    record SKIP sanitizer "dry run: compute-sanitizer needs a GPU (the stand-in has its own harness)"
elif [[ -z "$sanitizer" ]]; then
    record FAIL sanitizer "compute-sanitizer not found"
elif [[ $probe_ok -eq 0 ]]; then
    record SKIP sanitizer "the CUDA backend is unavailable (probe)"
else
    # Every tool on every kernel: the workload's parts cover the schedules (persistent included,
    # tiled kernels on and off) in fp32, tf32 and bf16 (the tiled kernels' wmma instances), the
    # packed path's row kernels, the cell and the training step's kernels.
    read -r -a tools <<< "${GPU_CHECK_SANITIZER_TOOLS:-memcheck racecheck synccheck initcheck}"
    for index in "${!tools[@]}"; do
        tool="${tools[$index]}"
        tools_left=$(( ${#tools[@]} - index ))
        if [[ $(left) -lt 45 ]]; then
            record FAIL "sanitizer $tool" "not run: the deadline is near ($(left) s left)"
            continue
        fi
        extra=()
        [[ $tool == memcheck ]] && extra=(--leak-check full)
        budget=$(( ($(left) - 20) / tools_left ))
        timeout "$budget" "$sanitizer" --tool "$tool" "${extra[@]}" --error-exitcode 9 --target-processes all \
            "${jvm[@]}" -cp "$cp_tests" jlstm.internal.cuda.SanitizerWorkload > "$logs/sanitizer-$tool.txt" 2>&1
        status=$?
        summary_line="$(grep -m1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$logs/sanitizer-$tool.txt")"
        runs="$(grep -c '^ok ' "$logs/sanitizer-$tool.txt") checked runs"
        if [[ $status -eq 0 ]]; then
            record PASS "sanitizer $tool" "${summary_line:-no errors} ($runs)"
        elif [[ $status -eq 124 ]]; then
            record FAIL "sanitizer $tool" "timed out after $budget s ($runs done)"
        else
            record FAIL "sanitizer $tool" "exit $status: ${summary_line:-$(tail -1 "$logs/sanitizer-$tool.txt")}"
            grep -m10 -E '=========' "$logs/sanitizer-$tool.txt" >> "$failures"
        fi
        pack
    done
fi
pack
}

# ---------------------------------------------------------------- 2c. concurrency, graphs on
concurrency_step() {
step "2c. concurrency with CUDA graphs on"
if [[ $probe_ok -eq 0 ]]; then
    record SKIP concurrency "the CUDA backend is unavailable (probe)"
else
    budget=$(( $(left) / 4 ))
    timeout "$budget" "${jvm[@]}" -Djlstm.cuda.graphs=on -jar "$console" execute --disable-banner --details=summary \
        --class-path "$cp_tests" --select-class jlstm.internal.cuda.CudaConcurrencyTest \
        --select-class jlstm.internal.cuda.CudaCaptureConcurrencyTest \
        --reports-dir "$logs/junit-concurrency" > "$logs/concurrency.txt" 2>&1
    status=$?
    counts="$(grep -E '\[ *[0-9]+ tests (successful|failed|skipped|aborted) *\]' "$logs/concurrency.txt" | tr -s ' []' ' ' | tr '\n' ',')"
    not_run="$(grep -E '\[ *[0-9]+ tests (skipped|aborted) *\]' "$logs/concurrency.txt" | awk '{ n += $2 } END { print n + 0 }')"
    if [[ $status -eq 124 ]]; then
        record FAIL concurrency "timed out after $budget s (concurrency.txt in logs)"
    elif [[ $status -ne 0 ]]; then
        record FAIL concurrency "failures: $counts"
        grep -E 'MethodSource|JUnit Jupiter:|=> ' "$logs/concurrency.txt" | head -20 >> "$failures"
    elif [[ "${not_run:-0}" -gt 0 ]]; then
        record FAIL concurrency "passed, but $not_run tests skipped or aborted: $counts"
    else
        record PASS concurrency "$counts"
    fi
fi
pack
}

# ---------------------------------------------------------------- 2d. lengths, projections, dropout, cell, training
features_step() {
step "2d. lengths, projections, dropout, the cell and the training step on CUDA"
if [[ $probe_ok -eq 0 ]]; then
    record SKIP features "the CUDA backend is unavailable (probe)"
else
    budget=$(( $(left) / 5 ))
    timeout "$budget" "${jvm[@]}" -cp "$cp_tests" jlstm.internal.cuda.SanitizerWorkload packed cell training \
        > "$logs/features.txt" 2>&1
    status=$?
    if [[ $status -eq 0 ]]; then
        record PASS features "$(grep -c '^ok ' "$logs/features.txt") runs match the CPU engine: $(grep '^ok ' "$logs/features.txt" | cut -d: -f1 | sed 's/^ok //' | tr '\n' ' ')"
    elif [[ $status -eq 124 ]]; then
        record FAIL features "timed out after $budget s ($(grep -c '^ok ' "$logs/features.txt") runs done)"
    else
        record FAIL features "exit $status: $(grep -m1 -E 'Error|Exception' "$logs/features.txt")"
        grep -m5 -E 'Error|Exception|at jlstm' "$logs/features.txt" >> "$failures"
    fi
fi
pack
}

# ---------------------------------------------------------------- 4b. the training step, timed
training_step() {
step "4b. the training step beside PyTorch (eager and one CUDA graph)"
read -r -a tshapes <<< "${GPU_CHECK_TRAINING_SHAPES:-}"
if [[ -n "$standin" && ${#tshapes[@]} -eq 0 ]]; then
    tshapes=("3,2,4,8,1")   # the stand-in: a dry run of the machinery, not a measurement
fi
if [[ $probe_ok -eq 0 ]]; then
    record SKIP training "the CUDA backend is unavailable"
else
    budget=$(( $(left) - ${GPU_CHECK_TRAINING_RESERVE:-60} ))
    [[ $budget -lt 30 ]] && budget=30
    timeout $(( budget / 2 )) "${jvm[@]}" -cp "$cp_tests" jlstm.internal.cuda.TrainingTiming "${tshapes[@]}" \
        > "$logs/training-jlstm.txt" 2> "$logs/training-jlstm.err"
    jstatus=$?
    python=""
    for candidate in python3 /opt/torch/.venv/bin/python3 /usr/bin/python3; do
        command -v "$candidate" >/dev/null 2>&1 && { python="$candidate"; break; }
    done
    tstatus=3
    if [[ -n "$python" ]]; then
        timeout $(( budget / 2 )) env PYTHONUNBUFFERED=1 "$python" "$repo/benchmarks/gpu_training_torch.py" \
            "${tshapes[@]}" > "$logs/training-torch.txt" 2> "$logs/training-torch.err"
        tstatus=$?
    fi
    # One table: a row per shape, a column per way (ms per step, median).
    awk 'FNR == 1 { file++ } /^(jlstm|torch)-train / && $9 != "failed" {
             key = $2 "," $3 "," $4 "," $5 "," $6; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
             ms[key, $1 " " $7] = $10 }
         /^torch-train / && $9 == "failed" { key = $2 "," $3 "," $4 "," $5 "," $6; ms[key, $1 " " $7] = "failed" }
         END {
             print "| T,B,I,H,L | jlstm graphs off | jlstm graphs on | torch eager | torch graph |"
             print "|---|---|---|---|---|"
             for (k = 1; k <= n; k++) { key = order[k]
                 printf "| %s | %s | %s | %s | %s |\n", key, ms[key, "jlstm-train graphs-off"], ms[key, "jlstm-train graphs-on"],
                        ms[key, "torch-train eager"], ms[key, "torch-train graph"] } }' \
        "$logs/training-jlstm.txt" "$logs/training-torch.txt" > "$out/training.md" 2>/dev/null
    echo "(ms per training step, median; ${standin:+stand-in: meaningless})" >> "$out/training.md"
    cat "$out/training.md"
    if [[ $jstatus -eq 124 ]]; then
        record FAIL training "jlstm training timing timed out after $(( budget / 2 )) s"
    elif [[ $jstatus -ne 0 ]]; then
        record FAIL training "jlstm training timing failed (exit $jstatus): $(tail -1 "$logs/training-jlstm.err")"
    elif [[ $tstatus -eq 124 ]]; then
        record FAIL training "the PyTorch peer timed out after $(( budget / 2 )) s"
    elif [[ $tstatus -eq 3 && -n "$standin" ]]; then
        why="no python"
        [[ -n "$python" ]] && why="$(tail -1 "$logs/training-torch.err")"
        record SKIP training "jlstm timed ($(grep -c '^jlstm-train' "$logs/training-jlstm.txt") rows); PyTorch peer not run: $why"
    elif [[ $tstatus -ne 0 ]]; then
        record FAIL training "the PyTorch peer failed (exit $tstatus): $(tail -1 "$logs/training-torch.err" 2>/dev/null)"
    else
        record PASS training "$(grep -c '^jlstm-train' "$logs/training-jlstm.txt") jlstm and $(grep -c '^torch-train .* - ' "$logs/training-torch.txt") PyTorch timings ($(grep -c ' failed ' "$logs/training-torch.txt") PyTorch ways failed, said in training.md); table in training.md"
    fi
fi
pack
}

# The order: everything (default), or GPU_CHECK_ORDER=quick for a lease with little time left:
# the probe, one JVM checking every schedule, the timings, then the test group and golden cases.
probe_ok=0
if [[ "${GPU_CHECK_ORDER:-full}" == quick ]]; then
    order=(probe workload timing training tests golden)
else
    order=(probe tests concurrency features golden timing training sanitizer)
fi
read -r -a chosen <<< "${GPU_CHECK_STEPS:-${order[*]}}"
for name in "${chosen[@]}"; do
    case "$name" in
        probe|tests|concurrency|features|golden|timing|training|sanitizer|workload) "${name}_step" ;;
        *) record FAIL steps "unknown step '$name' in GPU_CHECK_STEPS" ;;
    esac
done
[[ " ${chosen[*]} " == *" probe "* ]] || record FAIL steps "GPU_CHECK_STEPS without probe: the other steps need it"
finish
