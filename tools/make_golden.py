#!/usr/bin/python3
"""Writes golden LSTM cases computed by PyTorch's nn.LSTM, for the Java tests and for held-out checks.

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_golden.py [--out DIR] [--seed N]
(the defaults regenerate the committed cases in src/test/resources/golden).

Each case is a folder with
  meta.json               sizes and flags (batch_first tells `jlstm run` to pass --batch-first)
  model.safetensors       the state_dict, F32
  input.safetensors       x; optional h0, c0; optional dy, dhn, dcn (all F32); optional lengths [B]
                          (I64 or I32) and dropout_mask_l{k} [T, B, D*R] (F32)
  expected.safetensors    y, hn, cn; with dy also dx, dh0 (when h0 is given), dc0 (when c0 is
                          given) and grad.<parameter> for every parameter
which is exactly what `java -jar target/jlstm.jar run` reads and writes (ARCHITECTURE.md, "Interchange").

The families after `forward_only` cover what nn.LSTM does beyond plain padded batches:
  lengths     pack_padded_sequence(x, lengths, enforce_sorted=False) -> nn.LSTM -> pad_packed_sequence(
              total_length=T): y is zero past each length, hn/cn at each sequence's last step;
  proj_size   nn.LSTM(..., proj_size=P): weight_hr_l{k} [P, H], h0/hn/dh0 [L*D, B, P], y [T, B, D*P];
  dropout     nn.LSTM(..., dropout=p) in training mode from a fixed torch.manual_seed. PyTorch draws its
              masks internally; the generator replays the same draws layer by layer (one F.dropout per
              layer below the last, as nn.LSTM draws them), checks that the replay reproduces nn.LSTM's
              outputs, and stores the masks (0 or 1/(1-p)) as dropout_mask_l{k}, so jlstm can run the
              very same pass. Expected values and gradients are those of nn.LSTM itself.

Every parameter and input is drawn in float32 and then widened to float64, so the Java engine sees
the very same numbers that PyTorch used; PyTorch computes in float64 and the results are rounded
to float32 only when stored. The loss whose gradients are stored is
    sum(y * dy) + sum(hn * dhn) + sum(cn * dcn)        (missing dhn/dcn count as zeros),
so dy, dhn and dcn are the upstream gradients of y, hn and cn.

The shapes of each family are drawn from the seed too (within small ranges), so a new seed gives
cases of the same families that the code has never seen.
"""
import argparse
import json
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402  (same folder)

