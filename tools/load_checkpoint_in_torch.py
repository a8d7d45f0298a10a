#!/usr/bin/python3
"""Loads a jlstm `train` checkpoint into PyTorch and checks it against jlstm's `run`.

  /usr/bin/python3 tools/load_checkpoint_in_torch.py runs/adding-.../checkpoint.safetensors [--jar target/jlstm.jar]

1. reads the safetensors file by hand (no `safetensors` package needed),
2. builds torch.nn.LSTM from the shapes and calls load_state_dict(strict=True) on the LSTM part
   (weight_ih_l0, ...), and nn.Linear.load_state_dict(strict=True) on head.weight / head.bias,
3. runs both on a random input and runs `java -jar JAR run --model CHECKPOINT` on the same input,
4. compares y, hn, cn; exits 1 when they differ by more than the tolerance.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

LSTM_NAME = re.compile(r"(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?")
# float32 CPU LSTMs summing in different orders over T=20 steps: ~1e-6 apart; 1e-5 leaves margin.
TOLERANCE = 1e-5


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--jar", default=os.path.join(os.path.dirname(__file__), "..", "target", "jlstm.jar"))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=3)
    args = parser.parse_args()

    tensors, metadata = safetensors_io.read(args.checkpoint)
    lstm_state = {k: torch.from_numpy(v) for k, v in tensors.items() if LSTM_NAME.fullmatch(k)}
    layers = 1 + max(int(LSTM_NAME.fullmatch(k).group(2)) for k in lstm_state)
    bidirectional = any(k.endswith("_reverse") for k in lstm_state)
    hidden = lstm_state["weight_hh_l0"].shape[1]
    inputs = lstm_state["weight_ih_l0"].shape[1]
    lstm = torch.nn.LSTM(inputs, hidden, num_layers=layers, bidirectional=bidirectional,
                         bias="bias_ih_l0" in lstm_state)
    lstm.load_state_dict(lstm_state, strict=True)
    print(f"loaded {len(lstm_state)} LSTM tensors with strict load_state_dict: {lstm}")
    head = None
    if "head.weight" in tensors:
        w = torch.from_numpy(tensors["head.weight"])
        head = torch.nn.Linear(w.shape[1], w.shape[0])
        head.load_state_dict({"weight": w, "bias": torch.from_numpy(tensors["head.bias"])}, strict=True)
        print(f"loaded the head: {head}; other tensors (optimizer state): "
              f"{sum(1 for k in tensors if k.startswith('optimizer.'))}")
    print("metadata: task=%s epoch=%s" % (metadata.get("task"), metadata.get("epoch")))

    generator = torch.Generator().manual_seed(0)
    x = torch.rand(args.steps, args.batch, inputs, generator=generator)
    with torch.no_grad():
        y, (hn, cn) = lstm(x)
        if head is not None:
            print("torch head output on the random input (last step):", head(y[-1]).flatten().tolist())

    with tempfile.TemporaryDirectory() as tmp:
        x_file, out_file = os.path.join(tmp, "x.safetensors"), os.path.join(tmp, "out.safetensors")
        safetensors_io.write(x_file, {"x": x.numpy()})
        cmd = ["java", "-jar", args.jar, "run", "--model", args.checkpoint, "--input", x_file, "--output", out_file,
               "--device", "cpu"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print("jlstm run failed:", done.stderr, file=sys.stderr)
            return 1
        jl, _ = safetensors_io.read(out_file)

    worst = 0.0
    for name, ref in (("y", y), ("hn", hn), ("cn", cn)):
        diff = float(np.max(np.abs(jl[name] - ref.numpy())))
        scale = max(1.0, float(np.max(np.abs(ref.numpy()))))
        print(f"{name}: shape {list(ref.shape)}, max |jlstm - torch| = {diff:.3g}")
        worst = max(worst, diff / scale)
    ok = worst <= TOLERANCE
    print(("OK" if ok else "MISMATCH") + f": worst scaled difference {worst:.3g} (tolerance {TOLERANCE})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
