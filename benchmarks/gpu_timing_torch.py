#!/usr/bin/env python3
"""PyTorch nn.LSTM on cuDNN: the peers that benchmarks/gpu-check.sh times beside jlstm in the same run.

Prints one line per shape, mode and peer, as soon as it is measured, in the columns of
jlstm.internal.cuda.GpuTiming:
    torch T B I H L inference|training PEER - MS
with PEER one of (docs/PRECISION.md: each jlstm mode is compared with the peer in the same precision)
    cudnn-fp32        TF32 off (torch.backends.cudnn.allow_tf32 = False): full FP32, as jlstm --precision fp32
    cudnn-tf32        TF32 on: PyTorch's default for cuDNN RNNs (what a user gets without asking);
                      the peer of jlstm --precision tf32
    cudnn-bf16        under torch.autocast("cuda", dtype=torch.bfloat16): the peer of jlstm --precision bf16
    cudnn-fp32-graph  nn.LSTM replayed from a torch.cuda.CUDAGraph (inference: the forward captured once;
    cudnn-tf32-graph  training: torch.cuda.make_graphed_callables), the fair small-batch peer of jlstm
                      with CUDA graphs
A shape is T,B,I,H,L or T,B,I,H,L,bi (bidirectional; its line gets the peer suffix "-bidirectional",
so that the columns stay T B I H L). A peer that cannot run (e.g. graph capture failing on an old
PyTorch) prints "# skipped PEER for SHAPE: reason" and the others go on.
Inference = forward under no_grad; training = forward + backward of y with a gradient of ones.
Median of 10 timed repetitions after 3 warm-ups, measured with CUDA events; inputs are random
(never zeros). Exit code 3 when PyTorch or a CUDA device is missing (the caller reports a skip).

usage: gpu_timing_torch.py [T,B,I,H,L[,bi] ...]     (default: the grid of issue 20, below)
"""
import statistics
import sys

# B = 1 … 256 × H = 256, 512, 1024 at T = 100; T = 1 (one streaming step); one 2-layer bidirectional row.
DEFAULT_SHAPES = ([f"100,{b},{h},{h},1" for h in (256, 512, 1024) for b in (1, 8, 16, 32, 64, 256)]
                  + [f"1,{b},{h},{h},1" for h in (256, 1024) for b in (1, 64)]
                  + ["100,64,512,512,2,bi"])
PEERS = ("cudnn-fp32", "cudnn-tf32", "cudnn-bf16", "cudnn-fp32-graph", "cudnn-tf32-graph")
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
        fields = shape.split(",")
        t, b, i, h, layers = (int(v) for v in fields[:5])
        bidirectional = len(fields) > 5 and fields[5] == "bi"
        suffix = "-bidirectional" if bidirectional else ""
        lstm = torch.nn.LSTM(i, h, layers, bidirectional=bidirectional).to(dev)
        x = torch.randn(t, b, i, device=dev, requires_grad=True)
        for peer in PEERS:
            try:
                runs = peer_runs(torch, lstm, x, peer)
            except Exception as e:  # noqa: BLE001 (a peer that cannot run is reported, not fatal)
                print(f"# skipped {peer}{suffix} for {shape}: {type(e).__name__}: {e}", flush=True)
                continue
            for mode, fn in runs:
                try:
                    ms = time_ms(torch, fn)
                except Exception as e:  # noqa: BLE001
                    print(f"# skipped {peer}{suffix} {mode} for {shape}: {type(e).__name__}: {e}", flush=True)
                    continue
                print(f"torch {t} {b} {i} {h} {layers} {mode} {peer}{suffix} - {ms:.4f}", flush=True)
    return 0


def peer_runs(torch, lstm, x, peer):
    """(mode, function) pairs timing one peer; sets the TF32 switches the peer's precision needs."""
    tf32 = peer.startswith("cudnn-tf32")
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    if peer == "cudnn-bf16":
        def inference():
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
                lstm(x)

        def training():
            with torch.autocast("cuda", dtype=torch.bfloat16):
                y, _ = lstm(x)
            y.backward(torch.ones_like(y))
        return (("inference", inference), ("training", training))
    if peer.endswith("-graph"):
        return graphed_runs(torch, lstm, x)

    def inference():
        with torch.no_grad():
            lstm(x)

    def training():
        y, _ = lstm(x)
        y.backward(torch.ones_like(y))
    return (("inference", inference), ("training", training))


def graphed_runs(torch, lstm, x):
    """nn.LSTM replayed from CUDA graphs: the no_grad forward captured once (after warm-ups on a side
    stream, as PyTorch's graph docs require), and forward + backward through make_graphed_callables."""
    static_x = x.detach().clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side), torch.no_grad():
        for _ in range(3):
            lstm(static_x)
    torch.cuda.current_stream().wait_stream(side)
    forward_graph = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(forward_graph):
        lstm(static_x)

    class Wrapped(torch.nn.Module):   # make_graphed_callables wants tensors out, not (y, (hn, cn))
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, v):
            return self.inner(v)[0]

    graphed = torch.cuda.make_graphed_callables(Wrapped(lstm), (x.detach().clone().requires_grad_(True),))
    train_x = x.detach().clone().requires_grad_(True)

    def training():
        y = graphed(train_x)
        y.backward(torch.ones_like(y))
    return (("inference", forward_graph.replay), ("training", training))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or DEFAULT_SHAPES))