# Cases: name → a function of a random.Random giving the case's description. Sizes stay small so the
# committed files stay small (the 100+ step case uses H ≤ 8).
FAMILIES = {
    # T = 1 and B = 1: the smallest sequence; no initial state, no dhn/dcn.
    "t1_b1": lambda r: dict(T=1, B=1, I=r.randint(2, 5), H=r.randint(2, 5), L=1, bidirectional=False,
                            bias=True, batch_first=False, h0=False, c0=False, dy=True, dhn=False, dcn=False),
    # I ≠ H, with h0/c0 and dhn/dcn.
    "input_ne_hidden": lambda r: _distinct_sizes(r, dict(T=r.randint(3, 7), B=r.randint(2, 4), L=1,
                                                         bidirectional=False, bias=True, batch_first=False,
                                                         h0=True, c0=True, dy=True, dhn=True, dcn=True)),
    # 3 stacked layers, h0/c0 given, no dhn/dcn.
    "three_layers": lambda r: dict(T=r.randint(3, 6), B=r.randint(1, 3), I=r.randint(2, 6), H=r.randint(3, 6), L=3,
                                   bidirectional=False, bias=True, batch_first=False,
                                   h0=True, c0=True, dy=True, dhn=False, dcn=False),
    # Bidirectional, 2 layers, with everything.
    "bidirectional_2_layers": lambda r: dict(T=r.randint(3, 7), B=r.randint(2, 3), I=r.randint(2, 6),
                                             H=r.randint(3, 6), L=2, bidirectional=True, bias=True,
                                             batch_first=False, h0=True, c0=True, dy=True, dhn=True, dcn=True),
    # No bias parameters at all (bidirectional, 2 layers), zero initial state.
    "no_bias": lambda r: dict(T=r.randint(3, 6), B=r.randint(1, 3), I=r.randint(2, 5), H=r.randint(3, 5), L=2,
                              bidirectional=True, bias=False, batch_first=False,
                              h0=False, c0=False, dy=True, dhn=False, dcn=True),
    # Only h0 given (c0 zeros and not an input, so no dc0 is expected); only dhn given.
    "h0_without_c0": lambda r: dict(T=r.randint(3, 6), B=r.randint(1, 3), I=r.randint(2, 5), H=r.randint(3, 5),
                                    L=1, bidirectional=False, bias=True, batch_first=False,
                                    h0=True, c0=False, dy=True, dhn=True, dcn=False),
    # A long sequence (100+ steps): errors accumulating through time would show here.
    "long_sequence": lambda r: dict(T=r.randint(100, 130), B=2, I=r.randint(2, 4), H=8, L=1, bidirectional=False,
                                    bias=True, batch_first=False, h0=True, c0=True, dy=True, dhn=True, dcn=True),
    # Batch-first input and output ([B, T, ·]), 2 bidirectional layers; T ≠ B so that a swapped
    # layout cannot pass by accident.
    "batch_first": lambda r: dict(T=r.randint(5, 7), B=r.randint(2, 4), I=r.randint(2, 5), H=r.randint(3, 5), L=2,
                                  bidirectional=True, bias=True, batch_first=True,
                                  h0=True, c0=True, dy=True, dhn=True, dcn=True),
    # Inference only: no dy, so only y, hn and cn are expected.
    "forward_only": lambda r: dict(T=r.randint(3, 8), B=r.randint(1, 4), I=r.randint(2, 6), H=r.randint(2, 6), L=2,
                                   bidirectional=True, bias=True, batch_first=False,
                                   h0=True, c0=True, dy=False, dhn=False, dcn=False),
    # --- beyond padded batches (keys lengths / lengths_dtype, proj_size, dropout; see the docstring) ---
    # Lengths (I64), one layer, with everything; one sequence of length 1 and one of length T.
    "lengths": lambda r: _lengths(r, dict(T=r.randint(5, 7), B=r.randint(4, 5), I=r.randint(2, 5), H=r.randint(3, 5),
                                          L=1, bidirectional=False, bias=True, batch_first=False,
                                          h0=True, c0=True, dy=True, dhn=True, dcn=True), "I64", full=True),
    # Lengths (I32), bidirectional, 2 layers, every length below T (the tail of y is all padding).
    "lengths_bidirectional_2_layers": lambda r: _lengths(r, dict(T=r.randint(5, 7), B=r.randint(3, 5),
                                                                 I=r.randint(2, 5), H=r.randint(3, 5), L=2,
                                                                 bidirectional=True, bias=True, batch_first=False,
                                                                 h0=True, c0=True, dy=True, dhn=True, dcn=True),
                                                         "I32", full=False),
    # Lengths with batch-first tensors, bidirectional, zero initial state, only dhn.
    "lengths_batch_first": lambda r: _lengths(r, dict(T=r.randint(5, 7), B=r.randint(3, 4), I=r.randint(2, 5),
                                                      H=r.randint(3, 5), L=1, bidirectional=True, bias=True,
                                                      batch_first=True, h0=False, c0=False, dy=True, dhn=True,
                                                      dcn=False), "I64", full=True),
    # Lengths in inference.
    "lengths_forward_only": lambda r: _lengths(r, dict(T=r.randint(4, 7), B=r.randint(3, 5), I=r.randint(2, 5),
                                                       H=r.randint(3, 5), L=2, bidirectional=True, bias=True,
                                                       batch_first=False, h0=True, c0=True, dy=False, dhn=False,
                                                       dcn=False), "I64", full=True),
    # Projections: bidirectional, 2 layers, with everything.
    "projection": lambda r: _projection(r, dict(T=r.randint(3, 6), B=r.randint(2, 3), I=r.randint(2, 5),
                                                H=r.randint(4, 6), L=2, bidirectional=True, bias=True,
                                                batch_first=False, h0=True, c0=True, dy=True, dhn=True, dcn=True)),
    # Projections, 3 layers, no bias, only h0 and dcn.
    "projection_3_layers_no_bias": lambda r: _projection(r, dict(T=r.randint(3, 6), B=r.randint(1, 3),
                                                                 I=r.randint(2, 5), H=r.randint(4, 6), L=3,
                                                                 bidirectional=False, bias=False, batch_first=False,
                                                                 h0=True, c0=False, dy=True, dhn=False, dcn=True)),
    # Dropout 0.5 between 3 layers, with everything.
    "dropout": lambda r: dict(T=r.randint(4, 6), B=r.randint(2, 4), I=r.randint(2, 5), H=r.randint(3, 6), L=3,
                              bidirectional=False, bias=True, batch_first=False,
                              h0=True, c0=True, dy=True, dhn=True, dcn=True, dropout=0.5),
    # Dropout 0.2, bidirectional, 2 layers, batch-first.
    "dropout_bidirectional": lambda r: dict(T=r.randint(4, 6), B=r.randint(2, 4), I=r.randint(2, 5),
                                            H=r.randint(3, 5), L=2, bidirectional=True, bias=True, batch_first=True,
                                            h0=True, c0=True, dy=True, dhn=True, dcn=True, dropout=0.2),
    # All three at once: lengths, projection and dropout, bidirectional, 2 layers.
    "lengths_projection_dropout": lambda r: _projection(r, _lengths(r, dict(
        T=r.randint(5, 7), B=r.randint(3, 5), I=r.randint(2, 5), H=r.randint(4, 6), L=2, bidirectional=True,
        bias=True, batch_first=False, h0=True, c0=True, dy=True, dhn=True, dcn=True, dropout=0.5), "I64", full=True)),
}

