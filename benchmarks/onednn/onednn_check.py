#!/usr/bin/python3
"""Checks the oneDNN peer (benchmarks/onednn/onednn_lstm) against PyTorch's nn.LSTM on small cases,
so that its timings are known to be of a correct LSTM with the same semantics as jlstm's `bench`:
forward outputs, final states, dx and every parameter gradient, within 1e-4 * max(1, max|ref|).

usage: /usr/bin/python3 benchmarks/onednn/onednn_check.py BINARY
Cases: I != H with 2 layers (one oneDNN primitive per layer) and I == H with 2 layers (one
primitive for the stack), both with T, B > 1. Exits non-zero on any mismatch.
"""
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch


def check(binary, t, b, i, h, layers, seed):
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(i, h, num_layers=layers).double()
    x = torch.randn(t, b, i, dtype=torch.float64).float().double().requires_grad_(True)
    dy = torch.randn(t, b, h, dtype=torch.float64).float().double()
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(p.float().double())  # float32-exact values: both sides see the same numbers
    y, (hn, cn) = lstm(x)
    y.backward(dy)
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = os.path.join(tmp, "in.bin"), os.path.join(tmp, "out.bin")
        with open(inp, "wb") as f:
            f.write(struct.pack("<5i", t, b, i, h, layers))
            f.write(x.detach().float().numpy().tobytes())
            f.write(dy.float().numpy().tobytes())
            for k in range(layers):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    f.write(getattr(lstm, f"{name}_l{k}").detach().float().numpy().tobytes())
        subprocess.run([binary, "--check", inp, out], check=True)
        got = np.fromfile(out, dtype=np.float32)
    expected = [("y", y), ("hn", hn), ("cn", cn), ("dx", x.grad)]
    for k in range(layers):
        expected += [(f"dW_ih_l{k}", getattr(lstm, f"weight_ih_l{k}").grad),
                     (f"dW_hh_l{k}", getattr(lstm, f"weight_hh_l{k}").grad),
                     (f"db_l{k}", getattr(lstm, f"bias_ih_l{k}").grad)]
    offset, worst, ok = 0, 0.0, True
    for name, ref in expected:
        ref = ref.detach().numpy().ravel()
        part = got[offset:offset + ref.size]
        offset += ref.size
        err = np.max(np.abs(part - ref)) / max(1.0, np.max(np.abs(ref)))
        worst = max(worst, err)
        if part.size != ref.size or not err <= 1e-4:
            print(f"MISMATCH {name}: relative error {err:.3g}", file=sys.stderr)
            ok = False
    if offset != got.size:
        print(f"MISMATCH: {got.size} floats written, {offset} expected", file=sys.stderr)
        ok = False
    print(f"oneDNN vs PyTorch T={t} B={b} I={i} H={h} L={layers}: worst relative error {worst:.2e} "
          f"({'ok' if ok else 'FAILED'})")
    return ok


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    ok = check(binary, 7, 3, 5, 6, 2, 1) & check(binary, 5, 4, 8, 8, 2, 2)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
