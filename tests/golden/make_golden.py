#!/usr/bin/env python3
"""PyTorch golden files for libgpurnn, and the libgpurnn -> PyTorch round-trip check.

Needs NumPy and PyTorch (Debian 12: /usr/bin/python3 with python3-numpy and python3-torch); the
safetensors format is written and read by hand below (no `safetensors` package).
  generate [--out DIR]  write the fixtures (default DIR: tests/golden/data next to this script)
  check-roundtrip DIR   load the models libgpurnn saved in DIR into PyTorch, compare outputs
  check-half DIR        libgpurnn's bf16/f16 LSTMs in DIR load into torch.nn.LSTM(...).to(
                        torch.bfloat16 / torch.float16) bit for bit; then writes PyTorch's own
                        bf16/f16 state_dicts there for `roundtrip_writer --check-torch-half DIR`
  selftest              safetensors writer/reader round-trip and refusal of malformed files;
                        the committed fixtures parse; with PyTorch, check-roundtrip passes on
                        them and fails on a corrupted copy (this part is skipped without torch)
Exit codes: 0 ok, 1 failure, 2 usage, 77 "SKIPPED: ..." (PyTorch/NumPy not importable).

How the fixtures are made. For case k of CASES: torch.manual_seed(SEED + k); the module
(nn.RNN tanh/relu, nn.LSTM with or without proj_size, nn.GRU; I=5, H=6, proj 3, T=7, B=3 or 4)
is built in float32 with PyTorch's default initialisation; x ~ randn and, when given,
h0/c0 ~ 0.5*randn, in float32. The reference is a float64 copy of the module (its float32
weights cast exactly) run on the inputs cast to float64. Ragged cases (lengths with 1 and T,
unsorted) use pack_padded_sequence(enforce_sorted=False) and pad_packed_sequence(total_length=T):
y is zero past a length, hn/cn are each sequence's state after its last step. Gradient cases
(*_grad) draw dy, dhn, dcn ~ randn rounded to float32 and store the float64 gradients of
L = (y*dy).sum() + (hn*dhn).sum() [+ (cn*dcn).sum()] for x, h0, c0 and every parameter.
A float32 PyTorch run must agree with the reference within 2e-6 (so the fixtures are well
conditioned for libgpurnn's 1e-5 float32 check). Files per case, tensors and metadata:
tests/golden/README.md. rnn_sigmoid (a libgpurnn cell) does not exist in PyTorch: it has no
fixture, and check-roundtrip reports such a model as SKIP.
Regenerate: /usr/bin/python3 tests/golden/make_golden.py generate --out tests/golden/data
(the same PyTorch version gives bit-identical weights and inputs; the float64 references may
differ in the last bits with another BLAS).

check-roundtrip DIR: each <name>.model.safetensors (libgpurnn's save_rnn, metadata "cell") and
<name>.io.safetensors (x, optional lengths/h0/c0, libgpurnn's y, hn[, cn] in F32 or F64;
metadata batch_first, optional prefix) is loaded into the torch module its names and shapes
describe (load_state_dict(strict=True)) and run in float64: ||a-b||/||b|| < 1e-5 for y, hn, cn.
One line per model; exit 1 on any mismatch, or when DIR holds no model.

check-half DIR (issue 30: half weights cross between libgpurnn and PyTorch unchanged): for
lib_bf16 and lib_f16, <name>.model.safetensors (save_rnn of bf16 / f16 weights: every tensor
BF16 / F16) and <name>.f32.safetensors (the same weights widened to F32 by libgpurnn). The model
must load with load_state_dict(strict=True) into the module its shapes describe, converted with
.to(torch.bfloat16 / torch.float16), each parameter with the file's bit patterns and .float()
equal to the F32 file. Then torch_bf16 / torch_f16 are written: <name>.model.safetensors, the
state_dict of an LSTM(5, 7, 2 layers, bidirectional, proj 3) in that dtype (with a -0 and the
smallest subnormal in weight_ih_l0), no metadata, as safetensors.torch.save_file writes it; and
<name>.bits.safetensors, per parameter its bit patterns as I32 and "wide.<name>", its .float().
Exit 1 on any mismatch.
"""
import argparse
import contextlib
import copy
import json
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass
from typing import List, Optional

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print(f"SKIPPED: NumPy is not importable ({e})")
    sys.exit(77)

