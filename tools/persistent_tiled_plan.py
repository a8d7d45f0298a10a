#!/usr/bin/env python3
"""Prints the tiled persistent forward kernel's plan (docs/GPU.md, "The tiled persistent forward
kernel") for the grid of benchmarks/gpu-check.sh on a given GPU, by the formula of
jlstm.internal.cuda.PersistentPlan.Tiled.search (one direction; occupancy by shared memory only,
the kernel's 128 registers × 256 threads allow two blocks per SM).

usage: python3 tools/persistent_tiled_plan.py [SMS [OPT_IN_SHARED_BYTES]]   (default: an H200, 132 227 KiB)
"""
import sys


def up(n, m):
    return (n + m - 1) // m * m


def plan(hidden, batch, elem, sms, limit):
    """(units, blocks, chunk, shared bytes, tiles, splits) or None, as PersistentPlan.Tiled.search."""
    for per_sm in range(1, 9):
        units = up(-(-hidden // (sms * per_sm)), 4)
        blocks = -(-hidden // units)
        bp, hp, pad = up(batch, 16), up(hidden, 16), 16 // elem
        tiles = units // 4 * (bp // 16)
        if tiles > 32:
            continue
        splits = 1 if tiles >= 8 else 8 // tiles
        fixed = 32 + up(4 * units * (hp + pad) * elem, 32) + up(splits * 4 * units * (bp + 4) * 4, 32) \
            + units * batch * 4
        for chunk in [hp] + [c for c in (256, 128, 64, 32, 16) if c < hp]:
            shared = fixed + up(bp * (chunk + pad) * elem, 32)
            if shared <= limit:
                fit = 2 if 2 * (shared + 1024) <= limit + 1024 else 1
                if fit * sms >= blocks:
                    return units, blocks, chunk, shared, tiles, splits
                break
    return None


def main():
    sms = int(sys.argv[1]) if len(sys.argv) > 1 else 132
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 227 * 1024
    print(f"# {sms} SMs, {limit} bytes of opt-in shared memory per block")
    print("| H | mode | B | U | blocks | h chunk | shared KiB | tiles | splits of k |")
    print("|---|---|---|---|---|---|---|---|---|")
    for elem, mode in ((4, "fp32/tf32"), (2, "bf16")):
        for hidden in (256, 512, 1024):
            for batch in (1, 8, 16, 32, 64, 256):
                p = plan(hidden, batch, elem, sms, limit)
                if p is None:
                    print(f"| {hidden} | {mode} | {batch} | does not fit | | | | | |")
                else:
                    u, blocks, chunk, shared, tiles, splits = p
                    print(f"| {hidden} | {mode} | {batch} | {u} | {blocks} | {chunk} | {shared / 1024:.0f} | {tiles} "
                          f"| {splits} |")


if __name__ == "__main__":
    main()
