#!/usr/bin/python3
"""Writes the golden cases of the precision modes (fp32, tf32, bf16) from PyTorch.

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_precision_golden.py [--out DIR] [--seed N]
(the defaults regenerate the committed cases in src/test/resources/golden-precision);
`--report` prints, per case and mode, the numbers the tolerances of docs/PRECISION.md come from.

What each mode computes (jlstm.Precision, docs/PRECISION.md): every matrix product of the LSTM,
forward and backward (x·W_ihᵀ, h·W_hhᵀ, dG·W_hh, dG·W_ih, dGᵀ·h, dGᵀ·x), multiplies operands
rounded to the mode's format and sums in float32; everything else (biases, activations, c, the
pointwise backward, the bias gradients) is float32.
  fp32  operands as they are: nn.LSTM in float32 (checked against nn.LSTM itself below);
  tf32  each operand rounded to TF32 (8-bit exponent, 10-bit mantissa) to nearest with ties away from
        zero, as PTX cvt.rna.tf32.f32 does (PyTorch's CPU build has no TF32: the rounding is done here
        on the float32 bits);
  bf16  each operand rounded to bfloat16 by PyTorch's own conversion (tensor.to(torch.bfloat16):
        round to nearest, ties to even), as cvt.rn.bf16.f32 does.
PyTorch 1.13's CPU autocast does not run nn.LSTM in bfloat16 (its outputs stay float32), and
`allow_tf32` only acts on CUDA, so the modes are PyTorch's float32 math with the operands of every
product rounded by a torch.autograd.Function (RoundedProduct), whose backward rounds its operands
too: that is PyTorch computing in the mode's precision, on the CPU.

Each case is a folder with
  meta.json                 sizes and flags, as tools/make_golden.py writes them
  model.safetensors         the parameters (PyTorch names), F32
  input.safetensors         x, h0, c0, dy, dhn, dcn, and for a case with lengths "lengths" [B]
                            (whole numbers stored as F32)
  expected.<mode>.safetensors   y, hn, cn, dx, dh0, dc0 and grad.<parameter>, for fp32, tf32, bf16
The loss is sum(y·dy) + sum(hn·dhn) + sum(cn·dcn), as in tools/make_golden.py.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402  (same folder)

MODES = ("fp32", "tf32", "bf16")

# B = 1 with odd H past one warp (the kernels' lane loops wrap), and a stacked bidirectional layer
# pair with odd H and B = 3. Inputs are N(0, 1), parameters U(-1/√H, 1/√H) as PyTorch initialises;
# I is large enough that a product sums many rounded terms, so each mode's golden differs from
# fp32's by far more than its tolerance (checked by the tests, see docs/PRECISION.md).
#
# lengths_2_layers and projection_lengths run the CUDA engine's packed rows
# (jlstm.internal.cuda.RecurrentPasses on a LengthSchedule): per-sequence lengths, unsorted, with every schedule (FUSED runs on the packed rows; PERSISTENT
# falls back to GEMM), and a projection (P < H, GEMM) with lengths, whose h_t = m_t · W_hrᵀ is a
# product of the mode too.
#
# The three cases after them complete the matrix of issue 20 (every schedule × graphs × mode,
# stacked and bidirectional, odd H, B = 1) and give the persistent kernel's batch tiles their edges: B = 1, B = 8
# (one partial tile of 16 batch columns) and B = 33 (two whole tiles and one column past them), with
# odd H that is a multiple of neither 8 nor 16 (tensor-core tile sides). Appended, so the seeds of
# the cases above (seed · 1000 + index) and their files are unchanged.
CASES = {
    "b1_odd_hidden": dict(T=6, B=1, I=48, H=33, L=1, bidirectional=False),
    "bidirectional_2_layers": dict(T=5, B=3, I=40, H=9, L=2, bidirectional=True),
    "lengths_2_layers": dict(T=6, B=4, I=40, H=9, L=2, bidirectional=True, lengths=[6, 2, 5, 1]),
    "projection_lengths": dict(T=5, B=3, I=40, H=12, P=5, L=2, bidirectional=True, lengths=[3, 5, 2]),
    "b1_2_layers_bidirectional": dict(T=5, B=1, I=40, H=17, L=2, bidirectional=True),
    "b8_2_layers_bidirectional": dict(T=5, B=8, I=40, H=19, L=2, bidirectional=True),
    "b33_2_layers_bidirectional": dict(T=4, B=33, I=40, H=21, L=2, bidirectional=True),
}


def round_tf32(t):
    """float32 → TF32 values (kept in t's dtype): add half a TF32 ulp to the magnitude, drop 13 bits."""
    dtype, t = t.dtype, t.to(torch.float32)   # float64 (the --report runs) goes through float32
    bits = t.contiguous().view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    rounded = ((bits + 0x1000) & 0xFFFFE000)
    rounded = torch.where(rounded >= 2 ** 31, rounded - 2 ** 32, rounded).to(torch.int32).view(torch.float32)
    return torch.where(torch.isfinite(t), rounded, t).to(dtype)   # ±Inf, NaN unchanged


def round_bf16(t):
    return t.to(torch.float32).to(torch.bfloat16).to(t.dtype)


ROUND = {"fp32": lambda t: t, "tf32": round_tf32, "bf16": round_bf16}


class RoundedProduct(torch.autograd.Function):
    """a [m, k] · b [k, n] with both operands rounded to the mode; backward rounds its operands too."""

    @staticmethod
    def forward(ctx, a, b, mode):
        ctx.save_for_backward(a, b)
        ctx.mode = mode
        r = ROUND[mode]
        return r(a) @ r(b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        r = ROUND[ctx.mode]
        return r(grad) @ r(b).t(), r(a).t() @ r(grad), None


def lstm_lengths(params, x, h0, c0, layers, directions, mode, lengths):
    """lstm() with per-sequence lengths: each sequence b runs alone over its first lengths[b] steps
    (sequences are independent); y is zero past a sequence's length, hn and cn are its last step's
    (nn.LSTM on a PackedSequence). lengths None: every length T."""
    if lengths is None:
        return lstm(params, x, h0, c0, layers, directions, mode)
    T = x.shape[0]
    ys, hns, cns = [], [], []
    for b, n in enumerate(lengths):
        y, hn, cn = lstm(params, x[:n, b:b + 1], h0[:, b:b + 1], c0[:, b:b + 1], layers, directions, mode)
        ys.append(torch.cat([y, y.new_zeros(T - n, 1, y.shape[2])]))
        hns.append(hn)
        cns.append(cn)
    return torch.cat(ys, dim=1), torch.cat(hns, dim=1), torch.cat(cns, dim=1)


def lstm(params, x, h0, c0, layers, directions, mode):
    """The LSTM of ARCHITECTURE.md ("The math"), every product a RoundedProduct (with a projection,
    h_t = m_t · W_hrᵀ too). Returns y, hn, cn."""
    T, B, _ = x.shape
    H = c0.shape[2]
    layer_in = x
    hns, cns = [], []
    for k in range(layers):
        outs = []
        for d in range(directions):
            sfx = f"l{k}" + ("_reverse" if d == 1 else "")
            w_ih, w_hh = params["weight_ih_" + sfx], params["weight_hh_" + sfx]
            bias = params["bias_ih_" + sfx] + params["bias_hh_" + sfx]
            slot = k * directions + d
            h, c = h0[slot], c0[slot]
            xp = RoundedProduct.apply(layer_in.reshape(T * B, -1), w_ih.t(), mode).reshape(T, B, 4 * H)
            ys = [None] * T
            for s in range(T):
                t = s if d == 0 else T - 1 - s
                gates = xp[t] + RoundedProduct.apply(h, w_hh.t(), mode) + bias
                i, f, g, o = gates.split(H, dim=1)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                c = f * c + i * g
                h = o * torch.tanh(c)
                if "weight_hr_" + sfx in params:
                    h = RoundedProduct.apply(h, params["weight_hr_" + sfx].t(), mode)
                ys[t] = h
            outs.append(torch.stack(ys))
            hns.append(h)
            cns.append(c)
        layer_in = torch.cat(outs, dim=2)
    return layer_in, torch.stack(hns), torch.stack(cns)


def make_case(spec, generator):
    T, B, I, H, L, P = spec["T"], spec["B"], spec["I"], spec["H"], spec["L"], spec.get("P", 0)
    R = P if P > 0 else H
    D = 2 if spec["bidirectional"] else 1
    reference = torch.nn.LSTM(I, H, num_layers=L, bidirectional=spec["bidirectional"], proj_size=P)
    bound = 1.0 / H ** 0.5
    with torch.no_grad():
        for p in reference.parameters():
            p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)
    model = {n: p.detach().clone() for n, p in reference.state_dict().items()}
    inputs = {"x": torch.randn(T, B, I, generator=generator),
              "h0": torch.randn(L * D, B, R, generator=generator) * 0.5,
              "c0": torch.randn(L * D, B, H, generator=generator) * 0.5,
              "dy": torch.randn(T, B, D * R, generator=generator),
              "dhn": torch.randn(L * D, B, R, generator=generator),
              "dcn": torch.randn(L * D, B, H, generator=generator)}
    if "lengths" in spec:
        inputs["lengths"] = torch.tensor(spec["lengths"], dtype=torch.float32)
    expected = {mode: run(model, inputs, L, D, mode) for mode in MODES}
    check_against_nn_lstm(reference, inputs, expected["fp32"])
    return model, inputs, expected


def lengths_of(inputs):
    return None if "lengths" not in inputs else [int(n) for n in inputs["lengths"].tolist()]


def run(model, inputs, layers, directions, mode, dtype=torch.float32):
    params = {n: t.detach().to(dtype).clone().requires_grad_(True) for n, t in model.items()}
    leaves = {n: inputs[n].detach().to(dtype).clone().requires_grad_(True) for n in ("x", "h0", "c0")}
    y, hn, cn = lstm_lengths(params, leaves["x"], leaves["h0"], leaves["c0"], layers, directions, mode,
                             lengths_of(inputs))
    loss = (y * inputs["dy"].to(dtype)).sum() + (hn * inputs["dhn"].to(dtype)).sum() \
        + (cn * inputs["dcn"].to(dtype)).sum()
    loss.backward()
    out = {"y": y, "hn": hn, "cn": cn, "dx": leaves["x"].grad, "dh0": leaves["h0"].grad, "dc0": leaves["c0"].grad}
    out.update({"grad." + n: p.grad for n, p in params.items()})
    return {k: v.detach() for k, v in out.items()}


def check_against_nn_lstm(reference, inputs, fp32):
    """The explicit LSTM in fp32 mode is nn.LSTM: same outputs and gradients to float32 rounding."""
    x = inputs["x"].clone().requires_grad_(True)
    h0 = inputs["h0"].clone().requires_grad_(True)
    c0 = inputs["c0"].clone().requires_grad_(True)
    reference.zero_grad()
    lengths = lengths_of(inputs)
    if lengths is None:
        y, (hn, cn) = reference(x, (h0, c0))
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
        out, (hn, cn) = reference(packed, (h0, c0))
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])
    ((y * inputs["dy"]).sum() + (hn * inputs["dhn"]).sum() + (cn * inputs["dcn"]).sum()).backward()
    want = {"y": y, "hn": hn, "cn": cn, "dx": x.grad, "dh0": h0.grad, "dc0": c0.grad}
    want.update({"grad." + n: p.grad for n, p in reference.named_parameters()})
    for name, w in want.items():
        if not torch.allclose(fp32[name], w.detach(), rtol=0, atol=1e-5 * max(1.0, w.abs().max().item())):
            raise AssertionError(f"the explicit LSTM's {name} differs from nn.LSTM's")


