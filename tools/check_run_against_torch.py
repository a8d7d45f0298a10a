#!/usr/bin/python3
"""Held-out check: `jlstm run` against PyTorch on freshly generated cases it has never seen.

    /usr/bin/python3 tools/check_run_against_torch.py [--seed N] [--jar target/jlstm.jar] [--device cpu]

Generates every case family of tools/make_golden.py with a new seed (shapes and values both come
from the seed; the default seed is taken from the clock and printed) into a temporary folder,
runs `java -jar JAR run` on each, and compares every output and gradient with PyTorch's float64
result: |jlstm - torch| <= 1e-4 * max(1, max|torch|) per tensor (ARCHITECTURE.md, "Accuracy
contract"). Prints the worst error of each case; exits 1 when any tensor is off or missing, or
when a run fails. Build the jar first (mvn -B package -DskipTests).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden  # noqa: E402  (same folder)

RELATIVE_TOLERANCE = 1e-4


def main(argv):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=int(time.time()) % 1_000_000,
                        help="seed of the fresh cases (default: from the clock)")
    parser.add_argument("--jar", default=os.path.join(root, "target", "jlstm.jar"))
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (passed to run)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--jvm-arg", action="append", default=[],
                        help="an option for the JVM, e.g. -Djlstm.cuda.standin=target/cuda-standin (repeatable)")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.jar):
        sys.exit(f"no jar at {args.jar}: build it first (mvn -B package -DskipTests)")

    work = tempfile.mkdtemp(prefix="jlstm-heldout-")
    failures = 0
    try:
        cases = make_golden.generate(work, args.seed)
        print(f"seed {args.seed}: {len(cases)} fresh cases in {work}, device {args.device}")
        print(f"{'case':30s} {'T':>4s} {'B':>2s} {'I':>2s} {'H':>2s} {'L':>2s} {'D':>2s}  tensors  "
              f"{'max |err|':>10s}  {'worst err/tol':>13s}  (tensor)")
        for name, (meta, expected) in cases.items():
            case_dir = os.path.join(work, name)
            out = os.path.join(case_dir, "out.safetensors")
            cmd = ["java", *args.jvm_arg, "-jar", args.jar, "run", "--model", os.path.join(case_dir, "model.safetensors"),
                   "--input", os.path.join(case_dir, "input.safetensors"), "--output", out,
                   "--device", args.device]
            if meta["batch_first"]:
                cmd.append("--batch-first")
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{name:30s} FAILED: exit {proc.returncode}: {proc.stderr.strip()}")
                failures += 1
                continue
            actual = make_golden.read_safetensors(out)
            problems = []
            if set(actual) != set(expected):
                problems.append(f"tensors differ: missing {sorted(set(expected) - set(actual))}, "
                                f"extra {sorted(set(actual) - set(expected))}")
            max_err, worst_ratio, worst_name = 0.0, 0.0, "-"
            for tensor, want in expected.items():
                got = actual.get(tensor)
                if got is None:
                    continue
                if list(got.shape) != list(want.shape):
                    problems.append(f"{tensor}: shape {list(got.shape)}, expected {list(want.shape)}")
                    continue
                tolerance = RELATIVE_TOLERANCE * max(1.0, want.abs().max().item())
                err = (got - want).abs().max().item()
                if not err <= tolerance:  # also catches NaN
                    problems.append(f"{tensor}: max |err| {err:.3e} > tolerance {tolerance:.3e}")
                max_err = max(max_err, err) if err == err else err
                if err / tolerance > worst_ratio or err != err:
                    worst_ratio, worst_name = err / tolerance, tensor
            d = 2 if meta["bidirectional"] else 1
            print(f"{name:30s} {meta['T']:4d} {meta['B']:2d} {meta['I']:2d} {meta['H']:2d} {meta['L']:2d} {d:2d}  "
                  f"{len(expected):7d}  {max_err:10.3e}  {worst_ratio:13.2e}  {worst_name}"
                  + ("" if not problems else "  FAILED"))
            for p in problems:
                print(f"    {p}")
            failures += bool(problems)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("PASS: every output and gradient within 1e-4 * max(1, max|expected|)" if failures == 0
          else f"FAIL: {failures} case(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
