"""Writes the fuzzers' seed corpora (tiny valid files; run once, commit the output):
   /usr/bin/python3 tests/fuzz/corpus/make_seeds.py tests/fuzz/corpus
safetensors files are built by hand (json + struct, as the Python package lays them out);
.npy files come from numpy."""
import json
import os
import struct
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(os.path.join(out, "safetensors"), exist_ok=True)
os.makedirs(os.path.join(out, "npy"), exist_ok=True)


def safetensors(name, tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes), laid out in order."""
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for tname, dtype, shape, raw in tensors:
        header[tname] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(out, "safetensors", name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


safetensors("empty.safetensors", [])
safetensors("f32.safetensors", [("w", "F32", [2, 2], np.arange(4, dtype="<f4").tobytes())])
safetensors("mixed.safetensors", [
    ("h", "F16", [3], np.array([1, -0.5, 65504], dtype="<f2").tobytes()),
    ("b", "BF16", [2], (np.array([1.0, -2.0], dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()),
    ("d", "F64", [], np.array(3.5, dtype="<f8").tobytes()),
    ("i", "I32", [1, 2], np.array([7, -7], dtype="<i4").tobytes()),
    ("l", "I64", [0, 3], b""),
    ("u", "U8", [2], b"\x01\x02"),
], metadata={"cell": "lstm", "format": "pt"})
# Every tensor empty, so the data section is empty (reading one once passed memcpy a null
# pointer: issue 34).
safetensors("all_empty.safetensors", [("a", "F32", [0, 4], b""), ("h", "F16", [0], b""),
                                      ("u", "U8", [0], b"")])

np.save(os.path.join(out, "npy", "f32_2x3.npy"), np.arange(6, dtype="<f4").reshape(2, 3))
np.save(os.path.join(out, "npy", "f64_scalar.npy"), np.array(2.5))
np.save(os.path.join(out, "npy", "i64_0x2.npy"), np.zeros((0, 2), dtype="<i8"))
with open(os.path.join(out, "npy", "i32_v2.npy"), "wb") as f:
    np.lib.format.write_array(f, np.array([1, 2, 3], dtype="<i4"), version=(2, 0))


def raw_safetensors(name, header_text):
    """A file whose header is `header_text` as given (for malformed headers)."""
    text = header_text.encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(out, "safetensors", name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)


# Nesting past the reader's depth limit (it once overflowed the stack), at the top, under
# __metadata__ and inside a tensor's shape.
raw_safetensors("deep_array.safetensors", "[" * 200 + "]" * 200)
raw_safetensors("deep_metadata.safetensors", '{"__metadata__":{"a":' + "[" * 100 + "]" * 100 + "}}")
raw_safetensors("deep_shape.safetensors",
                '{"w":{"dtype":"F32","shape":' + "[" * 100 + "]" * 100 + ',"data_offsets":[0,0]}}')
