#!/usr/bin/python3
"""The PyTorch peer anchor: times torch.nn.LSTM on the benchmark shapes of ARCHITECTURE.md.

Writes the same JSON keys as `jlstm bench --json`:
  device, T, B, I, H, L, forward_ms, train_ms, forward_gflops, train_gflops
  (forward_ms, train_ms: the medians of the timed repetitions), and their spread:
  forward_ms_min, forward_ms_max, train_ms_min, train_ms_max, reps
where forward = inference (torch.no_grad), train = forward with autograd + backward, and
FLOPs are 2*T*B*4H*(I_k+H) summed over layers (train counted as 3x forward), exactly as jlstm.

Before timing, it checks which BLAS torch really dispatches to: Debian's python3-torch links
the generic libblas.so.3 alternative, which is OpenBLAS only when libopenblas0-pthread (or
another OpenBLAS flavour) is installed; with the reference BLAS every product is ~10x slower
and the comparison would be meaningless, so the script says so loudly (and exits non-zero
unless --allow-reference-blas is given).

Threads: --threads sets torch.set_num_threads (intra-op threads); --blas-threads sets
OPENBLAS_NUM_THREADS before torch loads (default: OpenBLAS's own default, all cores). On a small
machine the fastest honest configuration depends on the shape (torch's threads and OpenBLAS's
threads can oversubscribe the cores), so benchmarks/compare.sh runs several and compares with the
fastest per shape; each row records its configuration under "config".

Run with Debian's python (it has torch): /usr/bin/python3 benchmarks/torch_anchor.py --threads 2
"""
import argparse
import json
import os
import statistics
import sys
import time

torch = None  # imported in main(), after OPENBLAS_NUM_THREADS is set

CONFIG = ""
DEFAULT_SHAPES = [(100, 1, 256, 256, 1), (100, 32, 256, 256, 1), (100, 64, 512, 512, 1), (50, 16, 128, 128, 2)]


def parse_shape(text):
    parts = text.split(",")
    if len(parts) != 5 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"shape must be T,B,I,H,L (five positive integers), got '{text}'")
    return tuple(int(p) for p in parts)


def forward_flops(t, b, i, h, layers):
    total = 0.0
    for k in range(layers):
        inputs = i if k == 0 else h
        total += 2.0 * t * b * 4 * h * (inputs + h)
    return total


def loaded_blas_libraries():
    """The BLAS shared objects mapped into this process (Linux only)."""
    libs = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path)
                if "blas" in name or "lapack" in name or "mkl" in name:
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def check_blas(threads):
    """Returns (description, is_optimised). Times a 1024^2 matmul and inspects the loaded libraries."""
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    gflops = 2 * 1024 ** 3 / best / 1e9
    libs = loaded_blas_libraries()
    openblas = any("openblas" in lib for lib in libs)
    coretype = "unknown"
    try:
        import ctypes
        for lib in libs:
            if "openblas" in lib:
                handle = ctypes.CDLL(lib)
                handle.openblas_get_corename.restype = ctypes.c_char_p
                handle.openblas_get_config.restype = ctypes.c_char_p
                coretype = handle.openblas_get_corename().decode() + " (" + handle.openblas_get_config().decode() + ")"
                break
    except (OSError, AttributeError):
        pass
    # The reference BLAS reaches ~1-3 GFLOP/s on one core; OpenBLAS reaches tens per core.
    optimised = openblas and gflops > 8.0
    text = (f"BLAS: {', '.join(libs) or 'none found in /proc/self/maps'}; OpenBLAS kernel: {coretype}; "
            f"1024x1024 sgemm {best * 1e3:.1f} ms = {gflops:.1f} GFLOP/s")
    return text, optimised


def time_ms(fn, reps, warmup):
    """The median, fastest and slowest of reps timed runs (ms), after warmup untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), min(times), max(times)


def bench_shape(shape, device, reps, warmup):
    t, b, i, h, layers = shape
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(i, h, num_layers=layers).to(device)
    x = torch.randn(t, b, i, device=device)
    dy = torch.randn(t, b, h, device=device)

    def forward():
        with torch.no_grad():
            y, _ = lstm(x)
        return y

    x_train = x.clone().requires_grad_(True)

    def train():
        lstm.zero_grad(set_to_none=True)
        y, _ = lstm(x_train)
        y.backward(dy)
        return x_train.grad

    fwd, fwd_min, fwd_max = time_ms(forward, reps, warmup)
    trn, trn_min, trn_max = time_ms(train, reps, warmup)
    flops = forward_flops(t, b, i, h, layers)
    return {"device": "torch-" + device, "config": CONFIG, "T": t, "B": b, "I": i, "H": h, "L": layers,
            "forward_ms": fwd, "train_ms": trn,
            "forward_gflops": flops / (fwd * 1e-3) / 1e9, "train_gflops": 3 * flops / (trn * 1e-3) / 1e9,
            "forward_ms_min": fwd_min, "forward_ms_max": fwd_max, "train_ms_min": trn_min, "train_ms_max": trn_max,
            "reps": reps}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", type=parse_shape, help="T,B,I,H,L (repeatable)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads")
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions (median reported)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--blas-threads", type=int, help="OPENBLAS_NUM_THREADS (set before torch loads)")
    parser.add_argument("--allow-reference-blas", action="store_true",
                        help="time anyway when torch is not using OpenBLAS")
    args = parser.parse_args()
    if args.blas_threads is not None:
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)
    global torch, CONFIG
    import torch as torch_module
    torch = torch_module
    torch.set_num_threads(args.threads)
    CONFIG = (f"torch threads {args.threads}, OpenBLAS threads "
              f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")

    blas, optimised = check_blas(args.threads)
    print(f"torch {torch.__version__}, {CONFIG}; {blas}", file=sys.stderr)
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}", file=sys.stderr)
    if not optimised:
        print("!" * 78 + "\n!! torch is NOT using an optimised OpenBLAS (reference BLAS or too slow).\n"
              "!! Its numbers would be ~10x too slow and the comparison meaningless.\n"
              "!! Install libopenblas0-pthread (apt-get install libopenblas0-pthread).\n" + "!" * 78,
              file=sys.stderr)
        if not args.allow_reference_blas:
            sys.exit(2)

    devices = []
    if args.device in ("cpu", "all"):
        devices.append("cpu")
    if args.device in ("cuda", "all"):
        if torch.cuda.is_available():
            devices.append("cuda")
        elif args.device == "cuda":
            print("error: torch sees no CUDA device", file=sys.stderr)
            sys.exit(1)
    results = []
    for device in devices:
        for shape in args.shape or DEFAULT_SHAPES:
            row = bench_shape(shape, device, args.reps, args.warmup)
            results.append(row)
            print(f"{row['device']:<11} T={row['T']:<4} B={row['B']:<3} I={row['I']:<4} H={row['H']:<4} "
                  f"L={row['L']}  forward {row['forward_ms']:9.2f} ms ({row['forward_ms_min']:.2f}-"
                  f"{row['forward_ms_max']:.2f}) {row['forward_gflops']:7.2f} GFLOP/s   "
                  f"train {row['train_ms']:9.2f} ms ({row['train_ms_min']:.2f}-{row['train_ms_max']:.2f}) "
                  f"{row['train_gflops']:7.2f} GFLOP/s", file=sys.stderr)
    text = json.dumps(results, indent=2)
    if args.json:
        with open(args.json, "w") as out:
            out.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
