#!/usr/bin/env python3
"""Joins jlstm.internal.cuda.GpuTiming and gpu_timing_torch.py lines into Markdown tables (gpu-check.sh).

One table per precision (fp32, tf32, bf16: docs/PRECISION.md), each jlstm mode against cuDNN in the
same precision. Per shape and mode: µs per step of every jlstm variant of that precision, of cuDNN
in that precision and of nn.LSTM replayed from a CUDA graph (fp32 and tf32), the best jlstm variant,
its ratio to cuDNN (jlstm time / cuDNN time: < 1 means jlstm is faster) and to the graph peer, and a
lower bound per step: max(grid hand-offs × 1 µs, FLOPs per step / peak), with 1 hand-off per step
for inference and 2 for training, and the peak of the precision (dense TFLOP/s, NVIDIA's datasheet
figures for the H200 SXM, a lead, not a measurement: fp32 67, tf32 495, bf16 990; override with
PEAKS=fp32:67,tf32:495,bf16:990). FLOPs of a forward pass: 2·T·B·4H·(I_k + H) summed over layers
and directions; training counts 3× that (backward ≈ 2× forward). After each table: at how many
shapes the best jlstm variant is at or under cuDNN, and at B ≤ 8 at or under the graph peer.
The column persistent-warp+graphs (training only) is the persistent schedule with its tiled kernels
turned off, the warp-per-unit kernels they replaced: shown beside persistent+graphs, never the best.

Line formats: "jlstm T B I H L MODE VARIANT RAN_AS MS" with VARIANT = schedule[+graphs][@tf32|@bf16]
[-bidirectional]; "torch T B I H L MODE PEER - MS" with PEER = cudnn-{fp32,tf32,bf16}[-graph]
[-bidirectional].

usage: gpu_timing_table.py JLSTM_LOG TORCH_LOG [PEAKS]
"""
import sys

PRECISIONS = ("fp32", "tf32", "bf16")
DEFAULT_PEAKS = {"fp32": 67.0, "tf32": 495.0, "bf16": 990.0}
SCHEDULES = ["gemm", "gemm+graphs", "fused", "fused+graphs", "persistent", "persistent+graphs"]
# Shown, never the best: the persistent schedule with its tiled kernels turned off (a test switch,
# GpuTiming's training-only comparison of the tiled kernels with the warp-per-unit ones).
EXTRA = ["persistent-warp+graphs"]
HANDOFF_US = 1.0
BIDIRECTIONAL = "-bidirectional"


def read(path):
    """(shape, bidirectional, mode) → {label without suffix: (ran_as, ms)}."""
    rows = {}
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 10 and p[0] in ("jlstm", "torch"):
                    shape = tuple(int(v) for v in p[1:6])
                    label = p[7]
                    bidirectional = label.endswith(BIDIRECTIONAL)
                    if bidirectional:
                        label = label[:-len(BIDIRECTIONAL)]
                    rows.setdefault((shape, bidirectional, p[6]), {})[label] = (p[8], float(p[9]))
    except OSError:
        pass
    return rows


def flops(shape, bidirectional, mode):
    t, b, i, h, layers = shape
    d = 2 if bidirectional else 1
    forward = sum(d * 2.0 * t * b * 4 * h * ((i if k == 0 else d * h) + h) for k in range(layers))
    return forward * (3 if mode == "training" else 1)


def bound_us_per_step(shape, bidirectional, mode, peak_tflops):
    t = shape[0]
    handoffs = (2 if mode == "training" else 1) * shape[4]
    return max(handoffs * HANDOFF_US, flops(shape, bidirectional, mode) / t / (peak_tflops * 1e12) * 1e6)


def table(ours, peer, precision, peak):
    tag = "" if precision == "fp32" else "@" + precision
    graph_peer = f"cudnn-{precision}-graph" if precision != "bf16" else None
    header = ["T", "B", "H", "mode"] + [f"{v} µs/step" for v in SCHEDULES + EXTRA] + [
        f"cuDNN {precision}", "cuDNN graph" if graph_peer else "cuDNN graph (n/a)", "best jlstm",
        "ratio to cuDNN", "ratio to graph", "bound µs/step"]
    lines = [f"### {precision}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    at_or_under, shapes, small_wins, small = 0, 0, 0, 0
    for key in sorted(ours, key=lambda k: (k[2], k[1], k[0][3], k[0][0], k[0][1])):
        shape, bidirectional, mode = key
        t, b, i, h, layers = shape
        row = ours[key]
        if not any(v + tag in row for v in SCHEDULES):
            continue
        plain = i == h and layers == 1 and not bidirectional
        cells = [str(t), str(b), str(h) if plain else f"{h} (I={i}, L={layers}{', bidirectional' if bidirectional else ''})",
                 mode]
        best = None
        for v in SCHEDULES + EXTRA:
            if v + tag in row:
                ran_as, ms = row[v + tag]
                note = "" if v.split("+")[0].split("-")[0] == ran_as else f" (ran as {ran_as})"
                cells.append(f"{ms * 1000 / t:.2f}{note}")
                if v in SCHEDULES and (best is None or ms < best[1]):
                    best = (v, ms)
            else:
                cells.append("-")
        torch_row = peer.get(key, {})
        cudnn = torch_row.get(f"cudnn-{precision}")
        graph = torch_row.get(graph_peer) if graph_peer else None
        cells.append(f"{cudnn[1] * 1000 / t:.2f}" if cudnn else "-")
        cells.append(f"{graph[1] * 1000 / t:.2f}" if graph else "-")
        cells.append(best[0])
        cells.append(f"{best[1] / cudnn[1]:.2f}" if cudnn else "-")
        cells.append(f"{best[1] / graph[1]:.2f}" if graph else "-")
        cells.append(f"{bound_us_per_step(shape, bidirectional, mode, peak):.2f}")
        lines.append("| " + " | ".join(cells) + " |")
        if cudnn:
            shapes += 1
            at_or_under += best[1] <= cudnn[1]
        if graph and b <= 8:
            small += 1
            small_wins += best[1] <= graph[1]
    lines += ["", f"{precision}: best jlstm at or under cuDNN {precision} at {at_or_under} of {shapes} shape×mode rows"
              + (f"; at B ≤ 8 at or under the CUDA-graph peer at {small_wins} of {small}" if graph_peer else ""), ""]
    return lines


def main(jlstm_log, torch_log, peaks=None):
    ours, peer = read(jlstm_log), read(torch_log)
    peaks = peaks or DEFAULT_PEAKS
    for precision in PRECISIONS:
        print("\n".join(table(ours, peer, precision, peaks[precision])))


def parse_peaks(text):
    peaks = dict(DEFAULT_PEAKS)
    for item in text.split(","):
        name, value = item.split(":")
        peaks[name] = float(value)
    return peaks


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], parse_peaks(sys.argv[3]) if len(sys.argv) > 3 else None)
