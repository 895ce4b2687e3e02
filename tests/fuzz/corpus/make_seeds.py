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


# ---- the targets over what users feed the command (issue 34) -------------------------------
def seed(folder, name, content):
    os.makedirs(os.path.join(out, folder), exist_ok=True)
    with open(os.path.join(out, folder, name), "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode())


# load_rnn: PyTorch-layout models (gpurnn run --weights), the escaped names and a stray layer.
def torch_layout(name, cell, gates, hidden, inputs, layers=1, extra=()):
    tensors = []
    for layer in range(layers):
        width = inputs if layer == 0 else hidden
        for t, shape in (("weight_ih", [gates * hidden, width]), ("weight_hh", [gates * hidden, hidden]),
                         ("bias_ih", [gates * hidden]), ("bias_hh", [gates * hidden])):
            values = np.linspace(-0.5, 0.5, int(np.prod(shape)), dtype="<f4")
            tensors.append((f"{t}_l{layer}", "F32", shape, values.tobytes()))
    tensors += list(extra)
    safetensors(name, tensors, metadata={"cell": cell, "format": "pt"})
    os.makedirs(os.path.join(out, "load_rnn"), exist_ok=True)
    os.replace(os.path.join(out, "safetensors", name), os.path.join(out, "load_rnn", name))


torch_layout("lstm_2x3.safetensors", "lstm", 4, 3, 2)
torch_layout("gru_2layers.safetensors", "gru", 3, 2, 2, layers=2)
torch_layout("rnn_tanh.safetensors", "rnn_tanh", 1, 3, 1)
torch_layout("stray_layer.safetensors", "lstm", 4, 2, 2,
             extra=[("weight_ih_l5", "F32", [8, 2], np.zeros(16, dtype="<f4").tobytes())])
torch_layout("escaped_name.safetensors", "gru", 3, 2, 1,
             extra=[("\x1b[2J\x1b[31mEVIL\x1b]0;owned\x07", "F32", [1], np.zeros(1, dtype="<f4").tobytes())])

# csv_column: the column "value"; a byte-order mark, a column named twice, an unterminated quote,
# binary names and cells, quoted fields, non-finite and overflowing cells.
for name, text in {
    "plain.csv": "time,value\n1,2.5\n2,-3e2\n",
    "bom.csv": "\ufeffvalue\n1\n2\n",
    "twice.csv": "value,value\n1,2\n",
    "open_quote.csv": "time,value\n1,\"2\n3,4\n",
    "quoted.csv": "\"a, b\",\"value\"\r\n\"1\",\" 2.5 \"\r\n\r\n3,4\r\n",
    "binary.csv": "\x1b]0;owned\x07,\xff\xfe,value\n1,2,3\n",
    "nonfinite.csv": "value\nnan\ninf\n1e999\n-nan\n",
    "short_row.csv": "a,value\n1\n",
}.items():
    seed("csv_column", name, text.encode("utf-8", "surrogateescape") if "\xff" not in text else
         text.encode("latin-1"))

# decode_line: byte 0 picks the task (0 sort, 1 convex-hull, 2 tsp, 3 translate); the issue's
# non-finite numbers, which once decoded to "order: 0 0 0" and "tour: 0 0 0 0 0".
for name, task, line in [
    ("sort.txt", 0, "0.5 0.2 0.9"), ("sort_nan.txt", 0, "nan 0.2 0.3"), ("sort_inf.txt", 0, "inf -inf 0.1"),
    ("sort_big.txt", 0, "1e39 1e999 -nan"), ("hull.txt", 1, "0.1 0.2 0.5 0.9 0.8 0.1 0.4 0.4"),
    ("hull_nan.txt", 1, "0.1 nan 0.5 0.9"), ("tsp.txt", 2, "0.1 0.2 0.5 0.9 0.8 0.1 0.4 0.4 0.3 0.7"),
    ("tsp_inf.txt", 2, "0.1 0.2 inf 0.9 0.8 0.1"), ("translate.txt", 3, "four thousand two"),
    ("translate_odd.txt", 3, "\x1b[2J twelve  \t"),
]:
    seed("decode_line", name, bytes([task]) + line.encode())


# run_inputs: byte 0 picks the input (0 --input x [T,B,2], 1 --lengths [3], 2 --h0 and 3 --c0
# [2,3,3]), the rest is the .npy file; wrong shapes and out-of-range lengths among them.
def npy_bytes(array):
    import io
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


for name, role, array in [
    ("x.npy", 0, np.ones((4, 3, 2), dtype="<f4")), ("x_f64_nan.npy", 0, np.full((2, 3, 2), np.nan)),
    ("lengths.npy", 1, np.array([4, 1, 3], dtype="<i4")), ("lengths_zero.npy", 1, np.array([0, 1, 3], dtype="<i4")),
    ("lengths_i64_big.npy", 1, np.array([1, 2**40, 3], dtype="<i8")), ("lengths_f32.npy", 1, np.ones(3, dtype="<f4")),
    ("h0.npy", 2, np.zeros((2, 3, 3), dtype="<f4")), ("h0_wrong_batch.npy", 2, np.zeros((2, 4, 3), dtype="<f4")),
    ("c0.npy", 3, np.zeros((2, 3, 3), dtype="<f8")), ("c0_rank2.npy", 3, np.zeros((6, 3), dtype="<f4")),
]:
    seed("run_inputs", name, bytes([role]) + npy_bytes(array))

# checkpoint: tiny adding (sequence model, carried state) and sort (encoder-decoder) checkpoints
# are written by the command itself (committed beside this script: make them with
#   gpurnn train adding --progress none --steps 2 --hidden 4 --batch 2 --seq-len 6 --save adding.safetensors
#   gpurnn train sort --progress none --steps 1 --hidden 4 --batch 2 --points 3 --eval-examples 2 --save sort.safetensors
# ); the tampered variants are derived from the adding one here when it is present.
adding = os.path.join(out, "checkpoint", "adding.safetensors")
if os.path.exists(adding):
    with open(adding, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8:8 + n]), raw[8 + n:]

    def fnv1a64(data):
        h = 0xcbf29ce484222325
        for byte in data:
            h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
        return "fnv1a64:%016x" % h

    def rewrite(name, change, new_data=None):
        """The adding checkpoint with its header changed (and its data, the checksum kept right)."""
        h = json.loads(json.dumps(header))
        change(h)
        body = data if new_data is None else new_data
        if new_data is not None:
            h["__metadata__"]["checksum"] = fnv1a64(body)
        text = json.dumps(h, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        seed("checkpoint", name, struct.pack("<Q", len(text)) + text + body)

    def entry(h, key, begin, end, shape):
        h[key] = dict(h["model.rnn.weight_ih_l0"], shape=shape, data_offsets=[begin, end])

    rewrite("seed_negative.safetensors", lambda h: h["__metadata__"].update(seed="-1"))
    rewrite("step_text.safetensors", lambda h: h["__metadata__"].update(step="1e3"))
    rewrite("version_9.safetensors", lambda h: h["__metadata__"].update(format_version="9"))
    # A missing state.c (state.c is stored last) and a stray layer, each with a checksum that fits.
    c_begin = header["state.c"]["data_offsets"][0]
    rewrite("no_state_c.safetensors", lambda h: h.pop("state.c"), data[:c_begin])
    rewrite("stray_layer.safetensors", lambda h: entry(h, "model.rnn.weight_ih_l5", len(data), len(data) + 128, [16, 2]),
            data + data[:128])
    # A carried state of the wrong batch (3 rows where the task has 2).
    rewrite("state_batch_3.safetensors",
            lambda h: (entry(h, "state.h", c_begin - 32, c_begin + 16, [1, 3, 4]),
                       entry(h, "state.c", c_begin + 16, c_begin + 64, [1, 3, 4])),
            data[:c_begin - 32] + bytes(96))
    # One flipped data byte: the checksum refuses it.
    flipped = bytearray(raw)
    flipped[-1] ^= 0x40
    seed("checkpoint", "flipped_data.safetensors", bytes(flipped))
