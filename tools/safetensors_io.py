"""Minimal safetensors reader/writer (F32, plus I64/I32 for lengths) for the jlstm tools; no `safetensors`
package needed.

Format: 8-byte little-endian header length N, N bytes of JSON (padded with spaces to a multiple of 8),
then the raw little-endian data; data_offsets are relative to the start of the data.
"""
import json
import struct

import numpy as np


_INTEGER_TYPES = {np.dtype("int64"): ("I64", "<i8"), np.dtype("int32"): ("I32", "<i4")}
_READ_TYPES = {"F32": "<f4", "I64": "<i8", "I32": "<i4"}


def write(path, tensors, metadata=None):
    """tensors: dict name -> numpy array, in dict order: int64 and int32 arrays are stored as I64 and I32,
    everything else as float32 (F32)."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, array in tensors.items():
        dtype, layout = _INTEGER_TYPES.get(np.asarray(array).dtype, ("F32", "<f4"))
        data = np.ascontiguousarray(array, dtype=layout).tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(array)), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read(path):
    """Returns (dict name -> numpy array: float32 for F32, int64/int32 for I64/I32, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, h in header.items():
        if h["dtype"] not in _READ_TYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {h['dtype']}, only F32, I64 and I32 are supported here")
        begin, end = h["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=_READ_TYPES[h["dtype"]]).reshape(h["shape"]).copy()
    return out, metadata
