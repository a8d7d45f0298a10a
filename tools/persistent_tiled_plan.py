#!/usr/bin/env python3
"""Prints the tiled persistent kernels' plans (docs/GPU.md, "The tiled persistent kernels") for the
grid of benchmarks/gpu-check.sh on a given GPU, by the formula of
jlstm.internal.cuda.PersistentPlan.Tiled.search (one direction; occupancy by shared memory only,
the kernels' ~126 registers × 256 threads allow two blocks per SM): the forward kernels', or with
--backward the backward kernel's.

usage: python3 tools/persistent_tiled_plan.py [--backward] [SMS [OPT_IN_SHARED_BYTES]]
       (default: an H200, 132 SMs, 227 KiB)
"""
import sys


def up(n, m):
    return (n + m - 1) // m * m


def plan(hidden, batch, elem, sms, limit, backward=False):
    """(units, blocks, chunk, shared bytes, tiles, splits) or None, as PersistentPlan.Tiled.search.

    Forward: M = 4U gate rows (U a multiple of 4), K = H, state c [U][B].
    Backward: M = U columns of W_hh (U a multiple of 16), K = 4H, state dh and dc [U][B].
    """
    multiple, rows_per_unit, depth, state = (16, 1, 4 * hidden, 2) if backward else (4, 4, hidden, 1)
    for per_sm in range(1, 9):
        units = up(-(-hidden // (sms * per_sm)), multiple)
        blocks = -(-hidden // units)
        rows = rows_per_unit * units
        bp, kp, pad = up(batch, 16), up(depth, 16), 16 // elem
        tiles = rows // 16 * (bp // 16)
        if tiles > 32:
            continue
        splits = 1 if tiles >= 8 else 8 // tiles
        fixed = 32 + up(rows * (kp + pad) * elem, 32) + up(splits * rows * (bp + 4) * 4, 32) \
            + state * units * batch * 4
        for chunk in [kp] + [c for c in (256, 128, 64, 32, 16) if c < kp]:
            shared = fixed + up(bp * (chunk + pad) * elem, 32)
            if shared <= limit:
                fit = 2 if 2 * (shared + 1024) <= limit + 1024 else 1
                if fit * sms >= blocks:
                    return units, blocks, chunk, shared, tiles, splits
                break
    return None


def main():
    args = sys.argv[1:]
    backward = "--backward" in args
    args = [a for a in args if a != "--backward"]
    sms = int(args[0]) if len(args) > 0 else 132
    limit = int(args[1]) if len(args) > 1 else 227 * 1024
    operand = "dG chunk" if backward else "h chunk"
    print(f"# {'backward' if backward else 'forward'}: {sms} SMs, {limit} bytes of opt-in shared memory per block")
    print(f"| H | mode | B | U | blocks | {operand} | shared KiB | tiles | splits of k |")
    print("|---|---|---|---|---|---|---|---|---|")
    for elem, mode in ((4, "fp32/tf32"), (2, "bf16")):
        for hidden in (256, 512, 1024):
            for batch in (1, 8, 16, 32, 64, 256):
                p = plan(hidden, batch, elem, sms, limit, backward)
                if p is None:
                    print(f"| {hidden} | {mode} | {batch} | does not fit | | | | | |")
                else:
                    u, blocks, chunk, shared, tiles, splits = p
                    print(f"| {hidden} | {mode} | {batch} | {u} | {blocks} | {chunk} | {shared / 1024:.0f} | {tiles} "
                          f"| {splits} |")


if __name__ == "__main__":
    main()