def worst(a, b):
    """max |a − b| / max(1, max|b|) over every tensor of b."""
    return max(((a[k].double() - b[k].double()).abs().max() / max(1.0, b[k].abs().max().item())).item() for k in b)


def case_norm(a, b):
    """‖a − b‖₂ / ‖b‖₂ over every tensor of the case at once (each tensor divided by max(1, max|b|) first)."""
    diff = torch.cat([((a[k].double() - b[k].double()) / max(1.0, b[k].abs().max().item())).flatten() for k in b])
    ref = torch.cat([(b[k].double() / max(1.0, b[k].abs().max().item())).flatten() for k in b])
    return (diff.norm() / ref.norm()).item()


def report(model, inputs, expected, spec):
    """The numbers behind the tolerances: per mode, how far the golden (float32 sums) lies from the same
    rounding with float64 sums (an implementation that sums in another order, including operands that
    round the other way because an input differs in its last bits), and from the fp32 golden."""
    D = 2 if spec["bidirectional"] else 1
    for mode in MODES:
        wide = run(model, inputs, spec["L"], D, mode, dtype=torch.float64)
        print(f"  {mode}: float32 vs float64 sums: max {worst(expected[mode], wide):.3g} "
              f"norm {case_norm(wide, expected[mode]):.3g}; vs fp32 golden: max "
              f"{worst(expected[mode], expected['fp32']):.3g} norm {case_norm(expected['fp32'], expected[mode]):.3g}")


