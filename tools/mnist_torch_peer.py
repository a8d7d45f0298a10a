#!/usr/bin/env python3
"""PyTorch's peer of `train --task mnist`: nn.LSTMCell(28, H) stepped over the 28 rows of each
MNIST digit, nn.Linear(H, 10) on the last h, cross-entropy, Adam, on the same split (the first
8,000 images of src/main/resources/jlstm/data/mnist-10k-*-ubyte.gz for training, the last 2,000
held out). Prints the held-out accuracy after each epoch and, per seed, the last epoch's; then
min / mean / max over the seeds.

    /usr/bin/python3 tools/mnist_torch_peer.py                      # the textbook recipe: Adam, constant lr
    /usr/bin/python3 tools/mnist_torch_peer.py --lr 0.005 --batch 32 --cosine   # train --task mnist's recipe

Options: --seeds 1,2,3  --epochs 5  --hidden 128  --batch 64  --lr 0.001  --cosine  --threads N.
Pixels are divided by 255; no noise, no clipping (as `train --task mnist`).
"""
import argparse
import gzip
import math
import os
import struct
import time

import numpy as np
import torch

DATA = os.path.join(os.path.dirname(__file__), "..", "src", "main", "resources", "jlstm", "data")
TRAINING = 8000


def read_idx(path, magic, dims):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    found, = struct.unpack(">i", raw[:4])
    if found != magic:
        raise ValueError(f"{path}: magic {found}, expected {magic}")
    shape = struct.unpack(">" + "i" * dims, raw[4:4 + 4 * dims])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: {body.size} bytes after the header, expected {int(np.prod(shape))}")
    return body.reshape(shape)


def load():
    images = read_idx(os.path.join(DATA, "mnist-10k-images-idx3-ubyte.gz"), 2051, 3)
    labels = read_idx(os.path.join(DATA, "mnist-10k-labels-idx1-ubyte.gz"), 2049, 1)
    x = torch.from_numpy(images.astype(np.float32) / 255.0)           # [N, 28, 28]
    y = torch.from_numpy(labels.astype(np.int64))
    return x[:TRAINING], y[:TRAINING], x[TRAINING:], y[TRAINING:]


class RowClassifier(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.cell = torch.nn.LSTMCell(28, hidden)
        self.head = torch.nn.Linear(hidden, 10)

    def forward(self, images):                                        # [B, 28, 28]
        h = c = None
        for t in range(images.shape[1]):
            h, c = self.cell(images[:, t, :], None if h is None else (h, c))
        return self.head(h)


def run(seed, args, data):
    x_train, y_train, x_test, y_test = data
    torch.manual_seed(seed)
    model = RowClassifier(args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(seed)
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        order = torch.randperm(len(x_train), generator=generator)
        losses = []
        model.train()
        if args.cosine:  # per epoch, as jlstm's LearningRateSchedule.cosine(): base·½(1 + cos(π·(e−1)/E))
            for group in optimizer.param_groups:
                group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / args.epochs))
        for b in range(0, len(x_train), args.batch):
            index = order[b:b + args.batch]
            loss = torch.nn.functional.cross_entropy(model(x_train[index]), y_train[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        print(f"seed {seed} epoch {epoch}/{args.epochs}  loss {np.mean(losses):.6f}  held-out accuracy "
              f"{accuracy:.4f}  {time.time() - start:.1f} s", flush=True)
    return accuracy


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", default="1,2,3,4,5")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--cosine", action="store_true", help="cosine decay of the learning rate per epoch, as jlstm's")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = load()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"torch {torch.__version__}: LSTMCell(28, {args.hidden}) + Linear({args.hidden}, 10), Adam lr={args.lr}"
          f"{' (cosine decay)' if args.cosine else ''}, batch {args.batch}, {args.epochs} epochs, "
          f"{len(data[0])} training / {len(data[2])} held-out images", flush=True)
    results = [run(seed, args, data) for seed in seeds]
    for seed, accuracy in zip(seeds, results):
        print(f"seed {seed}: held-out accuracy {accuracy:.4f}")
    print(f"held-out accuracy over seeds {args.seeds}: min {min(results):.4f} mean {np.mean(results):.4f} "
          f"max {max(results):.4f}")


if __name__ == "__main__":
    main()