# Families whose cases need features beyond padded batches, by the meta key that marks them.
FEATURE_KEYS = ("lengths", "proj_size", "dropout")


def _lengths(r, case, dtype, full):
    """Adds lengths in [1, T] (one of them 1; one of them T when full, else all below T), unsorted."""
    t, b = case["T"], case["B"]
    top = t if full else t - 1
    lengths = [r.randint(1, top) for _ in range(b)]
    lengths[r.randrange(b)] = 1
    if full:
        lengths[(lengths.index(1) + 1) % b] = t
    case.update(lengths=lengths, lengths_dtype=dtype)
    return case


def _projection(r, case):
    case.update(proj_size=r.randint(1, case["H"] - 1))
    return case


def _distinct_sizes(r, case):
    i = r.randint(2, 8)
    h = r.choice([v for v in range(2, 8) if v != i])
    case.update(I=i, H=h)
    return case


# --- safetensors (tools/safetensors_io.py; Debian has no python safetensors module) ---------------

def write_safetensors(path, tensors, metadata=None):
    """Writes name → tensor as safetensors: integer tensors as they are (I64/I32), the rest as F32."""
    safetensors_io.write_typed(path, {k: (t if not t.is_floating_point() else t.detach().to(torch.float32))
                                      .contiguous().numpy() for k, t in tensors.items()}, metadata)


def read_safetensors(path):
    """name → float64 tensor of the F32 tensors of a safetensors file (integer tensors as they are)."""
    arrays, _ = safetensors_io.read(path, convert=True)
    return {k: torch.from_numpy(v.astype("float64") if v.dtype.kind == "f" else v) for k, v in arrays.items()}


# --- one case -------------------------------------------------------------------------------------

def float32_exact(t):
    """A float64 tensor holding float32 values exactly (drawn in float32, then widened)."""
    return t.to(torch.float32).to(torch.float64)