def write_safetensors(path, tensors):
    safetensors_io.write_typed(path, {k: t.detach().to(torch.float32).contiguous().numpy()
                                      for k, t in tensors.items()}, None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "..", "src", "test", "resources", "golden-precision"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--report", action="store_true", help="print the numbers behind the tolerances")
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)   # one summation order, whatever the machine
    for index, (name, spec) in enumerate(CASES.items()):
        generator = torch.Generator().manual_seed(args.seed * 1000 + index)
        model, inputs, expected = make_case(spec, generator)
        if args.report:
            print(name)
            report(model, inputs, expected, spec)
            continue
        folder = os.path.join(args.out, name)
        os.makedirs(folder, exist_ok=True)
        meta = {"case": name, "seed": args.seed, "torch": torch.__version__, "I": spec["I"], "H": spec["H"],
                "T": spec["T"], "B": spec["B"], "L": spec["L"], "bidirectional": spec["bidirectional"], "bias": True,
                "modes": list(MODES)}
        if "P" in spec:
            meta["proj_size"] = spec["P"]
        if "lengths" in spec:
            meta["lengths"] = spec["lengths"]
        with open(os.path.join(folder, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
            f.write("\n")
        write_safetensors(os.path.join(folder, "model.safetensors"), model)
        write_safetensors(os.path.join(folder, "input.safetensors"), inputs)
        for mode in MODES:
            write_safetensors(os.path.join(folder, f"expected.{mode}.safetensors"), expected[mode])
        print(f"wrote {folder}")


if __name__ == "__main__":
    main()