SEED = 20240601
I, H, P, T = 5, 6, 3, 7
ROUNDTRIP_TOL = 1e-5
CONDITIONING_TOL = 2e-6
DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

# ---- safetensors, by hand -------------------------------------------------------------------
# numpy has no bfloat16: a BF16 tensor is read as, and a uint16 array written as, its bit patterns
# (torch_from_array / array_from_torch turn them into torch.bfloat16 and back).
ST_DTYPES = {"F16": "<f2", "BF16": "<u2", "F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8",
             "U8": "u1"}
ST_NAMES = {np.dtype(v).str: k for k, v in ST_DTYPES.items()}
MAX_HEADER = 100_000_000


def encode_safetensors(tensors, metadata=None) -> bytes:
    """tensors: list of (name, array) written in that order, contiguous, no holes."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr)
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        if name in header or arr.dtype.str not in ST_NAMES:
            raise ValueError(f"tensor {name!r}: duplicate name or unsupported dtype {arr.dtype}")
        data = arr.tobytes()
        header[name] = {"dtype": ST_NAMES[arr.dtype.str], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # 8 + header length is a multiple of 8
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write_safetensors(path, tensors, metadata=None):
    data = encode_safetensors(tensors, metadata)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)  # mkstemp creates 0600
    os.replace(tmp, path)


def decode_safetensors(data: bytes, origin="<memory>"):
    """Returns ({name: array} in data-offset order, metadata); ValueError on a malformed file."""
    def bad(what):
        return ValueError(f"{origin}: {what}")
    if len(data) < 8:
        raise bad("shorter than the 8-byte header length")
    n = struct.unpack("<Q", data[:8])[0]
    if n > MAX_HEADER or 8 + n > len(data):
        raise bad(f"header length {n} exceeds the file or the cap")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f"header is not JSON ({e})")
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad("__metadata__ is not a map of strings")
    body, pos, out = data[8 + n:], 0, {}
    for name, rec in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        if rec.get("dtype") not in ST_DTYPES:
            raise bad(f"tensor {name!r}: unknown dtype {rec.get('dtype')!r}")
        dt, shape = np.dtype(ST_DTYPES[rec["dtype"]]), tuple(rec["shape"])
        begin, end = rec["data_offsets"]
        if begin != pos:
            raise bad(f"tensor {name!r}: starts at {begin}, expected {pos} (hole or overlap)")
        if end - begin != int(np.prod(shape, dtype=np.int64)) * dt.itemsize or end > len(body):
            raise bad(f"tensor {name!r}: byte range [{begin}, {end}) does not fit {rec}")
        out[name] = np.frombuffer(body[begin:end], dtype=dt).reshape(shape).copy()
        pos = end
    if pos != len(body):
        raise bad(f"{len(body) - pos} trailing bytes after the last tensor")
    return out, meta


def read_safetensors(path):
    with open(path, "rb") as f:
        return decode_safetensors(f.read(), path)


# ---- torch helpers --------------------------------------------------------------------------
def import_torch():
    try:
        import torch.nn.utils.rnn  # noqa: F401
        return torch
    except Exception as e:  # ImportError, or a broken install
        print(f"SKIPPED: PyTorch is not importable ({e})")
        sys.exit(77)


GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def make_module(torch, cell, input_size, hidden, layers, bidir, bias, proj, batch_first):
    kw = dict(input_size=input_size, hidden_size=hidden, num_layers=layers, bias=bias,
              batch_first=batch_first, bidirectional=bidir)
    if cell == "lstm":
        return torch.nn.LSTM(proj_size=proj, **kw)
    if cell == "gru":
        return torch.nn.GRU(**kw)
    if cell in ("rnn_tanh", "rnn_relu"):
        return torch.nn.RNN(nonlinearity=cell[4:], **kw)
    raise ValueError(f"cell {cell!r} has no PyTorch module")


def run_module(torch, rnn, x, lengths, h0, c0):
    """(y, hn, cn) as libgpurnn defines them; cn is None unless LSTM."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    bf, lstm = rnn.batch_first, isinstance(rnn, torch.nn.LSTM)
    steps = x.shape[1] if bf else x.shape[0]
    inp = x if lengths is None else pack_padded_sequence(
        x, torch.as_tensor(lengths, dtype=torch.int64), batch_first=bf, enforce_sorted=False)
    hx = None if h0 is None else ((h0, c0) if lstm else h0)
    out, h = rnn(inp, hx)
    if lengths is not None:
        out, _ = pad_packed_sequence(out, batch_first=bf, total_length=steps)
    return (out, h[0], h[1]) if lstm else (out, h, None)


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    nb = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / nb) if nb > 0 else float(np.linalg.norm(a - b))


