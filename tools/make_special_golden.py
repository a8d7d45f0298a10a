#!/usr/bin/python3
"""Writes golden LSTM cases with special values (±Inf, NaN, ±1e30, −0.0) computed by PyTorch in float32.

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_special_golden.py [--out DIR]
(the default regenerates the committed cases in src/test/resources/golden-special).

The layout of each case is that of tools/make_golden.py (meta.json, model.safetensors,
input.safetensors, expected.safetensors), but the computation is PyTorch's own float32 nn.LSTM on
the CPU, since that is what a user's special values meet: float32 overflow, and a sigmoid that is
exactly 0 or 1 once saturated, so that its derivative is exactly 0 (float64 would hide both).

Every case trains (dy given, with h0, c0, dhn, dcn) so that the gradients are checked too, at the
hidden sizes H = 7, 17 (not a multiple of either vector width: padded lanes), 16 and 33. The special
values sit in some batch rows only, so that the other rows show whether a special value leaks out
of its row (it must not: a row's Inf or NaN stays in that row, as in PyTorch). The Java test
(jlstm.internal.cpu.SpecialValuesTest, jlstm.CudaSpecialValuesTest) compares NaN positions and infinities
exactly, finite values within the usual tolerance.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import write_safetensors  # noqa: E402  (same folder)

INF = float("inf")
NAN = float("nan")

HIDDEN_SIZES = (7, 17, 16, 33)


def _inf_x(x, h0, c0, params):
    x[1, 0, 0] = INF      # row 0: +Inf at step 1
    x[0, 2, 1] = -INF     # row 2: −Inf at step 0


def _nan_x(x, h0, c0, params):
    x[2, 1, 2] = NAN      # row 1: NaN at step 2 (rows 0 and 2 stay finite)


def _inf_h0(x, h0, c0, params):
    h0[0, 0, 0] = INF     # row 0's initial hidden state
    c0[0, 2, 1] = -INF    # row 2's initial cell state


def _huge_x(x, h0, c0, params):
    x[:, 0, :] = 1e30     # row 0: saturates every gate (σ' = 0 exactly in PyTorch)
    x[:, 2, :] = -1e30    # row 2: the other way
    x[1, 1, 0] = 1e30     # row 1: one huge value at one step


def _signed_zeros_and_weights(x, h0, c0, params):
    x[0, :, :] = -0.0
    h0[0, 1, :] = -0.0
    params["bias_ih_l0"][::3] = -0.0
    params["weight_ih_l0"][0, 0] = 1e30  # gate i of unit 0 saturates wherever x[..., 0] ≠ 0
    params["weight_hh_l0"][5, 2] = -1e30


FAMILIES = {
    "inf_x": _inf_x,
    "nan_x": _nan_x,
    "inf_h0_c0": _inf_h0,
    "huge_x": _huge_x,
    "signed_zeros_huge_weights": _signed_zeros_and_weights,
}


def make_case(hidden, edit, seed):
    T, B, I, L = 3, 3, 5, 1
    generator = torch.Generator().manual_seed(seed)
    lstm = torch.nn.LSTM(I, hidden, num_layers=L)
    bound = 1.0 / hidden ** 0.5
    params = {}
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            param.copy_((torch.rand(param.shape, generator=generator) * 2 - 1) * bound)
            params[name] = param
        x = torch.randn(T, B, I, generator=generator)
        h0 = torch.randn(L, B, hidden, generator=generator) * 0.5
        c0 = torch.randn(L, B, hidden, generator=generator) * 0.5
        edit(x, h0, c0, params)
    dy = torch.randn(T, B, hidden, generator=generator)
    dhn = torch.randn(L, B, hidden, generator=generator)
    dcn = torch.randn(L, B, hidden, generator=generator)
    x.requires_grad_(True)
    h0.requires_grad_(True)
    c0.requires_grad_(True)
    y, (hn, cn) = lstm(x, (h0, c0))
    ((y * dy).sum() + (hn * dhn).sum() + (cn * dcn).sum()).backward()
    expected = {"y": y, "hn": hn, "cn": cn, "dx": x.grad, "dh0": h0.grad, "dc0": c0.grad}
    for name, param in lstm.named_parameters():
        expected["grad." + name] = param.grad
    model = {name: p.detach() for name, p in lstm.state_dict().items()}
    inputs = {"x": x.detach(), "h0": h0.detach(), "c0": c0.detach(), "dy": dy, "dhn": dhn, "dcn": dcn}
    spec = dict(T=T, B=B, I=I, H=hidden, L=L, bidirectional=False, bias=True, batch_first=False,
                h0=True, c0=True, dy=True, dhn=True, dcn=True, dtype="float32")
    return spec, model, inputs, {k: v.detach() for k, v in expected.items()}


def generate(out_dir):
    torch.use_deterministic_algorithms(True)
    for index, (family, edit) in enumerate(FAMILIES.items()):
        for hidden in HIDDEN_SIZES:
            name = f"{family}_h{hidden}"
            spec, model, inputs, expected = make_case(hidden, edit, 1000 + 10 * index + hidden)
            case_dir = os.path.join(out_dir, name)
            os.makedirs(case_dir, exist_ok=True)
            with open(os.path.join(case_dir, "meta.json"), "w") as f:
                json.dump({"case": name, "torch": torch.__version__, **spec}, f, indent=2, sort_keys=True)
                f.write("\n")
            producer = {"producer": "tools/make_special_golden.py"}
            write_safetensors(os.path.join(case_dir, "model.safetensors"), model, {"format": "pt", **producer})
            write_safetensors(os.path.join(case_dir, "input.safetensors"), inputs, producer)
            write_safetensors(os.path.join(case_dir, "expected.safetensors"), expected, producer)
            specials = {k: int((~torch.isfinite(v)).sum()) for k, v in expected.items() if not torch.isfinite(v).all()}
            print(name, "non-finite expected values:", specials)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "src", "test", "resources", "golden-special"))
    args = parser.parse_args(argv)
    generate(args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
