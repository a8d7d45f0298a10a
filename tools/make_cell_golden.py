#!/usr/bin/python3
"""Writes golden cases of torch.nn.LSTMCell stepped by hand, for jlstm's LstmCell training tests.

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_cell_golden.py [--out DIR] [--seed N]
(the defaults regenerate the committed cases in src/test/resources/golden-cell).

Each case is a folder with
  meta.json               T, B, I, H, bias, whether h0/c0 are given
  cell.safetensors        the LSTMCell's parameters: weight_ih [4H, I], weight_hh [4H, H], bias_ih, bias_hh [4H]
  input.safetensors       x [T, B, I]; optional h0, c0 [B, H]; gh, gc [T, B, H]
  expected.safetensors    h, c [T, B, H] (every step's state); dx [T, B, I]; dh0, dc0 [B, H];
                          grad.<parameter> for every parameter
A Python loop steps the cell over x[0] ... x[T-1] (h, c = cell(x[t], (h, c))); the loss whose gradients
are stored is  sum_t (h_t * gh[t]).sum() + (c_t * gc[t]).sum(),  so gh[t] and gc[t] are the gradients
arriving at h_t and c_t from outside the loop (a head, a loss on every step). Values are drawn in
float32 and widened; PyTorch computes in float64; results are stored rounded to float32.
"""
import argparse
import json
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden  # noqa: E402  (same folder: float32_exact, write_safetensors)

CASES = {
    # A few steps with a given initial state.
    "cell_sequence": lambda r: dict(T=r.randint(4, 6), B=r.randint(2, 4), I=r.randint(2, 6), H=r.randint(3, 7),
                                    bias=True, h0=True, c0=True),
    # No bias, zero initial state (None), I != H.
    "cell_no_bias_zero_state": lambda r: dict(T=3, B=r.randint(1, 3), I=5, H=3, bias=False, h0=False, c0=False),
    # One step only: the backward of a single step against autograd.
    "cell_single_step": lambda r: dict(T=1, B=r.randint(2, 5), I=r.randint(2, 5), H=r.randint(2, 5), bias=True,
                                       h0=True, c0=True),
}


def make_case(spec, generator):
    T, B, I, H = spec["T"], spec["B"], spec["I"], spec["H"]
    cell = torch.nn.LSTMCell(I, H, bias=spec["bias"]).to(torch.float64)
    bound = 1.0 / H ** 0.5
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(make_golden.float32_exact((torch.rand(p.shape, generator=generator, dtype=torch.float32) * 2 - 1)
                                              * bound))

    def normal(*shape, scale=1.0):
        return make_golden.float32_exact(torch.randn(*shape, generator=generator, dtype=torch.float32) * scale)

    inputs = {"x": normal(T, B, I).requires_grad_(True)}
    if spec["h0"]:
        inputs["h0"] = normal(B, H, scale=0.5).requires_grad_(True)
    if spec["c0"]:
        inputs["c0"] = normal(B, H, scale=0.5).requires_grad_(True)
    inputs["gh"] = normal(T, B, H)
    inputs["gc"] = normal(T, B, H)

    state = None
    if spec["h0"] or spec["c0"]:
        zeros = torch.zeros(B, H, dtype=torch.float64)
        state = (inputs.get("h0", zeros), inputs.get("c0", zeros))
    hs, cs = [], []
    for t in range(T):
        h, c = cell(inputs["x"][t], state)
        hs.append(h)
        cs.append(c)
        state = (h, c)
    loss = sum((h * inputs["gh"][t]).sum() + (c * inputs["gc"][t]).sum() for t, (h, c) in enumerate(zip(hs, cs)))
    loss.backward()
    expected = {"h": torch.stack(hs), "c": torch.stack(cs), "dx": inputs["x"].grad}
    if spec["h0"]:
        expected["dh0"] = inputs["h0"].grad
    if spec["c0"]:
        expected["dc0"] = inputs["c0"].grad
    for name, p in cell.named_parameters():
        expected["grad." + name] = p.grad
    model = {name: p.detach() for name, p in cell.state_dict().items()}
    return model, {k: v.detach() for k, v in inputs.items()}, {k: v.detach() for k, v in expected.items()}


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "src", "test", "resources", "golden-cell"),
                        help="folder to write the cases into (default: the committed cases)")
    parser.add_argument("--seed", type=int, default=2024, help="seed of shapes and values (default 2024)")
    args = parser.parse_args(argv)
    torch.use_deterministic_algorithms(True)
    for index, (name, family) in enumerate(CASES.items()):
        spec = family(random.Random(f"{args.seed}/{name}"))
        model, inputs, expected = make_case(spec, torch.Generator().manual_seed(args.seed * 1000 + index))
        case_dir = os.path.join(args.out, name)
        os.makedirs(case_dir, exist_ok=True)
        with open(os.path.join(case_dir, "meta.json"), "w") as f:
            json.dump({"case": name, "seed": args.seed, "torch": torch.__version__, **spec}, f, indent=2,
                      sort_keys=True)
            f.write("\n")
        producer = {"producer": "tools/make_cell_golden.py", "seed": str(args.seed)}
        make_golden.write_safetensors(os.path.join(case_dir, "cell.safetensors"), model, producer)
        make_golden.write_safetensors(os.path.join(case_dir, "input.safetensors"), inputs, producer)
        make_golden.write_safetensors(os.path.join(case_dir, "expected.safetensors"), expected, producer)
        print(f"{name:26s} T={spec['T']} B={spec['B']} I={spec['I']} H={spec['H']}")


if __name__ == "__main__":
    main(sys.argv[1:])
