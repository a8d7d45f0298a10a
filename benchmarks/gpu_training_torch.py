#!/usr/bin/env python3
"""The training step's PyTorch peer, timed by benchmarks/gpu-check.sh beside jlstm.internal.cuda.TrainingTiming.

One step = what jlstm's device training step does (jlstm.internal.cuda.CudaTrainingStep): nn.LSTM(I, H, L)
on cuDNN, a Linear(H, 1) head on the last step, mean squared error, backward,
clip_grad_norm_(max_norm=1.0), Adam(lr=1e-3, fused=True). Full FP32 (TF32 off), as jlstm computes.
Two ways:
    eager   the step as Python issues it, every step
    graph   the whole step captured once into a CUDA graph (torch.cuda.graph, Adam with
            capturable=True) and replayed: the peer of a one-graph jlstm step
Prints one line per shape and way, as soon as it is measured, in the columns of TrainingTiming:
    torch-train T B I H L eager|graph fp32 - MS
or, when a way fails (cuDNN's RNN may refuse capture on some versions), a line saying why:
    torch-train T B I H L graph fp32 failed REASON
Median of 20 timed steps after 5 warm-ups, measured with CUDA events; no host sync inside a step
(jlstm's step returns its loss, so it syncs once per step: the peer is given the better case).
Exit code 3 when PyTorch or a CUDA device is missing (the caller reports a skip).

usage: gpu_training_torch.py [T,B,I,H,L ...]
"""
import statistics
import sys

DEFAULT_SHAPES = ["100,64,256,256,1", "100,256,256,256,1", "100,64,512,512,1", "100,64,1024,1024,1",
                  "50,32,128,128,2"]
WARMUP, REPEATS = 5, 20


def time_steps(torch, step):
    times = []
    for n in range(WARMUP + REPEATS):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        torch.cuda.synchronize()
        if n >= WARMUP:
            times.append(start.elapsed_time(end))
    return statistics.median(times)


def build(torch, t, b, i, h, layers, capturable):
    dev = torch.device("cuda")
    lstm = torch.nn.LSTM(i, h, layers).to(dev)
    head = torch.nn.Linear(h, 1).to(dev)
    params = list(lstm.parameters()) + list(head.parameters())
    adam = torch.optim.Adam(params, lr=1e-3, fused=True, capturable=capturable)
    x = torch.randn(t, b, i, device=dev)
    target = torch.randn(b, 1, device=dev)

    def step():
        adam.zero_grad(set_to_none=False)
        y, _ = lstm(x)
        loss = torch.nn.functional.mse_loss(head(y[-1]), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)
        adam.step()
        return loss
    return step, params


def eager_ms(torch, shape):
    step, _ = build(torch, *shape, capturable=False)
    return time_steps(torch, step)


def graph_ms(torch, shape):
    step, _ = build(torch, *shape, capturable=True)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):   # warm-up on a side stream, as torch.cuda.graph's documentation asks
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return time_steps(torch, graph.replay)


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
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    print(f"# torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}",
          flush=True)
    for text in shapes:
        shape = tuple(int(v) for v in text.split(","))
        columns = " ".join(str(v) for v in shape)
        for way, fn in (("eager", eager_ms), ("graph", graph_ms)):
            try:
                print(f"torch-train {columns} {way} fp32 - {fn(torch, shape):.4f}", flush=True)
            except Exception as e:   # a way that does not work on this stack is reported, not hidden
                reason = " ".join(str(e).split())[:200]
                print(f"torch-train {columns} {way} fp32 failed {type(e).__name__}: {reason}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or DEFAULT_SHAPES))
