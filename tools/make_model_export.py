#!/usr/bin/python3
"""Writes a whole PyTorch model as users export it: an nn.LSTM plus an nn.Linear head named `fc`.

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_model_export.py [--out DIR]
(the default regenerates src/test/resources/model-export, read by jlstm.train.ModelExportTest and
by the consumer project of tools/check-consumer.sh).

The module is the common forecaster:
    class Forecaster(nn.Module):
        lstm = nn.LSTM(3, 8, batch_first=True);  fc = nn.Linear(8, 2)
        forward(x) = fc(lstm(x)[0][:, -1])       # x [B, T, 3] -> [B, 2]
Files:
  model.safetensors     its whole state_dict, F32: lstm.weight_ih_l0 ... fc.weight, fc.bias; no metadata
                        (as safetensors.torch.save_file writes it), so the reader must be told batch_first
  input.safetensors     x [4, 6, 3], batch-first
  expected.safetensors  prediction [4, 2], computed by PyTorch in float64 from the float32 parameters
"""
import argparse
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402  (same folder)

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources",
                           "model-export")


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.manual_seed(19)
    model = Forecaster()
    x = torch.rand(4, 6, 3) * 2 - 1
    with torch.no_grad():
        expected = model.double()(x.double()).float()
    model = model.float()
    os.makedirs(args.out, exist_ok=True)
    safetensors_io.write(os.path.join(args.out, "model.safetensors"),
                         {k: v.float() for k, v in model.state_dict().items()})
    safetensors_io.write(os.path.join(args.out, "input.safetensors"), {"x": x})
    safetensors_io.write(os.path.join(args.out, "expected.safetensors"), {"prediction": expected})
    print("wrote", os.path.normpath(args.out), "names:", list(model.state_dict().keys()))


if __name__ == "__main__":
    main()
