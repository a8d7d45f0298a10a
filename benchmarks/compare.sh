#!/usr/bin/env bash
# Runs the PyTorch anchor and our `bench` back to back on the same shapes and thread count,
# then prints the ratio table (ours / PyTorch time per shape, forward and train) and writes a
# chart with both engines. Ours runs twice: with native BLAS where usable (the default path), and
# pure Java (-Djlstm.cpu.blas=java).
#
# usage: benchmarks/compare.sh [THREADS] [OUT_DIR]      (defaults: 2, benchmarks/results)
# needs: target/jlstm.jar (mvn -B package), Debian's python3-torch with OpenBLAS (/usr/bin/python3)
#
# The peer runs in three thread configurations that all use THREADS cores, and each shape and
# pass is compared with its fastest: (a) torch intra-op threads = THREADS with OpenBLAS
# single-threaded inside them, (b) one torch thread with OpenBLAS on THREADS threads, (c) both
# at THREADS (the default: the two pools oversubscribe the cores and PyTorch is up to several
# times slower on a small machine, which would flatter us). OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
# are unset for these commands alone so OpenBLAS picks its kernel by itself (the anchor prints
# which one).
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
out="${2:-benchmarks/results}"
mkdir -p "$out"
[ -f target/jlstm.jar ] || { echo "target/jlstm.jar is missing: run mvn -B package first" >&2; exit 1; }

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
anchor() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE -u OPENBLAS_NUM_THREADS \
    /usr/bin/python3 benchmarks/torch_anchor.py --device cpu "$@"; }
echo "== PyTorch nn.LSTM (CPU): (a) torch $threads threads, OpenBLAS 1"
anchor --threads "$threads" --blas-threads 1 --json "$out/torch-a.json"
echo "== PyTorch nn.LSTM (CPU): (b) torch 1 thread, OpenBLAS $threads"
anchor --threads 1 --blas-threads "$threads" --json "$out/torch-b.json"
echo "== PyTorch nn.LSTM (CPU): (c) torch $threads threads, OpenBLAS $threads"
anchor --threads "$threads" --blas-threads "$threads" --json "$out/torch-c.json"
/usr/bin/python3 benchmarks/ratio_table.py --best "$out/torch-best.json" "$out/torch-a.json" "$out/torch-b.json" "$out/torch-c.json"
# Ours: native BLAS for the large products where it is usable (jlstm.cpu.NativeBlas), with
# OPENBLAS_NUM_THREADS=1 so that each of our $threads workers calls it on its share (one core each:
# $threads cores in all, like the peer); then the pure-Java path alone, for reference.
echo "== jlstm bench (CPU, $threads threads): $(OPENBLAS_NUM_THREADS=1 java -jar target/jlstm.jar info | grep '^cpu')"
OPENBLAS_NUM_THREADS=1 java -jar target/jlstm.jar bench --device cpu --threads "$threads" --json "$out/jlstm.json" \
    --chart "$out/chart.png" --include "$out/torch-best.json"
echo "== jlstm bench, pure Java (-Djlstm.cpu.blas=java, $threads threads)"
java -Djlstm.cpu.blas=java -jar target/jlstm.jar bench --device cpu --threads "$threads" --json "$out/jlstm-java.json"
echo "== ratio, native BLAS path (time, ours / PyTorch; < 1 means jlstm is faster); load after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 benchmarks/ratio_table.py "$out/jlstm.json" "$out/torch-a.json" "$out/torch-b.json" "$out/torch-c.json"
echo "== ratio, pure-Java path"
/usr/bin/python3 benchmarks/ratio_table.py "$out/jlstm-java.json" "$out/torch-a.json" "$out/torch-b.json" "$out/torch-c.json"
