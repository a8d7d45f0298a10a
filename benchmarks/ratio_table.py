#!/usr/bin/python3
"""Prints ours/theirs per shape from two bench JSON files (same keys as `jlstm bench --json`).

usage: ratio_table.py OURS.json PEER.json [PEER.json ...] [--markdown]
       ratio_table.py --best OUT.json PEER.json [PEER.json ...]   (the peer's fastest per shape)
With several peer files (the same engine in several thread configurations), each shape and pass
is compared with the peer's fastest configuration. A ratio below 1 means our engine is faster
(time ratio, ours / peer).
"""
import json
import sys


def key(row):
    return (row["T"], row["B"], row["I"], row["H"], row["L"])


SPREAD = {"forward_ms": ("forward_ms_min", "forward_ms_max"), "train_ms": ("train_ms_min", "train_ms_max")}


def write_best(out, paths):
    """Writes one row per shape with the peer's fastest forward and fastest train (for the chart).

    Each pass's spread (forward_ms_min/max, train_ms_min/max; absent in older files) comes from the
    row whose median was kept; reps is the smaller of the two kept rows' counts.
    """
    best = {}
    for path in paths:
        for r in json.load(open(path)):
            b = best.setdefault(key(r), dict(r, forward_config=r.get("config", "?"), train_config=r.get("config", "?"),
                                             forward_reps=r.get("reps"), train_reps=r.get("reps")))
            for ms, gf, cfg in (("forward_ms", "forward_gflops", "forward_config"),
                                ("train_ms", "train_gflops", "train_config")):
                if r[ms] < b[ms]:
                    b[ms], b[gf], b[cfg] = r[ms], r[gf], r.get("config", "?")
                    b[ms.replace("_ms", "_reps")] = r.get("reps")
                    for k in SPREAD[ms]:
                        b[k] = r.get(k)
    for b in best.values():
        reps = [b.pop("forward_reps"), b.pop("train_reps")]
        b["reps"] = None if None in reps else min(reps)
        for k in [k for k, v in b.items() if v is None]:
            del b[k]
    for b in best.values():
        b["config"] = (b["forward_config"] if b["forward_config"] == b["train_config"]
                       else f"forward: {b['forward_config']}; train: {b['train_config']}")
    with open(out, "w") as f:
        json.dump(list(best.values()), f, indent=2)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--best":
        write_best(sys.argv[2], sys.argv[3:])
        return
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    if len(args) < 2:
        sys.exit(__doc__)
    ours = json.load(open(args[0]))
    fastest_fwd, fastest_train = {}, {}
    for path in args[1:]:
        for r in json.load(open(path)):
            k = key(r)
            if k not in fastest_fwd or r["forward_ms"] < fastest_fwd[k]["forward_ms"]:
                fastest_fwd[k] = r
            if k not in fastest_train or r["train_ms"] < fastest_train[k]["train_ms"]:
                fastest_train[k] = r
    head = ["shape T,B,I,H,L", "ours", "peer", "fwd ms ours", "fwd ms peer", "fwd ratio",
            "train ms ours", "train ms peer", "train ratio", "<= 1?"]
    rows = []
    all_faster = True
    configs = []
    for r in ours:
        if key(r) not in fastest_fwd:
            continue
        t, tt = fastest_fwd[key(r)], fastest_train[key(r)]
        fwd = r["forward_ms"] / t["forward_ms"]
        trn = r["train_ms"] / tt["train_ms"]
        configs.append(f"  {','.join(str(v) for v in key(r))}: forward peer = "
                       f"{t.get('forward_config', t.get('config', '?'))}; "
                       f"train peer = {tt.get('train_config', tt.get('config', '?'))}")
        faster = fwd <= 1 and trn <= 1
        all_faster &= faster
        rows.append([",".join(str(v) for v in key(r)), r["device"], t["device"], f"{r['forward_ms']:.2f}",
                     f"{t['forward_ms']:.2f}", f"{fwd:.2f}", f"{r['train_ms']:.2f}", f"{tt['train_ms']:.2f}",
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
    print("peer configuration used (the fastest per shape and pass):")
    print("\n".join(configs))
    print(("ours is at or under the peer's time on every shape, forward and train" if all_faster
           else "ours is NOT at or under the peer's time on every shape (ratio = ours/peer time; <= 1 means "
                "ours is at least as fast)"))


if __name__ == "__main__":
    main()