# ---- generate -------------------------------------------------------------------------------
@dataclass
class Case:
    cell: str
    layers: int = 1
    bidir: bool = False
    bias: bool = True
    proj: int = 0
    lengths: Optional[List[int]] = None  # None: every sequence has T steps
    batch: int = 3
    state: bool = False                  # h0 (and c0) given
    batch_first: bool = False
    prefix: str = ""
    grad: bool = False

    @property
    def name(self):
        parts = [self.cell, f"L{self.layers}", "bi" if self.bidir else "",
                 f"proj{self.proj}" if self.proj else "", "" if self.bias else "nobias",
                 "ragged" if self.lengths else "", "h0" if self.state else "",
                 "bf" if self.batch_first else "", "prefix" if self.prefix else "",
                 "grad" if self.grad else ""]
        return "_".join(p for p in parts if p)


CASES = [
    Case("rnn_tanh"),
    Case("rnn_tanh", layers=2, bidir=True, bias=False, lengths=[3, 7, 1, 5], batch=4,
         batch_first=True),
    Case("rnn_relu", lengths=[2, 7, 1], state=True),
    Case("rnn_relu", layers=2, bidir=True, lengths=[5, 1, 7, 3], batch=4, state=True, grad=True),
    Case("lstm", state=True),
    Case("lstm", layers=2, bidir=True, lengths=[4, 7, 1, 6], batch=4, state=True, grad=True),
    Case("lstm", layers=2, bidir=True, proj=P, lengths=[6, 1, 7], state=True, grad=True),
    Case("lstm", proj=P, bias=False, lengths=[7, 3, 1], batch_first=True),
    Case("lstm", layers=2, lengths=[1, 5, 7, 2], batch=4),
    Case("gru", prefix="rnn."),
    Case("gru", layers=2, bidir=True, lengths=[3, 7, 1, 4], batch=4, state=True, grad=True),
    Case("gru", layers=2, bias=False, lengths=[7, 1, 4], state=True, batch_first=True),
]


def f32_randn(torch, *shape, scale=1.0):
    return (scale * torch.randn(*shape)).float()


def outputs_and_grads(torch, rnn, case, inputs, cot):
    """Runs `rnn` on inputs (x, h0, c0; None when absent): ({y, hn[, cn]}, {grad.*}) as NumPy,
    the gradients of L = sum over outputs of (output * cot[output]).sum() when cot is given."""
    leaves = [None if t is None else t.clone().requires_grad_(cot is not None) for t in inputs]
    y, hn, cn = run_module(torch, rnn, leaves[0], case.lengths, leaves[1], leaves[2])
    outs = {n: t for n, t in (("y", y), ("hn", hn), ("cn", cn)) if t is not None}
    grads = {}
    if cot is not None:
        rnn.zero_grad()
        sum((t * cot[n].to(t.dtype)).sum() for n, t in outs.items()).backward()
        grads = {"grad." + n: t.grad.numpy() for n, t in zip(("x", "h0", "c0"), leaves) if t is not None}
        grads.update({"grad." + n: p.grad.numpy() for n, p in rnn.named_parameters()})
    return {n: t.detach().numpy() for n, t in outs.items()}, grads