def make_case(spec, generator):
    T, B, I, H, L = spec["T"], spec["B"], spec["I"], spec["H"], spec["L"]
    D = 2 if spec["bidirectional"] else 1
    P = spec.get("proj_size", 0)
    R = P if P > 0 else H  # size of h: the projection's, else H
    p = spec.get("dropout", 0.0)
    batch_first = spec["batch_first"]
    lstm = torch.nn.LSTM(I, H, num_layers=L, bias=spec["bias"], batch_first=batch_first,
                         bidirectional=spec["bidirectional"], proj_size=P, dropout=p).to(torch.float64)
    lstm.train()  # dropout acts in training mode only
    bound = 1.0 / H ** 0.5  # PyTorch's default initialisation range
    with torch.no_grad():
        for param in lstm.parameters():
            param.copy_(float32_exact((torch.rand(param.shape, generator=generator, dtype=torch.float32) * 2 - 1)
                                      * bound))

    def normal(*shape, scale=1.0):
        return float32_exact(torch.randn(*shape, generator=generator, dtype=torch.float32) * scale)

    x_shape = (B, T, I) if batch_first else (T, B, I)
    y_shape = (B, T, D * R) if batch_first else (T, B, D * R)
    h_shape = (L * D, B, R)
    c_shape = (L * D, B, H)
    inputs = {"x": normal(*x_shape).requires_grad_(True)}
    if spec["h0"]:
        inputs["h0"] = normal(*h_shape, scale=0.5).requires_grad_(True)
    if spec["c0"]:
        inputs["c0"] = normal(*c_shape, scale=0.5).requires_grad_(True)
    if spec["dy"]:
        inputs["dy"] = normal(*y_shape)
        if spec["dhn"]:
            inputs["dhn"] = normal(*h_shape)
        if spec["dcn"]:
            inputs["dcn"] = normal(*c_shape)
    lengths = None
    if "lengths" in spec:
        lengths = torch.tensor(spec["lengths"], dtype=torch.int64)

    state = None
    if spec["h0"] or spec["c0"]:
        state = (inputs.get("h0", torch.zeros(h_shape, dtype=torch.float64)),
                 inputs.get("c0", torch.zeros(c_shape, dtype=torch.float64)))
    seed = generator.initial_seed()
    torch.manual_seed(seed)  # dropout draws from the global generator
    y, (hn, cn) = run_lstm(lstm, inputs["x"], state, lengths, T, batch_first)
    expected = {"y": y, "hn": hn, "cn": cn}
    if p > 0:
        masks = replay_dropout_masks(lstm, inputs["x"], state, lengths, T, batch_first, p, seed, (y, hn, cn))
        for k, mask in enumerate(masks):
            inputs[f"dropout_mask_l{k}"] = mask
    if lengths is not None:
        inputs["lengths"] = lengths.to(torch.int32 if spec["lengths_dtype"] == "I32" else torch.int64)

    if spec["dy"]:
        loss = (y * inputs["dy"]).sum()
        if "dhn" in inputs:
            loss = loss + (hn * inputs["dhn"]).sum()
        if "dcn" in inputs:
            loss = loss + (cn * inputs["dcn"]).sum()
        loss.backward()
        expected["dx"] = inputs["x"].grad
        if "h0" in inputs:
            expected["dh0"] = inputs["h0"].grad
        if "c0" in inputs:
            expected["dc0"] = inputs["c0"].grad
        for name, param in lstm.named_parameters():
            expected["grad." + name] = param.grad

    model = {name: param.detach() for name, param in lstm.state_dict().items()}
    return model, {k: v.detach() for k, v in inputs.items()}, {k: v.detach() for k, v in expected.items()}


def run_lstm(lstm, x, state, lengths, total_length, batch_first):
    """nn.LSTM on padded x, or on x packed by lengths (then y is padded back to total_length with zeros)."""
    if lengths is None:
        return lstm(x, state)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    out, (hn, cn) = lstm(packed, state)
    y, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=total_length)
    return y, (hn, cn)


