"""Minimal safetensors reader/writer for the jlstm tools; no `safetensors` package needed.

Format: 8-byte little-endian header length N, N bytes of JSON (padded with spaces to a multiple of 8),
then the raw little-endian data; data_offsets are relative to the start of the data.

write()        stores every array as F32 (the interchange files of `jlstm run`).
write_typed()  keeps each tensor's dtype (F16, BF16, F32, F64, I64, ...), as safetensors.torch.save_file
               does: numpy arrays or torch tensors (torch is imported only when a tensor is given, for BF16).
read()         returns float32 arrays for F32 files; read(path, convert=True) converts F16/BF16/F64 to
               float32 too and returns integer tensors as int64.
"""
import json
import struct

import numpy as np

# safetensors dtype name -> (numpy dtype of the raw little-endian values, bytes per element)
_NUMPY = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "U8": "u1", "I16": "<i2", "U16": "<u2",
          "I32": "<i4", "U32": "<u4", "I64": "<i8", "U64": "<u8", "BOOL": "?", "BF16": "<u2"}


def _header_and_blobs(items, metadata):
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, dtype, shape, data in items:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return text, blobs


def _write(path, items, metadata):
    text, blobs = _header_and_blobs(items, metadata)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write(path, tensors, metadata=None):
    """tensors: dict name -> numpy array (stored as float32, in dict order)."""
    items = []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        items.append((name, "F32", np.shape(array), data))
    _write(path, items, metadata)


def _typed_item(name, value):
    """(name, safetensors dtype, shape, bytes) of a numpy array or torch tensor, keeping its dtype."""
    if not isinstance(value, np.ndarray):  # a torch tensor
        import torch
        t = value.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            # numpy has no bfloat16: the raw 16-bit patterns, little-endian
            return name, "BF16", tuple(t.shape), t.view(torch.int16).numpy().astype("<i2").tobytes()
        value = t.numpy()
    names = {np.dtype("float16"): "F16", np.dtype("float32"): "F32", np.dtype("float64"): "F64",
             np.dtype("int8"): "I8", np.dtype("uint8"): "U8", np.dtype("int16"): "I16", np.dtype("uint16"): "U16",
             np.dtype("int32"): "I32", np.dtype("uint32"): "U32", np.dtype("int64"): "I64",
             np.dtype("uint64"): "U64", np.dtype("bool"): "BOOL"}
    dtype = names[value.dtype]
    return name, dtype, value.shape, np.ascontiguousarray(value, dtype=_NUMPY[dtype]).tobytes()


def write_typed(path, tensors, metadata=None):
    """tensors: dict name -> numpy array or torch tensor; each keeps its dtype (BF16 needs torch)."""
    _write(path, [_typed_item(name, value) for name, value in tensors.items()], metadata)


def read(path, convert=False):
    """Returns (dict name -> numpy array, metadata dict).

    convert=False: F32 only (anything else is an error). convert=True: F16, BF16 and F64 become float32
    (as jlstm converts them), integer and bool tensors keep their values as int64.
    """
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, h in header.items():
        dtype = h["dtype"]
        begin, end = h["data_offsets"]
        if dtype != "F32" and not convert:
            raise ValueError(f"{path}: tensor {name} has dtype {dtype}, only F32 is supported here")
        if dtype not in _NUMPY:
            raise ValueError(f"{path}: tensor {name} has dtype {dtype}, not supported here")
        values = np.frombuffer(data[begin:end], dtype=_NUMPY[dtype]).reshape(h["shape"])
        if dtype == "BF16":
            values = (values.astype(np.uint32) << 16).view(np.float32)
        elif dtype in ("F16", "F64", "F32"):
            values = values.astype(np.float32)
        else:
            values = values.astype(np.int64)
        out[name] = values.copy()
    return out, metadata