def generate_case(torch, index, case, out_dir):
    torch.manual_seed(SEED + index)
    rnn = make_module(torch, case.cell, I, H, case.layers, case.bidir, case.bias, case.proj,
                      case.batch_first)
    LD, B, h_out, lstm = case.layers * (2 if case.bidir else 1), case.batch, case.proj or H, case.cell == "lstm"
    x = f32_randn(torch, *((B, T, I) if case.batch_first else (T, B, I)))
    h0 = f32_randn(torch, LD, B, h_out, scale=0.5) if case.state else None
    c0 = f32_randn(torch, LD, B, H, scale=0.5) if case.state and lstm else None
    assert not case.grad or case.state, "gradient cases give h0"
    cot = None
    if case.grad:  # dy, dhn, dcn: float32 values, stored and used as float64
        y_feat = LD // case.layers * h_out
        shapes = {"y": (B, T, y_feat) if case.batch_first else (T, B, y_feat), "hn": (LD, B, h_out)}
        shapes.update({"cn": (LD, B, H)} if lstm else {})
        cot = {n: f32_randn(torch, *shape).double() for n, shape in shapes.items()}

    inputs = (x, h0, c0)
    outs, grads = outputs_and_grads(torch, copy.deepcopy(rnn).double(), case,
                                    [None if t is None else t.double() for t in inputs], cot)
    outs32, grads32 = outputs_and_grads(torch, rnn, case, inputs, cot)  # conditioning check
    worst = max(rel_err(outs32[k], outs[k]) for k in outs)
    worst = max([worst] + [rel_err(grads32[k], grads[k]) for k in grads])
    if worst > CONDITIONING_TOL:
        raise RuntimeError(f"{case.name}: float32 PyTorch is {worst:.2e} from float64; change the seed")

    io = [("x", x.numpy())] + ([("lengths", np.asarray(case.lengths, np.int32))] if case.lengths else [])
    io += [(n, t.numpy()) for n, t in (("h0", h0), ("c0", c0)) if t is not None]
    io += list(outs.items()) + [("d" + n, d.numpy()) for n, d in (cot or {}).items()] + list(grads.items())
    module = torch.nn.Module()
    module.rnn = rnn
    state = (module if case.prefix else rnn).state_dict()
    assert all(k.startswith(case.prefix) for k in state)
    write_safetensors(os.path.join(out_dir, case.name + ".model.safetensors"),
                      [(k, v.numpy()) for k, v in state.items()], {"cell": case.cell})
    meta = {"batch_first": int(case.batch_first), "prefix": case.prefix, "cell": case.cell,
            "input_size": I, "hidden_size": H, "num_layers": case.layers,
            "bidirectional": int(case.bidir), "bias": int(case.bias), "proj_size": case.proj,
            "seed": SEED + index, "torch_version": torch.__version__,
            "description": f"{case.name} ({case.cell}): {rnn!r}, T={T}, B={B}, lengths={case.lengths}, "
                           f"h0={'given' if case.state else 'zeros'}; PyTorch reference in float64"}
    write_safetensors(os.path.join(out_dir, case.name + ".io.safetensors"), io, meta)
    print(f"wrote {case.name:40s} float32-vs-float64 {worst:.1e}")


def cmd_generate(args):
    torch = import_torch()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    for index, case in enumerate(CASES):
        generate_case(torch, index, case, args.out)
    return 0


# ---- check-roundtrip ------------------------------------------------------------------------
def module_for_state(torch, state, cell, batch_first):
    """The module (float32, not loaded) whose state_dict `state` (names without prefix) is."""
    if "weight_ih_l0" not in state:
        raise ValueError("no weight_ih_l0")
    layers = sum(1 for k in state if k.startswith("weight_ih_l") and not k.endswith("_reverse"))
    w = state["weight_ih_l0"]
    proj = state["weight_hr_l0"].shape[0] if "weight_hr_l0" in state else 0
    return make_module(torch, cell, w.shape[1], w.shape[0] // GATES[cell], layers,
                       "weight_ih_l0_reverse" in state, "bias_ih_l0" in state, proj, batch_first)


