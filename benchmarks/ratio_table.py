#!/usr/bin/python3
"""Prints ours/theirs per shape from two bench JSON files (same keys as `jlstm bench --json`).

usage: ratio_table.py OURS.json THEIRS.json [--markdown]
A ratio below 1 means our engine is faster (time ratio, ours / theirs).
"""
import json
import sys


def key(row):
    return (row["T"], row["B"], row["I"], row["H"], row["L"])


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    if len(args) != 2:
        sys.exit(__doc__)
    ours = json.load(open(args[0]))
    theirs = {key(r): r for r in json.load(open(args[1]))}
    head = ["shape T,B,I,H,L", "ours", "peer", "fwd ms ours", "fwd ms peer", "fwd ratio",
            "train ms ours", "train ms peer", "train ratio", "faster?"]
    rows = []
    all_faster = True
    for r in ours:
        t = theirs.get(key(r))
        if t is None:
            continue
        fwd = r["forward_ms"] / t["forward_ms"]
        trn = r["train_ms"] / t["train_ms"]
        faster = fwd < 1 and trn < 1
        all_faster &= faster
        rows.append([",".join(str(v) for v in key(r)), r["device"], t["device"], f"{r['forward_ms']:.2f}",
                     f"{t['forward_ms']:.2f}", f"{fwd:.2f}", f"{r['train_ms']:.2f}", f"{t['train_ms']:.2f}",
                     f"{trn:.2f}", "yes" if faster else "NO"])
    if not rows:
        sys.exit("no shape is in both files")
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
        print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
        for row in rows:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    print(("ours is faster on every shape, forward and train" if all_faster
           else "ours is NOT faster on every shape (ratio = ours/peer time; < 1 means ours is faster)"))


if __name__ == "__main__":
    main()
