#!/usr/bin/env python3
"""PyTorch nn.LSTM on cuDNN: the peer that benchmarks/gpu-check.sh times beside jlstm in the same run.

Prints one line per shape and mode, the same columns as jlstm.cuda.GpuTiming:
    torch T B I H L inference|training cudnn MS GFLOPS
FLOPs: forward 2*T*B*4H*(I_k + H) over layers (one direction); training ~ 3x forward.
Median of 10 timed repetitions after 3 warm-ups, measured with CUDA events.
Exit code 3 when PyTorch or a CUDA device is missing (the caller reports it as skipped).

usage: gpu_timing_torch.py [T,B,I,H,L ...]
"""
import statistics
import sys

DEFAULT_SHAPES = ["100,1,256,256,1", "100,32,256,256,1", "100,64,512,512,1",
                  "50,16,128,128,2", "100,64,1024,1024,1", "100,256,512,512,1"]
WARMUP, REPEATS = 3, 10


def forward_flops(t, b, i, h, layers):
    return sum(2.0 * t * b * 4 * h * ((i if k == 0 else h) + h) for k in range(layers))


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
    torch.backends.cuda.matmul.allow_tf32 = False  # jlstm runs full FP32: compare like with like
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    print(f"# torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}")
    for shape in shapes:
        t, b, i, h, layers = (int(v) for v in shape.split(","))
        lstm = torch.nn.LSTM(i, h, layers).to(dev)
        x = torch.randn(t, b, i, device=dev, requires_grad=True)
        flops = forward_flops(t, b, i, h, layers)

        def inference():
            with torch.no_grad():
                lstm(x)

        def training():
            y, _ = lstm(x)
            y.backward(torch.ones_like(y))

        ms = time_ms(torch, inference)
        print(f"torch {t} {b} {i} {h} {layers} inference cudnn {ms:.3f} {flops / ms / 1e6:.1f}")
        ms = time_ms(torch, training)
        print(f"torch {t} {b} {i} {h} {layers} training cudnn {ms:.3f} {3 * flops / ms / 1e6:.1f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or DEFAULT_SHAPES))
