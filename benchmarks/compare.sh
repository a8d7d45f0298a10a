#!/usr/bin/env bash
# jlstm's CPU engine against the two CPU peers in one run, interleaved: Intel oneDNN's LSTM
# primitive (benchmarks/onednn, Debian's libdnnl-dev) and PyTorch's nn.LSTM (Debian's python3-torch
# on OpenBLAS), on the benchmark shapes; prints the ratio tables (ours / peer time, forward and
# train; <= 1 means jlstm is at least as fast) and writes every JSON file and a chart.
#
# usage: benchmarks/compare.sh [THREADS] [OUT_DIR] [ROUNDS] [--large] [--nice] [--isa avx2] [--no-torch]
#   THREADS  cores to use (default: all, nproc); ROUNDS (default 2): every engine runs once per
#   round, in turn, and each keeps its best round. On a shared machine each run first waits (up
#   to 2 minutes) for the CPUs to be idle (< 15% busy over a second), unless --nice; the load is
#   printed.
#   --large  adds T=100 B=256 I=H=1024 (a large training batch; several minutes).
#   --isa avx2  all three engines limited to AVX2 + FMA, as on a processor without AVX-512: jlstm
#            -Djlstm.cpu.kernels=avx2 (what auto picks on such a CPU), oneDNN ONEDNN_MAX_CPU_ISA=AVX2,
#            OpenBLAS OPENBLAS_CORETYPE=Haswell.
#   --no-torch  oneDNN only as the peer (PyTorch takes most of the run's time).
#   --nice   runs every timed command (all engines alike) at nice -20 (root only), so that other
#            work on a shared machine takes the cores from them as little as possible.
# The host's own noise is recorded beside the results: every engine's JSON rows carry the spread of
# their repetitions (forward_ms_min/max, train_ms_min/max, reps), and the host probe
# (benchmarks/probe/host_probe.cpp, ~1 s: each CPU's fp32 FMA GFLOP/s with all CPUs busy at once
# and each alone, the share of the wall clock its thread was on the CPU, steal) runs at the start of
# every round and right before each engine's timed command; /proc/stat's steal and busy time of
# each CPU are read before and after each timed command. All of it goes to the log and to
# OUT_DIR/host.json (one object per probe, kind "probe", and per timed command, kind "run", labelled
# "round R ENGINE" with ENGINE the JSON file's name); noise_summary.py prints it per round at the end.
# needs: target/jlstm.jar (mvn -B package -DskipTests); libdnnl-dev and g++ (the oneDNN peer);
#        python3-torch and libopenblas0-pthread (/usr/bin/python3) for the PyTorch peer.
#
# jlstm runs as a user runs it: `java -jar target/jlstm.jar bench`, no environment variable.
# oneDNN runs with THREADS OpenMP threads and with 1, and counts with its faster one per shape.
# PyTorch runs in three thread splits of THREADS cores (torch threads x OpenBLAS threads: T x 1,
# 1 x T, T x T) and counts with its fastest; OpenBLAS is given the kernel this CPU supports
# (OPENBLAS_CORETYPE is set only if it picks a pre-AVX2 one by itself; see below).
set -euo pipefail
cd "$(dirname "$0")/.."
large=false
no_torch=false
prio=()
jprops=()     # jlstm: only with --isa (a user on an AVX2 machine gets the same without it)
dnnl_env=()
isa=native
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --large) large=true ;;
        --nice) prio=(nice -n -20) ;;
        --no-torch) no_torch=true ;;
        --isa) shift; isa="$1"
            [ "$isa" = avx2 ] || { echo "--isa takes avx2" >&2; exit 2; }
            jprops=(-Djlstm.cpu.kernels=avx2); dnnl_env=(ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2) ;;
        *) args+=("$1") ;;
    esac
    shift