def module_from_state(torch, state, cell, batch_first):
    """The module that `state` (names without prefix) is the state_dict of, loaded strictly."""
    rnn = module_for_state(torch, state, cell, batch_first).double()
    rnn.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in state.items()},
                        strict=True)
    return rnn


def check_one(torch, model_path, io_path):
    tensors, meta = read_safetensors(model_path)
    io, io_meta = read_safetensors(io_path)
    cell, prefix = meta.get("cell", "rnn_tanh"), io_meta.get("prefix", "")
    if cell not in GATES:
        return None, f"cell {cell} has no PyTorch equivalent"
    if not all(k.startswith(prefix) for k in tensors):
        raise ValueError(f"a tensor name lacks the prefix {prefix!r}")
    state = {k[len(prefix):]: v for k, v in tensors.items()}
    rnn = module_from_state(torch, state, cell, io_meta.get("batch_first", "0") == "1")
    get = lambda n: torch.from_numpy(io[n].astype(np.float64)) if n in io else None
    with torch.no_grad():
        y, hn, cn = run_module(torch, rnn, get("x"), io.get("lengths"), get("h0"), get("c0"))
    errs = {"y": rel_err(io["y"], y.numpy()), "hn": rel_err(io["hn"], hn.numpy())}
    if cn is not None:
        errs["cn"] = rel_err(io["cn"], cn.numpy())
    elif "cn" in io:
        raise ValueError("cn given for a cell without cell state")
    text = f"{cell} {rnn!r} " + " ".join(f"{k} {v:.1e}" for k, v in errs.items())
    return all(v < ROUNDTRIP_TOL for v in errs.values()), text


def check_roundtrip(torch, directory):
    files = os.listdir(directory) if os.path.isdir(directory) else []
    names = sorted(f[:-len(".model.safetensors")] for f in files if f.endswith(".model.safetensors"))
    if not names:
        print(f"FAIL no *.model.safetensors in {directory}")
        return 1
    failed = compared = 0
    for name in names:
        try:
            ok, text = check_one(torch, os.path.join(directory, name + ".model.safetensors"),
                                 os.path.join(directory, name + ".io.safetensors"))
        except Exception as e:
            ok, text = False, f"{type(e).__name__}: {e}"
        status = "SKIP" if ok is None else ("ok  " if ok else "FAIL")
        print(f"{status} {name}: {text}")
        failed += ok is False
        compared += ok is not None
    if compared == 0:
        print("FAIL no model could be compared")
        return 1
    print(f"{compared - failed}/{compared} models agree with PyTorch within {ROUNDTRIP_TOL:g}")
    return 1 if failed else 0


def cmd_check_roundtrip(args):
    return check_roundtrip(import_torch(), args.dir)


# ---- check-half -----------------------------------------------------------------------------
HALF_CASES = {"bf16": ("BF16", np.uint16), "f16": ("F16", np.float16)}  # name: stored, as read


def torch_from_array(torch, arr):
    """A torch tensor of `arr` as read_safetensors gives it (BF16 as uint16 bit patterns)."""
    if arr.dtype == np.uint16:
        return torch.from_numpy(arr.view(np.int16).copy()).view(torch.bfloat16)
    return torch.from_numpy(arr.copy())


