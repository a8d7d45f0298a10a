#!/usr/bin/env python3
"""Joins jlstm.cuda.GpuTiming and gpu_timing_torch.py lines into one table (used by gpu-check.sh).

For each shape and mode: jlstm's best schedule, its ms and GFLOP/s, cuDNN's ms, and
speedup = cuDNN ms / jlstm ms (> 1: jlstm faster). usage: gpu_timing_table.py JLSTM_LOG TORCH_LOG
"""
import sys


def read(path):
    rows = {}
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 10 and p[0] in ("jlstm", "torch"):
                    key = tuple(p[1:7])
                    ms = float(p[8])
                    best = rows.get(key)
                    if best is None or ms < best[1]:
                        rows[key] = (p[7], ms, float(p[9]))
    except OSError:
        pass
    return rows


def main(jlstm_log, torch_log):
    ours, peer = read(jlstm_log), read(torch_log)
    print(f"{'T':>4} {'B':>4} {'I':>5} {'H':>5} {'L':>2} {'mode':<10} {'jlstm':>18} {'GFLOP/s':>8} {'cuDNN ms':>9} {'speedup':>8}")
    for key in sorted(ours, key=lambda k: (k[5], [int(v) for v in k[:5]])):
        schedule, ms, gflops = ours[key]
        t, b, i, h, l, mode = key
        other = peer.get(key)
        cudnn = f"{other[1]:9.3f}" if other else f"{'-':>9}"
        speedup = f"{other[1] / ms:7.2f}x" if other else f"{'-':>8}"
        print(f"{t:>4} {b:>4} {i:>5} {h:>5} {l:>2} {mode:<10} {ms:9.3f} ms {schedule:<5} {gflops:8.1f} {cudnn} {speedup}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
