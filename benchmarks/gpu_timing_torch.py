#!/usr/bin/env python3
"""PyTorch nn.LSTM on cuDNN: the peer that benchmarks/gpu-check.sh times beside jlstm in the same run.

Prints one line per shape, mode and precision, as soon as it is measured, in the columns of
jlstm.cuda.GpuTiming:
    torch T B I H L inference|training cudnn-fp32|cudnn-tf32 - MS
fp32 turns TF32 off (torch.backends.cudnn.allow_tf32 = False), as jlstm computes in full FP32;
tf32 lets cuDNN use TF32 tensor cores (PyTorch's default for cuDNN), labelled as such.
Inference = forward under no_grad; training = forward + backward of y.sum()-like gradient (ones).
Median of 10 timed repetitions after 3 warm-ups, measured with CUDA events; inputs are random
(never zeros). Exit code 3 when PyTorch or a CUDA device is missing (the caller reports a skip).

usage: gpu_timing_torch.py [T,B,I,H,L ...]
"""
import statistics
import sys

DEFAULT_SHAPES = [f"100,{b},{h},{h},1" for h in (256, 512, 1024) for b in (1, 8, 64, 256)]
WARMUP, REPEATS = 3, 10


def time_ms(torch, fn):
    times = []
    for n in range(WARMUP + REPEATS):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        if n >= WARMUP:
            times.append(start.elapsed_time(end))
    return statistics.median(times)


def main(shapes):
    try:
        import torch
    except ImportError as e:
        print(f"torch: not importable ({e})", file=sys.stderr)
        return 3
    if not torch.cuda.is_available():
        print("torch: no CUDA device visible to PyTorch", file=sys.stderr)
        return 3
    torch.backends.cudnn.enabled = True
    dev = torch.device("cuda")
    print(f"# torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}",
          flush=True)
    for shape in shapes:
        t, b, i, h, layers = (int(v) for v in shape.split(","))
        lstm = torch.nn.LSTM(i, h, layers).to(dev)
        x = torch.randn(t, b, i, device=dev, requires_grad=True)
        for precision in ("fp32", "tf32"):
            torch.backends.cudnn.allow_tf32 = precision == "tf32"
            torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"

            def inference():
                with torch.no_grad():
                    lstm(x)

            def training():
                y, _ = lstm(x)
                y.backward(torch.ones_like(y))

            for mode, fn in (("inference", inference), ("training", training)):
                ms = time_ms(torch, fn)
                print(f"torch {t} {b} {i} {h} {layers} {mode} cudnn-{precision} - {ms:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or DEFAULT_SHAPES))
