#!/usr/bin/python3
"""Writes golden LSTM cases computed by PyTorch's nn.LSTM, for the Java tests and for held-out checks.

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_golden.py [--out DIR] [--seed N]
(the defaults regenerate the committed cases in src/test/resources/golden).

Each case is a folder with
  meta.json               sizes and flags (batch_first tells `jlstm run` to pass --batch-first)
  model.safetensors       the state_dict, F32
  input.safetensors       x; optional h0, c0; optional dy, dhn, dcn (all F32)
  expected.safetensors    y, hn, cn; with dy also dx, dh0 (when h0 is given), dc0 (when c0 is
                          given) and grad.<parameter> for every parameter
which is exactly what `java -jar target/jlstm.jar run` reads and writes (ARCHITECTURE.md, "Interchange").

Every parameter and input is drawn in float32 and then widened to float64, so the Java engine sees
the very same numbers that PyTorch used; PyTorch computes in float64 and the results are rounded
to float32 only when stored. The loss whose gradients are stored is
    sum(y * dy) + sum(hn * dhn) + sum(cn * dcn)        (missing dhn/dcn count as zeros),
so dy, dhn and dcn are the upstream gradients of y, hn and cn.

The shapes of each family are drawn from the seed too (within small ranges), so a new seed gives
cases of the same families that the code has never seen.
"""
import argparse
import json
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402  (same folder)

# Cases: name → a function of a random.Random giving the case's description. Sizes stay small so the
# committed files stay small (the 100+ step case uses H ≤ 8).
FAMILIES = {
    # T = 1 and B = 1: the smallest sequence; no initial state, no dhn/dcn.
    "t1_b1": lambda r: dict(T=1, B=1, I=r.randint(2, 5), H=r.randint(2, 5), L=1, bidirectional=False,
                            bias=True, batch_first=False, h0=False, c0=False, dy=True, dhn=False, dcn=False),
    # I ≠ H, with h0/c0 and dhn/dcn.
    "input_ne_hidden": lambda r: _distinct_sizes(r, dict(T=r.randint(3, 7), B=r.randint(2, 4), L=1,
                                                         bidirectional=False, bias=True, batch_first=False,
                                                         h0=True, c0=True, dy=True, dhn=True, dcn=True)),
    # 3 stacked layers, h0/c0 given, no dhn/dcn.
    "three_layers": lambda r: dict(T=r.randint(3, 6), B=r.randint(1, 3), I=r.randint(2, 6), H=r.randint(3, 6), L=3,
                                   bidirectional=False, bias=True, batch_first=False,
                                   h0=True, c0=True, dy=True, dhn=False, dcn=False),
    # Bidirectional, 2 layers, with everything.
    "bidirectional_2_layers": lambda r: dict(T=r.randint(3, 7), B=r.randint(2, 3), I=r.randint(2, 6),
                                             H=r.randint(3, 6), L=2, bidirectional=True, bias=True,
                                             batch_first=False, h0=True, c0=True, dy=True, dhn=True, dcn=True),
    # No bias parameters at all (bidirectional, 2 layers), zero initial state.
    "no_bias": lambda r: dict(T=r.randint(3, 6), B=r.randint(1, 3), I=r.randint(2, 5), H=r.randint(3, 5), L=2,
                              bidirectional=True, bias=False, batch_first=False,
                              h0=False, c0=False, dy=True, dhn=False, dcn=True),
    # Only h0 given (c0 zeros and not an input, so no dc0 is expected); only dhn given.
    "h0_without_c0": lambda r: dict(T=r.randint(3, 6), B=r.randint(1, 3), I=r.randint(2, 5), H=r.randint(3, 5),
                                    L=1, bidirectional=False, bias=True, batch_first=False,
                                    h0=True, c0=False, dy=True, dhn=True, dcn=False),
    # A long sequence (100+ steps): errors accumulating through time would show here.
    "long_sequence": lambda r: dict(T=r.randint(100, 130), B=2, I=r.randint(2, 4), H=8, L=1, bidirectional=False,
                                    bias=True, batch_first=False, h0=True, c0=True, dy=True, dhn=True, dcn=True),
    # Batch-first input and output ([B, T, ·]), 2 bidirectional layers; T ≠ B so that a swapped
    # layout cannot pass by accident.
    "batch_first": lambda r: dict(T=r.randint(5, 7), B=r.randint(2, 4), I=r.randint(2, 5), H=r.randint(3, 5), L=2,
                                  bidirectional=True, bias=True, batch_first=True,
                                  h0=True, c0=True, dy=True, dhn=True, dcn=True),
    # Inference only: no dy, so only y, hn and cn are expected.
    "forward_only": lambda r: dict(T=r.randint(3, 8), B=r.randint(1, 4), I=r.randint(2, 6), H=r.randint(2, 6), L=2,
                                   bidirectional=True, bias=True, batch_first=False,
                                   h0=True, c0=True, dy=False, dhn=False, dcn=False),
}


def _distinct_sizes(r, case):
    i = r.randint(2, 8)
    h = r.choice([v for v in range(2, 8) if v != i])
    case.update(I=i, H=h)
    return case


