#!/usr/bin/python3
"""Writes files as PyTorch users export them, with golden outputs from PyTorch, for the Java tests.

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_export_cases.py [--out DIR] [--seed N]
(the defaults regenerate the committed cases in src/test/resources/exports).

What a user writes is `safetensors.torch.save_file(module.state_dict(), "model.safetensors")` for a module
that *holds* an nn.LSTM, often in half precision; this writes the same bytes with tools/safetensors_io.py
(Debian has no python safetensors module): every tensor of the state_dict under its module path and in its
own dtype. Each case is a folder with
  meta.json             prefix (the LSTM's module path, to pass as --prefix, or null when it is the only
                        LSTM), batch_first, dtype, backward, and the names jlstm must ignore
  model.safetensors     the module's whole state_dict: LSTM parameters under their prefix, plus a linear
                        head and an int64 buffer (which jlstm ignores)
  input.safetensors     x (optionally h0, c0; dy for backward) in the case's dtype
  expected.safetensors  y, hn, cn (and dx, dh0, dc0, grad.<parameter> when backward) as F32, computed by
                        PyTorch in float64 from the stored values (F16/BF16 widen exactly; the F64 case is
                        computed from its F64 values, which jlstm rounds to float32 when loading).
Cases: a prefixed F32 encoder with extras and backward; BF16 under `lstm.` with h0/c0; F16 under
`module.lstm.` (DataParallel) batch-first; a bare F64 nn.LSTM with backward; two LSTMs in one file.
"""
import argparse
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402  (same folder)

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "exports")


class Holder(nn.Module):
    """A module holding an LSTM at `path` (e.g. encoder.lstm), a linear head and an int64 buffer."""

    def __init__(self, path, lstm, head_outputs):
        super().__init__()
        parent = self
        parts = path.split(".")
        for part in parts[:-1]:
            child = nn.Module()
            parent.add_module(part, child)
            parent = child
        parent.add_module(parts[-1], lstm)
        self.lstm_module = lstm
        features = lstm.hidden_size * (2 if lstm.bidirectional else 1)
        self.head = nn.Linear(features, head_outputs)
        self.register_buffer("step", torch.tensor(1234, dtype=torch.int64))

    def state_dict_for_export(self):
        # lstm_module is a second name for the same LSTM; a user's module has only the path.
        return {k: v for k, v in self.state_dict().items() if not k.startswith("lstm_module.")}


def random_lstm(gen, I, H, L, bidirectional, batch_first):
    lstm = nn.LSTM(I, H, num_layers=L, bidirectional=bidirectional, batch_first=batch_first)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float32) * 2 - 1)
    return lstm


def golden(lstm64, x, h0, c0, dy):
    """Outputs (and gradients when dy is given) of a float64 LSTM, as float32 tensors."""
    x = x.detach().to(torch.float64).requires_grad_(dy is not None)
    state = None
    if h0 is not None:
        h0 = h0.detach().to(torch.float64).requires_grad_(dy is not None)
        c0 = c0.detach().to(torch.float64).requires_grad_(dy is not None)
        state = (h0, c0)
    y, (hn, cn) = lstm64(x, state)
    out = {"y": y, "hn": hn, "cn": cn}
    if dy is not None:
        lstm64.zero_grad()
        (y * dy.to(torch.float64)).sum().backward()
        out["dx"] = x.grad
        if h0 is not None:
            out["dh0"] = h0.grad
            out["dc0"] = c0.grad
        for name, p in lstm64.named_parameters():
            out["grad." + name] = p.grad
    return {k: v.detach().to(torch.float32).contiguous().numpy() for k, v in out.items()}