def replay_dropout_masks(lstm, x, state, lengths, total_length, batch_first, p, seed, reference):
    """The dropout masks nn.LSTM drew in the forward pass just made from torch.manual_seed(seed).

    Replays that pass layer by layer with one-layer LSTMs holding the same weights, drawing each mask
    with F.dropout in the order nn.LSTM draws them (one per layer below the last, on the packed data
    when the input is packed), and checks that the replay reproduces y, hn and cn,
    which shows that these are PyTorch's masks and that dropout acts where jlstm applies it. Returns
    L - 1 masks [T, B, D*R] (batch-first: [B, T, D*R]), zero at padded steps."""
    from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
    L, D = lstm.num_layers, 2 if lstm.bidirectional else 1
    R = lstm.proj_size if lstm.proj_size > 0 else lstm.hidden_size
    layers = []  # made before seeding: their initialisation draws from the global generator too
    for k in range(L):
        one = torch.nn.LSTM(lstm.input_size if k == 0 else D * R, lstm.hidden_size, num_layers=1, bias=lstm.bias,
                            batch_first=batch_first, bidirectional=lstm.bidirectional,
                            proj_size=lstm.proj_size).to(torch.float64)
        with torch.no_grad():
            for name, param in one.named_parameters():
                param.copy_(getattr(lstm, name.replace("_l0", f"_l{k}")))
        layers.append(one)
    torch.manual_seed(seed)
    masks, hns, cns = [], [], []
    with torch.no_grad():
        layer_in = x if lengths is None else pack_padded_sequence(x, lengths, batch_first=batch_first,
                                                                  enforce_sorted=False)
        for k, one in enumerate(layers):
            sub_state = None if state is None else tuple(s[k * D:(k + 1) * D] for s in state)
            out, (hn, cn) = one(layer_in, sub_state)
            hns.append(hn)
            cns.append(cn)
            if k == L - 1:
                break
            data = out.data if lengths is not None else out
            # F.dropout draws the mask as nn.LSTM's internal dropout does (checked below); on ones it
            # returns the mask itself: 0 or 1/(1-p). nn.LSTM works time-major inside, so a batch-first
            # mask is drawn [T, B, .] and transposed.
            if lengths is None and batch_first:
                shape = (data.shape[1], data.shape[0], data.shape[2])
                noise = torch.nn.functional.dropout(torch.ones(shape, dtype=data.dtype), p, True).transpose(0, 1)
            else:
                noise = torch.nn.functional.dropout(torch.ones(data.shape, dtype=data.dtype), p, True)
            if lengths is None:
                masks.append(noise)
                layer_in = out * noise
            else:
                masks.append(pad_packed_sequence(PackedSequence(noise, out.batch_sizes, out.sorted_indices,
                                                                out.unsorted_indices),
                                                 batch_first=batch_first, total_length=total_length)[0])
                layer_in = PackedSequence(data * noise, out.batch_sizes, out.sorted_indices, out.unsorted_indices)
        y = out if lengths is None else pad_packed_sequence(out, batch_first=batch_first,
                                                            total_length=total_length)[0]
        for name, got, want in (("y", y, reference[0]), ("hn", torch.cat(hns), reference[1]),
                                ("cn", torch.cat(cns), reference[2])):
            if not torch.allclose(got, want.detach(), rtol=0, atol=1e-12):
                raise AssertionError(f"replaying nn.LSTM's dropout draws does not reproduce its {name}: "
                                     "the masks would not be PyTorch's")
    return masks


def generate(out_dir, seed):
    """Writes every family for a seed into out_dir; returns case name → (meta, float64 expected tensors)."""
    os.makedirs(out_dir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    cases = {}
    for index, (name, family) in enumerate(FAMILIES.items()):
        shapes = random.Random(f"{seed}/{name}")  # string seeds hash deterministically (not hash())
        spec = family(shapes)
        generator = torch.Generator().manual_seed(seed * 1000 + index)
        model, inputs, expected = make_case(spec, generator)
        case_dir = os.path.join(out_dir, name)
        os.makedirs(case_dir, exist_ok=True)
        meta = {"case": name, "seed": seed, "torch": torch.__version__, **spec}
        with open(os.path.join(case_dir, "meta.json"), "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
            f.write("\n")
        producer = {"producer": "tools/make_golden.py", "seed": str(seed)}
        write_safetensors(os.path.join(case_dir, "model.safetensors"), model, {"format": "pt", **producer})
        write_safetensors(os.path.join(case_dir, "input.safetensors"), inputs, producer)
        write_safetensors(os.path.join(case_dir, "expected.safetensors"), expected, producer)
        cases[name] = (meta, expected)
    return cases


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "src", "test", "resources", "golden"),
                        help="folder to write the cases into (default: the committed golden cases)")
    parser.add_argument("--seed", type=int, default=2024, help="seed of shapes and values (default 2024)")
    args = parser.parse_args(argv)
    for name in generate(args.out, args.seed):
        size = sum(os.path.getsize(os.path.join(args.out, name, f)) for f in os.listdir(os.path.join(args.out, name)))
        print(f"{name:30s} {size:7d} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
