#!/usr/bin/env python3
"""Joins jlstm.cuda.GpuTiming and gpu_timing_torch.py lines into one Markdown table (gpu-check.sh).

Per shape and mode: µs per step of every jlstm variant, of cuDNN fp32 (and TF32), the best jlstm
variant, its ratio to cuDNN fp32 (jlstm time / cuDNN time: < 1 means jlstm is faster), and the
fraction of the GPU's fp32 peak the best variant reaches. FLOPs of a forward pass:
2·T·B·4H·(I_k + H) summed over layers; training counts 3× that (backward ≈ 2× forward).

usage: gpu_timing_table.py JLSTM_LOG TORCH_LOG [FP32_PEAK_TFLOPS]
  FP32_PEAK_TFLOPS: the device's fp32 peak (default 67, NVIDIA's datasheet figure for H100/H200 SXM:
  a lead, not a measurement)
"""
import sys


def read(path):
    rows = {}
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 10 and p[0] in ("jlstm", "torch"):
                    shape = tuple(int(v) for v in p[1:6])
                    rows.setdefault((shape, p[6]), {})[p[7]] = (p[8], float(p[9]))
    except OSError:
        pass
    return rows


def flops(shape, mode):
    t, b, i, h, layers = shape
    forward = sum(2.0 * t * b * 4 * h * ((i if k == 0 else h) + h) for k in range(layers))
    return forward * (3 if mode == "training" else 1)


def main(jlstm_log, torch_log, peak_tflops=67.0):
    ours, peer = read(jlstm_log), read(torch_log)
    variants = ["gemm", "gemm+graphs", "fused", "fused+graphs", "persistent", "persistent+graphs"]
    header = ["T", "B", "H", "mode"] + [f"{v} µs/step" for v in variants] + [
        "cuDNN fp32", "cuDNN tf32", "best jlstm", "ratio to cuDNN fp32", "% fp32 peak"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for (shape, mode) in sorted(ours, key=lambda k: (k[1], k[0][3], k[0][1])):
        t, b, i, h, layers = shape
        row = ours[(shape, mode)]
        cells = [str(t), str(b), str(h) if i == h and layers == 1 else f"{h} (I={i}, L={layers})", mode]
        best = None
        for v in variants:
            if v in row:
                ran_as, ms = row[v]
                note = "" if v.split("+")[0] == ran_as else f" (ran as {ran_as})"
                cells.append(f"{ms * 1000 / t:.2f}{note}")
                if best is None or ms < best[1]:
                    best = (v, ms)
            else:
                cells.append("-")
        torch_row = peer.get((shape, mode), {})
        fp32 = torch_row.get("cudnn-fp32")
        tf32 = torch_row.get("cudnn-tf32")
        cells.append(f"{fp32[1] * 1000 / t:.2f}" if fp32 else "-")
        cells.append(f"{tf32[1] * 1000 / t:.2f}" if tf32 else "-")
        cells.append(best[0] if best else "-")
        cells.append(f"{best[1] / fp32[1]:.2f}" if best and fp32 else "-")
        cells.append(f"{flops(shape, mode) / (best[1] * 1e-3) / (peak_tflops * 1e12) * 100:.1f}" if best else "-")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 67.0)
