#!/usr/bin/python3
"""Golden cases for jlstm.train, computed by PyTorch (run with /usr/bin/python3, torch 1.13):

  adam.safetensors, adam_wd.safetensors  two torch.optim.Adam steps (momentum state exercised)
  sgd.safetensors                        two torch.optim.SGD steps, momentum 0.9, weight decay
  clip.safetensors                       torch.nn.utils.clip_grad_norm_ on two gradients
  head_ce.safetensors                    nn.Linear on y[-1] + nn.CrossEntropyLoss: loss and grads
  head_mse.safetensors                   nn.Linear on every step + nn.MSELoss: loss and grads

Each file holds the inputs and the expected outputs; hyper-parameters are in the metadata.
Usage: /usr/bin/python3 tools/make_optimizer_golden.py [OUT_DIR]  (default src/test/resources/optim)
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

SHAPES = {"a": (3, 4), "b": (5,)}


def optimizer_case(path, make_optimizer, metadata, generator):
    params = {k: torch.randn(*s, generator=generator) for k, s in SHAPES.items()}
    grads = [{k: torch.randn(*s, generator=generator) for k, s in SHAPES.items()} for _ in range(2)]
    tensors = {f"param.{k}": v.numpy().copy() for k, v in params.items()}
    live = {k: torch.nn.Parameter(v.clone()) for k, v in params.items()}
    opt = make_optimizer(list(live.values()))
    for step, g in enumerate(grads, start=1):
        for k in SHAPES:
            tensors[f"grad{step}.{k}"] = g[k].numpy().copy()
            live[k].grad = g[k].clone()
        opt.step()
        for k in SHAPES:
            tensors[f"expected{step}.{k}"] = live[k].detach().numpy().copy()
    safetensors_io.write(path, tensors, metadata)


def clip_case(path, generator):
    grads = {k: torch.randn(*s, generator=generator) * 3 for k, s in SHAPES.items()}
    params = {k: torch.nn.Parameter(torch.zeros(*s)) for k, s in SHAPES.items()}
    for k in SHAPES:
        params[k].grad = grads[k].clone()
    max_norm = 2.5
    total = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
    tensors = {f"grad.{k}": grads[k].numpy() for k in SHAPES}
    tensors.update({f"clipped.{k}": params[k].grad.numpy() for k in SHAPES})
    tensors["total_norm"] = np.array([total.item()], dtype=np.float32)
    safetensors_io.write(path, tensors, {"max_norm": max_norm})


def head_case(path, every_step, generator):
    steps, batch, features, outputs = 4, 3, 6, 5
    y = torch.randn(steps, batch, features, generator=generator, requires_grad=True)
    head = torch.nn.Linear(features, outputs)
    with torch.no_grad():
        head.weight.copy_(torch.randn(outputs, features, generator=generator) * 0.5)
        head.bias.copy_(torch.randn(outputs, generator=generator) * 0.5)
    if every_step:
        target = torch.randn(steps, batch, outputs, generator=generator)
        loss = torch.nn.MSELoss()(head(y), target)
    else:
        target = torch.randint(0, outputs, (batch,), generator=generator)
        loss = torch.nn.CrossEntropyLoss()(head(y[-1]), target)
    loss.backward()
    safetensors_io.write(path, {
        "y": y.detach().numpy(), "head.weight": head.weight.detach().numpy(), "head.bias": head.bias.detach().numpy(),
        "target": target.numpy().astype(np.float32), "loss": np.array([loss.item()], dtype=np.float32),
        "grad.y": y.grad.numpy(), "grad.head.weight": head.weight.grad.numpy(), "grad.head.bias": head.bias.grad.numpy(),
    }, {"mode": "every_step" if every_step else "last_step", "loss": "mse" if every_step else "cross_entropy"})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src", "test",
                                                             "resources", "optim")
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(20240607)
    optimizer_case(os.path.join(out, "adam.safetensors"),
                   lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8),
                   {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}, g)
    optimizer_case(os.path.join(out, "adam_wd.safetensors"),
                   lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1),
                   {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "weight_decay": 0.1}, g)
    optimizer_case(os.path.join(out, "sgd.safetensors"),
                   lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.05),
                   {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05}, g)
    clip_case(os.path.join(out, "clip.safetensors"), g)
    head_case(os.path.join(out, "head_ce.safetensors"), False, g)
    head_case(os.path.join(out, "head_mse.safetensors"), True, g)
    print("torch", torch.__version__, "wrote golden files to", os.path.abspath(out))


if __name__ == "__main__":
    main()