done
threads="${args[0]:-$(nproc)}"
out="${args[1]:-benchmarks/results}"
rounds="${args[2]:-2}"
mkdir -p "$out"
[ -f target/jlstm.jar ] || { echo "target/jlstm.jar is missing: run mvn -B package -DskipTests first" >&2; exit 1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
busy() {  # percent of CPU time not idle over the next second, all cores
    local a b
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    echo $(( 100 - 100 * (b[4] + b[5] - a[4] - a[5]) / (total > 0 ? total : 1) ))
}
quiet() {  # waits until other processes leave the CPUs alone (at most 2 minutes; not with --nice)
    local i b
    [ ${#prio[@]} -gt 0 ] && return 0
    for i in $(seq 1 30); do
        b=$(busy)
        [ "$b" -lt 15 ] && return 0
        sleep 4
    done
    echo "   (CPUs still ${b}% busy after 2 minutes: timing anyway)"
}
shapes=(--shape 100,1,256,256,1 --shape 100,32,256,256,1 --shape 100,64,512,512,1 --shape 50,16,128,128,2)
$large && shapes+=(--shape 100,256,1024,1024,1)

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), ISA: $(grep -o -w -E 'avx512f|avx512bw|avx512vl|avx512_bf16|avx2|fma' /proc/cpuinfo | sort -u | xargs); load: $(load)"
echo "== jlstm: $(java "${jprops[@]}" -jar target/jlstm.jar info | grep '^cpu')"

# oneDNN peer: build, then prove it computes the same LSTM as PyTorch before timing it.
onednn=benchmarks/onednn/target/onednn_lstm
benchmarks/onednn/build.sh "$onednn" >/dev/null
/usr/bin/python3 benchmarks/onednn/onednn_check.py "$onednn"

# The host's state beside every timed command: the probe (~1 s), then /proc/stat around the command.
host_probe=benchmarks/probe/target/host_probe
benchmarks/probe/build.sh "$host_probe" >/dev/null
hostlog="$out/host.jsonl"
: > "$hostlog"
stat0=$(mktemp)
trap 'rm -f "$stat0"' EXIT
probe() { echo "   $("$host_probe" --label "$1" --json "$hostlog")"; }
run_start() { probe "$1"; grep '^cpu[0-9]' /proc/stat > "$stat0"; date +%s.%N >> "$stat0"; }
run_end() {  # steal and busy % of each CPU over the timed command (busy counts the engine itself)
    local line
    line=$(grep '^cpu[0-9]' /proc/stat | awk -v label="$1" -v now="$(date +%s.%N)" -v utc="$(date -u +%FT%TZ)" '
        NR == FNR { if ($1 ~ /^cpu/) { for (i = 2; i <= 9; i++) a[$1, i] = $i; names[++n] = $1 } else start = $1; next }
        { t = 0; for (i = 2; i <= 9; i++) { d[i] = $i - a[$1, i]; t += d[i] }; t = t > 0 ? t : 1
          steal[$1] = 100 * d[9] / t; busy[$1] = 100 * (t - d[5] - d[6]) / t }
        END { s = ""; b = ""; h = ""
              for (k = 1; k <= n; k++) { c = names[k]; sep = k > 1 ? ", " : ""
                  s = s sep sprintf("%.2f", steal[c]); b = b sep sprintf("%.1f", busy[c])
                  h = h (k > 1 ? " /" : "") sprintf(" %.1f%%", steal[c]) }
              printf "{\"kind\": \"run\", \"label\": \"%s\", \"utc\": \"%s\", \"seconds\": %.1f, \"steal_pct\": [%s], \"busy_pct\": [%s]}\t%s\t%s\n",
                     label, utc, now - start, s, b, h, b }' "$stat0" -)
    echo "${line%%$'\t'*}" >> "$hostlog"
    echo "   (during it: steal$(echo "$line" | cut -f2), busy $(echo "$line" | cut -f3 | sed 's/, / \/ /g') %)"
}

# OpenBLAS for the PyTorch peer: Debian's 0.3.21 may not recognise a newer CPU and fall back to
# its SSE3 "Prescott" kernel (4-5x slower), which would make the comparison meaningless. Ask it
# which kernel it picks by itself (with any OPENBLAS_* from the environment removed) and, if that
# kernel is older than the CPU's ISA, name the matching one.
openblas_core() {
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@" /usr/bin/python3 -c '
import ctypes, glob
lib = ctypes.CDLL(sorted(glob.glob("/usr/lib/x86_64-linux-gnu/openblas*/libopenblas*.so*"))[0])
lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode())'
}
core="$(openblas_core)"
coretype=()
[ "$isa" = avx2 ] && core="$core (overridden: --isa avx2)" && coretype=(OPENBLAS_CORETYPE=Haswell)
case "$core" in
    Prescott|Nehalem|Core2|Penryn|Dunnington|Atom|Barcelona|Bulldozer|Piledriver|Steamroller|Excavator|Sandybridge|Katmai|Coppermine|Northwood)
        if grep -q -w avx512bw /proc/cpuinfo; then coretype=(OPENBLAS_CORETYPE=SkylakeX)
        elif grep -q -w avx2 /proc/cpuinfo; then coretype=(OPENBLAS_CORETYPE=Haswell); fi ;;
esac
echo "== priority: ${prio[*]:-normal}"
echo "== OpenBLAS (PyTorch peer) picks '$core' by itself; running it with: ${coretype[*]:-its own choice}"
torch() { "${prio[@]}" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE -u OPENBLAS_NUM_THREADS "${coretype[@]}" \
    /usr/bin/python3 benchmarks/torch_anchor.py --device cpu --reps 7 "${shapes[@]}" "$@"; }

for r in $(seq 1 "$rounds"); do
    echo "== round $r/$rounds, load $(load)"
    probe "round $r start"
    quiet; echo "-- jlstm, $threads threads (load $(load))"
    run_start "round $r jlstm"
    "${prio[@]}" java "${jprops[@]}" -jar target/jlstm.jar bench --device cpu --threads "$threads" "${shapes[@]}" \
        --spread --json "$out/jlstm-r$r.json" \
        2>/dev/null | grep -v '^wrote'
    run_end "round $r jlstm"
    quiet; echo "-- oneDNN, $threads threads (load $(load))"
    run_start "round $r onednn"
    "${prio[@]}" env "${dnnl_env[@]}" "$onednn" --threads "$threads" "${shapes[@]}" --json "$out/onednn-r$r.json"
    run_end "round $r onednn"
    quiet; echo "-- oneDNN, 1 thread (load $(load))"
    run_start "round $r onednn1"
    "${prio[@]}" env "${dnnl_env[@]}" "$onednn" --threads 1 "${shapes[@]}" --json "$out/onednn1-r$r.json"
    run_end "round $r onednn1"
    if ! $no_torch; then
        for split in "a $threads 1" "b 1 $threads" "c $threads $threads"; do
            set -- $split
            quiet; echo "-- PyTorch, $2 torch x $3 OpenBLAS threads (load $(load))"
            run_start "round $r torch-$1"
            torch --threads "$2" --blas-threads "$3" --json "$out/torch-$1-r$r.json"
            run_end "round $r torch-$1"
        done
    fi
    # One thread each, timed by the thread's CPU time: per-core speed, which other processes on a
    # shared machine do not distort the way they distort the wall clock.
    quiet; echo "-- jlstm, 1 thread, CPU time (load $(load))"
    run_start "round $r jlstm1"
    "${prio[@]}" java "${jprops[@]}" -jar target/jlstm.jar bench --device cpu --threads 1 --cpu-time "${shapes[@]}" \
        --spread --json "$out/jlstm1-r$r.json" 2>/dev/null | grep -v '^wrote'
    run_end "round $r jlstm1"
    quiet; echo "-- oneDNN, 1 thread, CPU time (load $(load))"
    run_start "round $r onednn1cpu"
    "${prio[@]}" env "${dnnl_env[@]}" "$onednn" --threads 1 --cpu-time "${shapes[@]}" --json "$out/onednn1cpu-r$r.json"
    run_end "round $r onednn1cpu"
done
/usr/bin/python3 -c 'import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
json.dump(rows, open(sys.argv[2], "w"), indent=1)' "$hostlog" "$out/host.json" && rm "$hostlog"
best() { local name="$1"; shift; /usr/bin/python3 benchmarks/ratio_table.py --best "$out/$name.json" "$@"; }
best jlstm "$out"/jlstm-r*.json
best jlstm1 "$out"/jlstm1-r*.json
best onednn "$out"/onednn-r*.json
best onednn1 "$out"/onednn1-r*.json
best onednn1cpu "$out"/onednn1cpu-r*.json
best onednn-best "$out"/onednn-r*.json "$out"/onednn1-r*.json
$no_torch || best torch-best "$out"/torch-[abc]-r*.json
echo "== load after: $(load)"
echo "== jlstm ($threads threads) / oneDNN ($threads threads)"
/usr/bin/python3 benchmarks/ratio_table.py "$out/jlstm.json" "$out/onednn.json"
echo "== jlstm ($threads threads) / oneDNN (its faster of $threads and 1 threads)"
/usr/bin/python3 benchmarks/ratio_table.py "$out/jlstm.json" "$out/onednn-best.json"
if ! $no_torch; then
    echo "== jlstm ($threads threads) / PyTorch (its fastest thread split)"
    /usr/bin/python3 benchmarks/ratio_table.py "$out/jlstm.json" "$out/torch-best.json"
fi
echo "== jlstm (1 thread) / oneDNN (1 thread), both by CPU time"
/usr/bin/python3 benchmarks/ratio_table.py "$out/jlstm1.json" "$out/onednn1cpu.json"
echo "== the B = 1 shape round by round, beside the host probe (noise_summary.py)"
/usr/bin/python3 benchmarks/noise_summary.py "$out"