def array_from_torch(torch, t):
    """What write_safetensors stores for `t`: a bfloat16 tensor as its uint16 bit patterns."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16).copy()
    return t.numpy().copy()


def bit_patterns(arr):
    return arr.view({2: np.uint16, 4: np.uint32}[arr.dtype.itemsize])


def check_lib_half(torch, directory, name, torch_dtype, read_as):
    """libgpurnn's half file into PyTorch: (ok, text)."""
    tensors, meta = read_safetensors(os.path.join(directory, name + ".model.safetensors"))
    wide, _ = read_safetensors(os.path.join(directory, name + ".f32.safetensors"))
    wrong = [k for k, v in tensors.items() if v.dtype != read_as]
    if wrong or not tensors:
        return False, f"tensors {wrong} are not stored as {read_as.__name__} (or the file is empty)"
    rnn = module_for_state(torch, tensors, meta.get("cell", "rnn_tanh"), False).to(torch_dtype)
    state = {k: torch_from_array(torch, v) for k, v in tensors.items()}
    # load_state_dict would convert any other dtype silently: the file's tensors must already be it.
    assert all(v.dtype == torch_dtype for v in state.values())
    rnn.load_state_dict(state, strict=True)
    for k, p in rnn.state_dict().items():
        if p.dtype != torch_dtype:
            return False, f"{k} is {p.dtype} after loading"
        if not np.array_equal(bit_patterns(array_from_torch(torch, p)), bit_patterns(tensors[k])):
            return False, f"{k}: the loaded bits differ from the file's"
        if not np.array_equal(bit_patterns(p.float().numpy()), bit_patterns(wide[k])):
            return False, f"{k}: PyTorch's .float() differs from libgpurnn's f32 widening"
    return True, f"{len(tensors)} tensors load into {rnn!r}.to({torch_dtype}) bit for bit"


def write_torch_half(torch, directory, name, torch_dtype, index):
    """PyTorch's half LSTM for roundtrip_writer --check-torch-half."""
    torch.manual_seed(SEED + 100 + index)
    rnn = torch.nn.LSTM(5, 7, num_layers=2, bidirectional=True, proj_size=3).to(torch_dtype)
    with torch.no_grad():  # a signed zero and the smallest subnormal must cross unchanged too
        rnn.weight_ih_l0[0, 0] = -0.0
        rnn.weight_ih_l0[0, 1] = torch.finfo(torch_dtype).tiny * torch.finfo(torch_dtype).eps
    state = rnn.state_dict()
    write_safetensors(os.path.join(directory, name + ".model.safetensors"),
                      [(k, array_from_torch(torch, v)) for k, v in state.items()])
    bits = [(k, bit_patterns(array_from_torch(torch, v)).astype(np.int32)) for k, v in state.items()]
    bits += [("wide." + k, v.float().numpy()) for k, v in state.items()]
    write_safetensors(os.path.join(directory, name + ".bits.safetensors"), bits)
    return f"wrote {len(state)} tensors of {rnn!r}.to({torch_dtype})"


def cmd_check_half(args):
    torch = import_torch()
    failed = 0
    for index, (short, (stored, read_as)) in enumerate(HALF_CASES.items()):
        torch_dtype = {"bf16": torch.bfloat16, "f16": torch.float16}[short]
        try:
            ok, text = check_lib_half(torch, args.dir, "lib_" + short, torch_dtype, read_as)
        except Exception as e:
            ok, text = False, f"{type(e).__name__}: {e}"
        print(f"{'ok  ' if ok else 'FAIL'} lib_{short} ({stored}): {text}")
        failed += not ok
        print(f"ok   torch_{short}: " + write_torch_half(torch, args.dir, "torch_" + short, torch_dtype, index))
    return 1 if failed else 0


