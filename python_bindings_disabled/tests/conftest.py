"""Shared helpers of the gpurnn pytest suites.

Run from CTest (label "python"), which puts the built package on PYTHONPATH and the built
`gpurnn` command in GPURNN_CLI; or by hand after `pip install ./python_bindings_disabled`:
    /usr/bin/python3 -m pytest python_bindings_disabled/tests
"""
import json
import struct

import numpy as np
import pytest

import gpurnn

CELLS = ["lstm", "gru", "rnn_tanh", "rnn_relu", "rnn_sigmoid"]
TORCH_CELLS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]  # rnn_sigmoid is libgpurnn's own


def rel_err(a, b):
    """||a - b|| / ||b|| (||a - b|| when b is zero), in float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    den = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / (den if den > 0 else 1.0))


def small_rnn(cell="lstm", dtype="float32", seed=3, **kw):
    kw.setdefault("input_size", 5)
    kw.setdefault("hidden_size", 6)
    return gpurnn.RNN(cell, dtype=dtype, seed=seed, **kw)


def state_shapes(rnn, batch):
    """(h0 shape, c0 shape or None) of `rnn` for a batch."""
    states = rnn.num_layers * (2 if rnn.bidirectional else 1)
    h_out = rnn.proj_size or rnn.hidden_size
    c = (states, batch, rnn.hidden_size) if rnn.cell == "lstm" else None
    return (states, batch, h_out), c


# ---- safetensors by hand: checks gpurnn's files without gpurnn (no `safetensors` package) ----
_ST = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8"}


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(metadata)
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        code = {np.dtype(v): k for k, v in _ST.items()}[arr.dtype.newbyteorder("<")]
        data = arr.astype(_ST[code]).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def read_safetensors(path):
    """(tensors by name, metadata)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = blob[8 + n:]
    out = {}
    for name, rec in header.items():
        begin, end = rec["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=_ST[rec["dtype"]]).reshape(rec["shape"])
    return out, meta


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