# --- safetensors (tools/safetensors_io.py; Debian has no python safetensors module) ---------------

def write_safetensors(path, tensors, metadata=None):
    """Writes name → tensor as F32 safetensors."""
    safetensors_io.write(path, {k: t.detach().to(torch.float32).contiguous().numpy() for k, t in tensors.items()},
                         metadata)


def read_safetensors(path):
    """name → float64 tensor of an F32 safetensors file."""
    arrays, _ = safetensors_io.read(path)
    return {k: torch.from_numpy(v.astype("float64")) for k, v in arrays.items()}


# --- one case -------------------------------------------------------------------------------------

def float32_exact(t):
    """A float64 tensor holding float32 values exactly (drawn in float32, then widened)."""
    return t.to(torch.float32).to(torch.float64)


def make_case(spec, generator):
    T, B, I, H, L = spec["T"], spec["B"], spec["I"], spec["H"], spec["L"]
    D = 2 if spec["bidirectional"] else 1
    lstm = torch.nn.LSTM(I, H, num_layers=L, bias=spec["bias"], batch_first=spec["batch_first"],
                         bidirectional=spec["bidirectional"]).to(torch.float64)
    bound = 1.0 / H ** 0.5  # PyTorch's default initialisation range
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(float32_exact((torch.rand(p.shape, generator=generator, dtype=torch.float32) * 2 - 1) * bound))

    def normal(*shape, scale=1.0):
        return float32_exact(torch.randn(*shape, generator=generator, dtype=torch.float32) * scale)

    x_shape = (B, T, I) if spec["batch_first"] else (T, B, I)
    y_shape = (B, T, D * H) if spec["batch_first"] else (T, B, D * H)
    state_shape = (L * D, B, H)
    inputs = {"x": normal(*x_shape).requires_grad_(True)}
    if spec["h0"]:
        inputs["h0"] = normal(*state_shape, scale=0.5).requires_grad_(True)
    if spec["c0"]:
        inputs["c0"] = normal(*state_shape, scale=0.5).requires_grad_(True)
    if spec["dy"]:
        inputs["dy"] = normal(*y_shape)
        if spec["dhn"]:
            inputs["dhn"] = normal(*state_shape)
        if spec["dcn"]:
            inputs["dcn"] = normal(*state_shape)

    zeros = torch.zeros(state_shape, dtype=torch.float64)
    state = None
    if spec["h0"] or spec["c0"]:
        state = (inputs.get("h0", zeros), inputs.get("c0", zeros))
    y, (hn, cn) = lstm(inputs["x"], state)
    expected = {"y": y, "hn": hn, "cn": cn}

    if spec["dy"]:
        loss = (y * inputs["dy"]).sum()
        if "dhn" in inputs:
            loss = loss + (hn * inputs["dhn"]).sum()
        if "dcn" in inputs:
            loss = loss + (cn * inputs["dcn"]).sum()
        loss.backward()
        expected["dx"] = inputs["x"].grad
        if "h0" in inputs:
            expected["dh0"] = inputs["h0"].grad
        if "c0" in inputs:
            expected["dc0"] = inputs["c0"].grad
        for name, p in lstm.named_parameters():
            expected["grad." + name] = p.grad

    model = {name: p.detach() for name, p in lstm.state_dict().items()}
    return model, {k: v.detach() for k, v in inputs.items()}, {k: v.detach() for k, v in expected.items()}


def generate(out_dir, seed):
    """Writes every family for a seed into out_dir; returns case name → (meta, float64 expected tensors)."""
    os.makedirs(out_dir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    cases = {}
    for index, (name, family) in enumerate(FAMILIES.items()):
        shapes = random.Random(f"{seed}/{name}")  # string seeds hash deterministically (not hash())
        spec = family(shapes)
        generator = torch.Generator().manual_seed(seed * 1000 + index)
        model, inputs, expected = make_case(spec, generator)
        case_dir = os.path.join(out_dir, name)
        os.makedirs(case_dir, exist_ok=True)
        meta = {"case": name, "seed": seed, "torch": torch.__version__, **spec}
        with open(os.path.join(case_dir, "meta.json"), "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
            f.write("\n")
        producer = {"producer": "tools/make_golden.py", "seed": str(seed)}
        write_safetensors(os.path.join(case_dir, "model.safetensors"), model, {"format": "pt", **producer})
        write_safetensors(os.path.join(case_dir, "input.safetensors"), inputs, producer)
        write_safetensors(os.path.join(case_dir, "expected.safetensors"), expected, producer)
        cases[name] = (meta, expected)
    return cases


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "src", "test", "resources", "golden"),
                        help="folder to write the cases into (default: the committed golden cases)")
    parser.add_argument("--seed", type=int, default=2024, help="seed of shapes and values (default 2024)")
    args = parser.parse_args(argv)
    for name in generate(args.out, args.seed):
        size = sum(os.path.getsize(os.path.join(args.out, name, f)) for f in os.listdir(os.path.join(args.out, name)))
        print(f"{name:24s} {size:7d} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