# ---- selftest -------------------------------------------------------------------------------
def raw_file(header, body):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def selftest_format():
    rng = np.random.default_rng(1)
    tensors = [("a.weight", rng.standard_normal((3, 4)).astype(np.float32)),
               ("b", rng.standard_normal(5)), ("len", np.array([3, 1, 2], np.int32)),
               ("big", np.arange(4, dtype=np.int64).reshape(2, 1, 2)),
               ("bytes", np.array([0, 255, 7], np.uint8)), ("empty", np.zeros((0, 3), np.float32)),
               ("half", np.array([1, -0.0, 65504, 2.0**-24], np.float16)),
               ("bf16_bits", np.array([[0x3F80, 0x8000], [0x0001, 0x7FC1]], np.uint16))]
    meta = {"cell": "lstm", "note": "ünïcode"}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.safetensors")
        write_safetensors(path, tensors, meta)
        with open(path, "rb") as f:
            data = f.read()
        back, back_meta = read_safetensors(path)
    n = struct.unpack("<Q", data[:8])[0]
    assert (8 + n) % 8 == 0 and data[8:8 + n].rstrip(b" ").endswith(b"}"), "header padding"
    assert back_meta == meta, back_meta
    assert list(back) == [k for k, _ in tensors], list(back)
    for k, v in tensors:
        assert back[k].dtype == v.dtype and back[k].shape == v.shape, k
        assert np.array_equal(back[k], v), k
    assert len(data) == 8 + n + sum(v.nbytes for _, v in tensors)
    f32 = lambda lo, hi: {"dtype": "F32", "shape": [(hi - lo) // 4], "data_offsets": [lo, hi]}
    broken = {"hole": raw_file({"a": f32(0, 4), "b": f32(8, 12)}, bytes(12)),
              "overlap": raw_file({"a": f32(0, 8), "b": f32(4, 12)}, bytes(12)),
              "trailing bytes": raw_file({"a": f32(0, 4)}, bytes(8)),
              "past the end": raw_file({"a": f32(0, 8)}, bytes(4)),
              "wrong size": raw_file({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)),
              "unknown dtype": raw_file({"a": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}}, bytes(4)),
              "header too long": struct.pack("<Q", 1 << 40) + b"{}",
              "not JSON": struct.pack("<Q", 2) + b"{x",
              "truncated": b"\x01\x00"}
    for what, blob in broken.items():
        try:
            decode_safetensors(blob, what)
        except ValueError:
            continue
        raise AssertionError(f"the reader accepted a file with {what}")
    print(f"ok   safetensors writer/reader: {len(tensors)} tensors round-trip, "
          f"{len(broken)} malformed files refused")


def selftest_fixtures(torch):
    files = sorted(os.listdir(DEFAULT_DATA)) if os.path.isdir(DEFAULT_DATA) else []
    if not files:
        raise AssertionError(f"no fixtures in {DEFAULT_DATA}")
    for f in files:
        read_safetensors(os.path.join(DEFAULT_DATA, f))
    print(f"ok   {len(files)} committed fixture files parse")
    if torch is None:
        return
    if check_roundtrip(torch, DEFAULT_DATA) != 0:
        raise AssertionError("check-roundtrip rejects the committed fixtures")
    with tempfile.TemporaryDirectory() as d:  # the check must be able to fail
        name = sorted(f for f in files if f.endswith(".io.safetensors"))[0]
        io, meta = read_safetensors(os.path.join(DEFAULT_DATA, name))
        io["y"] = io["y"] * (1 + 1e-4)
        write_safetensors(os.path.join(d, name), list(io.items()), meta)
        model = name.replace(".io.", ".model.")
        shutil.copy(os.path.join(DEFAULT_DATA, model), os.path.join(d, model))
        with contextlib.redirect_stdout(None):  # its FAIL line is expected
            rc = check_roundtrip(torch, d)
        if rc == 0:
            raise AssertionError("check-roundtrip accepted outputs scaled by 1 + 1e-4")
    print("ok   check-roundtrip passes the fixtures and fails a corrupted copy")


def cmd_selftest(_args):
    try:
        selftest_format()
        try:
            import torch
        except Exception as e:
            torch = None
            print(f"note: PyTorch is not importable ({e}); round-trip self-test not run")
        selftest_fixtures(torch)
    except (AssertionError, ValueError) as e:
        print(f"FAIL selftest: {e}")
        return 1
    print("selftest passed")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("generate").add_argument("--out", default=DEFAULT_DATA)
    sub.add_parser("check-roundtrip").add_argument("dir")
    sub.add_parser("check-half").add_argument("dir")
    sub.add_parser("selftest")
    args = parser.parse_args(argv)
    return {"generate": cmd_generate, "check-roundtrip": cmd_check_roundtrip,
            "check-half": cmd_check_half, "selftest": cmd_selftest}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