def write_case(root, name, holders, prefix, dtype, batch_first, x, h0, c0, dy):
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    state = {}
    for h in holders:
        state.update(h.state_dict_for_export())
    ignored = sorted(k for k in state if not k.startswith(prefix or holders[0].path))
    safetensors_io.write_typed(os.path.join(folder, "model.safetensors"), state, {"format": "pt"})
    inputs = {"x": x}
    if h0 is not None:
        inputs["h0"], inputs["c0"] = h0, c0
    if dy is not None:
        inputs["dy"] = dy
    safetensors_io.write_typed(os.path.join(folder, "input.safetensors"), inputs, {"format": "pt"})
    target = holders[-1] if prefix else holders[0]
    lstm64 = nn.LSTM(target.lstm_module.input_size, target.lstm_module.hidden_size,
                     num_layers=target.lstm_module.num_layers, bidirectional=target.lstm_module.bidirectional,
                     batch_first=batch_first).double()
    with torch.no_grad():
        for (_, p64), (_, p) in zip(lstm64.named_parameters(), target.lstm_module.named_parameters()):
            p64.copy_(p.to(torch.float64))  # the stored values, widened
    safetensors_io.write(os.path.join(folder, "expected.safetensors"), golden(lstm64, x, h0, c0, dy))
    meta = {"prefix": prefix, "lstm_prefix": target.path + ".", "batch_first": batch_first, "dtype": dtype,
            "backward": dy is not None, "ignored": ignored}
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{name}: {dtype}, LSTM at {target.path}., {len(state)} tensors in the model, ignored {ignored}")


def holder(gen, path, I, H, L, bidirectional, batch_first, dtype):
    h = Holder(path, random_lstm(gen, I, H, L, bidirectional, batch_first), head_outputs=2)
    h.path = path
    return h.to(dtype) if dtype != torch.float32 else h


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    torch.manual_seed(args.seed)  # the heads, initialised by PyTorch
    gen = torch.Generator().manual_seed(args.seed)

    def rand(*shape, dtype=torch.float32):
        return (torch.rand(shape, generator=gen, dtype=torch.float32) * 2 - 1).to(dtype)

    # F32, 2 bidirectional layers under encoder.lstm., a head and an int64 buffer beside it; backward too.
    m = holder(gen, "encoder.lstm", 3, 4, 2, True, False, torch.float32)
    write_case(args.out, "encoder_prefix_f32", [m], None, "F32", False, rand(5, 2, 3), None, None, rand(5, 2, 8))

    # BF16 weights and inputs under lstm., with h0/c0.
    m = holder(gen, "lstm", 4, 5, 1, False, False, torch.bfloat16)
    write_case(args.out, "lstm_prefix_bf16", [m], None, "BF16", False, rand(6, 3, 4, dtype=torch.bfloat16),
               rand(1, 3, 5, dtype=torch.bfloat16), rand(1, 3, 5, dtype=torch.bfloat16), None)

    # F16 under module.lstm. (what nn.DataParallel's state_dict names look like), batch-first x [B, T, I].
    m = holder(gen, "module.lstm", 3, 6, 2, False, True, torch.float16)
    write_case(args.out, "dataparallel_f16_batch_first", [m], None, "F16", True,
               rand(2, 7, 3, dtype=torch.float16), None, None, None)

    # A bare nn.LSTM saved in float64, with backward.
    lstm = random_lstm(gen, 2, 3, 1, True, False).double()
    state = lstm.state_dict()
    folder = os.path.join(args.out, "bare_f64")
    os.makedirs(folder, exist_ok=True)
    safetensors_io.write_typed(os.path.join(folder, "model.safetensors"), state, {"format": "pt"})
    x, dy = rand(4, 2, 2, dtype=torch.float64), rand(4, 2, 6, dtype=torch.float64)
    safetensors_io.write_typed(os.path.join(folder, "input.safetensors"), {"x": x, "dy": dy}, {"format": "pt"})
    safetensors_io.write(os.path.join(folder, "expected.safetensors"), golden(lstm, x, None, None, dy))
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump({"prefix": None, "lstm_prefix": "", "batch_first": False, "dtype": "F64", "backward": True,
                   "ignored": []}, f, indent=1, sort_keys=True)
        f.write("\n")
    print("bare_f64: F64, a bare nn.LSTM")

    # Two LSTMs in one file: --prefix decoder.lstm picks the second.
    enc = holder(gen, "encoder.lstm", 3, 4, 1, False, False, torch.float32)
    dec = holder(gen, "decoder.lstm", 4, 5, 1, False, False, torch.float32)
    dec.head = nn.Linear(5, 2)  # the two heads would clash in one file: only the decoder keeps one
    enc_state = {k: v for k, v in enc.state_dict_for_export().items() if k.startswith("encoder.")}
    enc.state_dict_for_export = lambda: enc_state
    write_case(args.out, "two_lstms", [enc, dec], "decoder.lstm", "F32", False, rand(3, 2, 4), None, None, None)


if __name__ == "__main__":
    main()
