#!/usr/bin/env bash
# Runs the PyTorch anchor and our `bench` back to back on the same shapes and thread count,
# then prints the ratio table (ours / PyTorch time per shape, forward and train) and writes a
# chart with both engines.
#
# usage: benchmarks/compare.sh [THREADS] [OUT_DIR]      (defaults: 2, benchmarks/results)
# needs: target/jlstm.jar (mvn -B package), Debian's python3-torch with OpenBLAS (/usr/bin/python3)
#
# The peer runs in its fastest honest configuration found on this machine: torch intra-op
# threads = THREADS and OpenBLAS single-threaded inside them (OPENBLAS_NUM_THREADS=1). With
# OpenBLAS's own pthreads as well, 2 + 2 threads fight over the cores and PyTorch is 2-5x slower
# on this machine, which would flatter us. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for
# this command alone so OpenBLAS picks its kernel by itself (the anchor prints which one).
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
out="${2:-benchmarks/results}"
mkdir -p "$out"
[ -f target/jlstm.jar ] || { echo "target/jlstm.jar is missing: run mvn -B package first" >&2; exit 1; }

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== PyTorch nn.LSTM (CPU, $threads threads)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
    /usr/bin/python3 benchmarks/torch_anchor.py --threads "$threads" --device cpu --json "$out/torch.json"
echo "== jlstm bench (CPU, $threads threads)"
java -jar target/jlstm.jar bench --device cpu --threads "$threads" --json "$out/jlstm.json" \
    --chart "$out/chart.png" --include "$out/torch.json"
echo "== ratio (time, ours / PyTorch; < 1 means jlstm is faster); load after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 benchmarks/ratio_table.py "$out/jlstm.json" "$out/torch.json"
