#!/usr/bin/python3
"""One shape's times round by round, for every engine of a compare.sh run, beside the host's state.

usage: noise_summary.py OUT_DIR [--shape T,B,I,H,L]   (default: the first shape with B = 1)

For each engine (ENGINE-rR.json in OUT_DIR: jlstm, onednn, onednn1, torch-a/b/c, jlstm1, onednn1cpu)
and round: the median forward and train ms, with the fastest and slowest repetition where the file
has them; then the engine's "between rounds" figure, the slowest round's median over the fastest's
(issue 15 asks the B = 1 forward to vary less than 20 %: below 1.20). Beside each round, from
OUT_DIR/host.json (or host.jsonl while a run is going on): the host probe taken right before that
command (each CPU's fp32 FMA GFLOP/s with all CPUs busy, its thread's share of the wall clock on a
CPU, and each CPU alone) and /proc/stat's steal and busy % of each CPU during the command.
"""
import glob
import json
import os
import re
import sys

ENGINES = ["jlstm", "onednn", "onednn1", "torch-a", "torch-b", "torch-c", "jlstm1", "onednn1cpu"]


def key(row):
    return (row["T"], row["B"], row["I"], row["H"], row["L"])


def load_host(out):
    for name in ("host.json", "host.jsonl"):
        path = os.path.join(out, name)
        if os.path.exists(path):
            text = open(path).read()
            if name.endswith(".json"):
                return json.loads(text)
            return [json.loads(line) for line in text.splitlines() if line.strip()]
    return []


def slash(values, fmt):
    return " / ".join(fmt.format(v) for v in values)


def timing(row, pass_):
    ms = row[pass_ + "_ms"]
    lo, hi = row.get(pass_ + "_ms_min"), row.get(pass_ + "_ms_max")
    return f"{ms:.2f} ({lo:.2f}-{hi:.2f})" if lo is not None and hi is not None else f"{ms:.2f}"


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("--"):
        sys.exit(__doc__)
    out = args[0]
    wanted = None
    if "--shape" in args:
        wanted = tuple(int(v) for v in args[args.index("--shape") + 1].split(","))
    host = {(h["kind"], h["label"]): h for h in load_host(out)}
    runs = {}  # engine -> {round: row of the shape}
    for engine in ENGINES:
        for path in glob.glob(os.path.join(out, f"{engine}-r*.json")):
            m = re.fullmatch(re.escape(engine) + r"-r(\d+)\.json", os.path.basename(path))
            if not m:
                continue
            rows = json.load(open(path))
            if wanted is None:
                wanted = next((key(r) for r in rows if r["B"] == 1), None)
            for r in rows:
                if key(r) == wanted:
                    runs.setdefault(engine, {})[int(m.group(1))] = r
    if not runs:
        sys.exit(f"no ENGINE-rR.json file in {out} has " + ("a shape with B = 1 (pick one: --shape T,B,I,H,L)"
                                                            if wanted is None else f"the shape {wanted}"))
    print(f"shape T,B,I,H,L = {','.join(map(str, wanted))}: median ms (fastest-slowest repetition) per round; "
          "probe = right before the command: together GFLOP/s per CPU (on CPU %), alone GFLOP/s; "
          "steal and busy % of each CPU during the command")
    head = ["engine", "round", "forward ms", "train ms", "probe together", "on CPU", "alone", "steal %", "busy %"]
    lines = []
    for engine in ENGINES:
        if engine not in runs:
            continue
        rounds = runs[engine]
        for rnd in sorted(rounds):
            row = rounds[rnd]
            probe = host.get(("probe", f"round {rnd} {engine}"), {})
            run = host.get(("run", f"round {rnd} {engine}"), {})
            lines.append([engine, str(rnd), timing(row, "forward"), timing(row, "train"),
                          slash(probe.get("together_gflops", []), "{:.0f}"),
                          slash(probe.get("together_on_cpu", []), "{:.0%}"),
                          slash(probe.get("alone_gflops", []), "{:.0f}"),
                          slash(run.get("steal_pct", []), "{:.1f}"), slash(run.get("busy_pct", []), "{:.0f}")])
        if len(rounds) > 1:
            spread = []
            for pass_ in ("forward", "train"):
                medians = [r[pass_ + "_ms"] for r in rounds.values()]
                spread.append(f"{max(medians) / min(medians):.2f}")
            lines.append([engine, "max/min", spread[0], spread[1], "", "", "", "", ""])
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
    starts = [h for h in load_host(out) if h["kind"] == "probe" and h["label"].endswith(" start")]
    for h in starts:
        print(f"{h['label']}: together {slash(h['together_gflops'], '{:.0f}')} GFLOP/s "
              f"(on CPU {slash(h['together_on_cpu'], '{:.0%}')}), alone {slash(h['alone_gflops'], '{:.0f}')}, "
              f"steal {slash(h['steal_pct'], '{:.1f}')} %")
    print("max/min: the slowest round's median over the fastest's (issue 15's B = 1 target: forward under 1.20)")


if __name__ == "__main__":
    main()
