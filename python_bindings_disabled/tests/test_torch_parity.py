"""gpurnn against torch.nn.LSTM/GRU/RNN: outputs, final states and every gradient.

The reference is PyTorch in float64 on a float64 copy of the float32 module's weights and
the float32 inputs, so it is exact up to float64 rounding: gpurnn's float32 results must be
within 1e-5 of it (||a-b||/||b||) and its float64 results within 1e-10.
Skipped as a whole when PyTorch (Debian: python3-torch) is not importable.
"""
import zlib

import numpy as np
import pytest

import gpurnn
from conftest import TORCH_CELLS, read_safetensors, rel_err, state_shapes, write_safetensors

torch = pytest.importorskip("torch")
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

I, H, P, T, B = 5, 6, 3, 7, 4
TOL = {"float32": 1e-5, "float64": 1e-10}


def torch_module(cell, num_layers=1, bidirectional=False, bias=True, proj_size=0, batch_first=False):
    kw = dict(num_layers=num_layers, bidirectional=bidirectional, bias=bias, batch_first=batch_first)
    if cell == "lstm":
        return torch.nn.LSTM(I, H, proj_size=proj_size, **kw)
    if cell == "gru":
        return torch.nn.GRU(I, H, **kw)
    return torch.nn.RNN(I, H, nonlinearity=cell[len("rnn_"):], **kw)


def torch_run(mod, x, lengths, h0, c0, dy, dhn, dcn):
    """Outputs and gradients of L = sum(y*dy) + sum(hn*dhn) [+ sum(cn*dcn)] in float64."""
    mod = mod.double()
    mod.zero_grad()
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in dict(x=x, h0=h0, c0=c0).items() if v is not None}
    hx = (t["h0"], t["c0"]) if "c0" in t else t["h0"]
    if lengths is None:
        y, hn = mod(t["x"], hx)
    else:
        packed = pack_padded_sequence(t["x"], torch.tensor(lengths), batch_first=mod.batch_first,
                                      enforce_sorted=False)
        out, hn = mod(packed, hx)
        y, _ = pad_packed_sequence(out, batch_first=mod.batch_first, total_length=x.shape[1 if mod.batch_first else 0])
    hn, cn = hn if isinstance(hn, tuple) else (hn, None)
    loss = (y * torch.from_numpy(dy).double()).sum() + (hn * torch.from_numpy(dhn).double()).sum()
    if cn is not None:
        loss = loss + (cn * torch.from_numpy(dcn).double()).sum()
    loss.backward()
    res = dict(y=y, hn=hn, cn=cn, dx=t["x"].grad, dh0=t["h0"].grad, dc0=t["c0"].grad if "c0" in t else None)
    res = {k: (None if v is None else v.detach().numpy()) for k, v in res.items()}
    res["params"] = {n: p.grad.numpy() for n, p in mod.named_parameters()}
    return res


CASES = [(cell, layers, bi, ragged, bf)
         for cell in TORCH_CELLS for layers in (1, 2) for bi in (False, True)
         for ragged in (False, True) for bf in (False, True)]
CASES += [("lstm", layers, bi, True, False, 3) for layers in (1, 2) for bi in (False, True)]
CASES = [c if len(c) == 6 else c + (0,) for c in CASES]


@pytest.mark.parametrize("cell,layers,bi,ragged,batch_first,proj", CASES,
                         ids=[f"{c}-L{l}-{'bi' if b else 'uni'}-{'ragged' if r else 'full'}"
                              f"{'-bf' if f else ''}{f'-proj{p}' if p else ''}"
                              for c, l, b, r, f, p in CASES])
def test_forward_and_gradients_match_torch(cell, layers, bi, ragged, batch_first, proj):
    seed = zlib.crc32(repr((cell, layers, bi, ragged, batch_first, proj)).encode())
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mod = torch_module(cell, layers, bi, proj_size=proj, batch_first=batch_first)
    weights = {k: v.detach().numpy().copy() for k, v in mod.state_dict().items()}
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(np.float32)
    lengths = np.array([T, 1, 4, 6], dtype=np.int64) if ragged else None
    probe = gpurnn.RNN(cell, I, H, layers, bi, proj_size=proj)
    h_shape, c_shape = state_shapes(probe, B)
    h0 = (0.5 * rng.standard_normal(h_shape)).astype(np.float32)
    c0 = (0.5 * rng.standard_normal(c_shape)).astype(np.float32) if c_shape else None
    y_shape = (B, T, probe.descriptor.output_size) if batch_first else (T, B, probe.descriptor.output_size)
    dy = rng.standard_normal(y_shape).astype(np.float32)  # also past the lengths: must be ignored
    dhn = rng.standard_normal(h_shape).astype(np.float32)
    dcn = rng.standard_normal(c_shape).astype(np.float32) if c_shape else None
    ref = torch_run(mod, x, lengths, h0, c0, dy, dhn, dcn)

    for dtype in ("float32", "float64"):
        rnn = gpurnn.RNN(cell, I, H, layers, bi, proj_size=proj, dtype=dtype)
        rnn.load_state_dict(weights)
        cast = (lambda a: a if a is None else a.astype(dtype))
        out = rnn.forward(cast(x), lengths, cast(h0), cast(c0), batch_first=batch_first, train=True)
        y, (hn, cn) = out if cell == "lstm" else (out[0], (out[1], None))
        g = rnn.backward(cast(dy), cast(dhn), cast(dcn))
        got = dict(y=y, hn=hn, cn=cn, dx=g.dx, dh0=g.dh0, dc0=g.dc0)
        for name, value in got.items():
            if ref[name] is None:
                assert value is None, name
                continue
            assert value.dtype == np.dtype(dtype), name
            assert rel_err(value, ref[name]) < TOL[dtype], (dtype, name, rel_err(value, ref[name]))
        assert list(g.parameters) == list(ref["params"])
        for name, grad in g.parameters.items():
            assert rel_err(grad, ref["params"][name]) < TOL[dtype], (dtype, name)
        if ragged:  # packed-sequence semantics: zero past each length
            for b, n in enumerate(lengths):
                assert not (y[b, n:] if batch_first else y[n:, b]).any()


def test_bias_free_and_float32_torch_directly(rng):
    torch.manual_seed(7)
    mod = torch.nn.GRU(I, H, num_layers=2, bias=False)
    rnn = gpurnn.RNN("gru", I, H, 2, bias=False)
    rnn.load_state_dict(mod.state_dict())  # torch tensors are accepted as they are
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    y, hn = rnn.forward(x)
    with torch.no_grad():
        ty, thn = mod(torch.from_numpy(x))
    assert rel_err(y, ty.numpy()) < 1e-5 and rel_err(hn, thn.numpy()) < 1e-5


def test_unbatched_and_call_convention_match_torch(rng):
    torch.manual_seed(11)
    mod = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P)
    rnn = gpurnn.RNN("lstm", I, H, 2, True, proj_size=P)
    rnn.load_state_dict(mod.state_dict())
    x = rng.standard_normal((T, I)).astype(np.float32)
    h0 = rng.standard_normal((4, P)).astype(np.float32)
    c0 = rng.standard_normal((4, H)).astype(np.float32)
    y, (hn, cn) = rnn(x, (h0, c0))
    with torch.no_grad():
        ty, (thn, tcn) = mod(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0)))
    assert y.shape == tuple(ty.shape) and hn.shape == tuple(thn.shape) and cn.shape == tuple(tcn.shape)
    for a, b in ((y, ty), (hn, thn), (cn, tcn)):
        assert rel_err(a, b.numpy()) < 1e-5


def test_saved_file_loads_into_torch(tmp_path, rng):
    rnn = gpurnn.RNN("rnn_relu", I, H, 2, True, seed=5)
    path = tmp_path / "model.safetensors"
    rnn.save(path, prefix="rnn.")
    tensors, meta = read_safetensors(path)
    assert meta["cell"] == "rnn_relu"
    mod = torch.nn.RNN(I, H, num_layers=2, bidirectional=True, nonlinearity="relu")
    mod.load_state_dict({k[len("rnn."):]: torch.from_numpy(v.copy()) for k, v in tensors.items()},
                        strict=True)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    with torch.no_grad():
        ty, thn = mod(torch.from_numpy(x))
    y, hn = rnn.forward(x)
    assert rel_err(y, ty.numpy()) < 1e-5 and rel_err(hn, thn.numpy()) < 1e-5


@pytest.mark.parametrize("with_metadata", [True, False])
def test_torch_file_loads_into_gpurnn(tmp_path, rng, with_metadata):
    torch.manual_seed(13)
    mod = torch.nn.RNN(I, H, nonlinearity="relu")
    path = tmp_path / "torch.safetensors"
    write_safetensors(path, {"rnn." + k: v.numpy() for k, v in mod.state_dict().items()},
                      {"cell": "rnn_relu"} if with_metadata else None)
    # Without metadata the file cannot tell relu from tanh: say it, as with `gpurnn run --cell`.
    rnn = gpurnn.RNN.load(path, prefix="rnn.", cell=None if with_metadata else "rnn_relu")
    assert rnn.cell == "rnn_relu"
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    with torch.no_grad():
        ty, _ = mod(torch.from_numpy(x))
    assert rel_err(rnn.forward(x)[0], ty.numpy()) < 1e-5


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
def test_torch_cell_module_file_loads_into_gpurnn(tmp_path, rng, cell):
    """Issue 32 item 3: an nn.LSTMCell/GRUCell/RNNCell state dict (weight_ih, no _l0), stepped
    by torch over a sequence, equals RNN.load's one-layer RNN on the whole sequence."""
    torch.manual_seed(17)
    mod = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "rnn_tanh": torch.nn.RNNCell}[cell](I, H)
    path = tmp_path / "cell.safetensors"
    write_safetensors(path, {"decoder.cell." + k: v.numpy() for k, v in mod.state_dict().items()}, {"cell": cell})
    rnn = gpurnn.RNN.load(path, prefix="decoder.cell.")
    assert (rnn.cell, rnn.num_layers, rnn.bidirectional) == (cell, 1, False)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    outputs = []
    with torch.no_grad():
        state = None
        for t in range(T):
            state = mod(torch.from_numpy(x[t]), state)
            outputs.append((state[0] if cell == "lstm" else state).numpy())
    assert rel_err(rnn.forward(x)[0], np.stack(outputs)) < 1e-5


TORCH_CELL_MODULES = {"lstm": "LSTMCell", "gru": "GRUCell", "rnn_tanh": "RNNCell"}


def step_torch_cell(mod, cell, x):
    """The cell module stepped over x [T, B, I]: its h at every step, stacked."""
    outputs = []
    with torch.no_grad():
        state = None
        for t in range(x.shape[0]):
            state = mod(torch.from_numpy(x[t]), state)
            outputs.append((state[0] if cell == "lstm" else state).numpy())
    return np.stack(outputs)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("bias", [True, False])
def test_torch_cell_state_dict_loads_and_goes_back(rng, cell, bias):
    """Issue 32 item 3: load_state_dict takes an nn.LSTMCell/GRUCell/RNNCell state dict (torch
    tensors, weight_ih... no _l0; under a prefix too), and state_dict(cell_names=True) loads
    into the torch cell module with strict load_state_dict, bit for bit."""
    torch.manual_seed(23)
    mod = getattr(torch.nn, TORCH_CELL_MODULES[cell])(I, H, bias=bias)
    rnn = gpurnn.RNN(cell, I, H, bias=bias, seed=1)
    rnn.load_state_dict(mod.state_dict())
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    assert rel_err(rnn.forward(x)[0], step_torch_cell(mod, cell, x)) < 1e-5
    ours = rnn.state_dict(cell_names=True)
    assert sorted(ours) == sorted(mod.state_dict())
    for name, value in mod.state_dict().items():
        np.testing.assert_array_equal(ours[name], value.numpy())
    # Under a module prefix, as a model holding the cell as `decoder.cell` saves it.
    prefixed = gpurnn.RNN(cell, I, H, bias=bias, seed=2)
    prefixed.load_state_dict({"decoder.cell." + k: v for k, v in mod.state_dict().items()},
                             prefix="decoder.cell.")
    np.testing.assert_array_equal(prefixed.flat_parameters(), rnn.flat_parameters())
    # gpurnn's cell-named dict into a fresh torch cell module.
    other = gpurnn.RNN(cell, I, H, bias=bias, seed=3)
    fresh = getattr(torch.nn, TORCH_CELL_MODULES[cell])(I, H, bias=bias)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in other.state_dict(cell_names=True).items()},
                          strict=True)
    assert rel_err(other.forward(x)[0], step_torch_cell(fresh, cell, x)) < 1e-5


def test_cell_named_file_loads_into_torch_cell(tmp_path):
    """RNN.save(cell_names=True) writes what torch.nn.LSTMCell.load_state_dict accepts."""
    rnn = gpurnn.RNN("lstm", I, H, seed=4)
    path = tmp_path / "cell.safetensors"
    rnn.save(path, "cell.", cell_names=True)
    tensors, metadata = read_safetensors(path)
    assert sorted(tensors) == ["cell.bias_hh", "cell.bias_ih", "cell.weight_hh", "cell.weight_ih"]
    assert metadata["cell"] == "lstm"
    mod = torch.nn.LSTMCell(I, H)
    mod.load_state_dict({k[len("cell."):]: torch.from_numpy(v.copy()) for k, v in tensors.items()}, strict=True)
    for name, value in rnn.state_dict(cell_names=True).items():
        np.testing.assert_array_equal(mod.state_dict()[name].numpy(), value)
    back = gpurnn.RNN.load(path, prefix="cell.")
    np.testing.assert_array_equal(back.flat_parameters(), rnn.flat_parameters())


def test_state_dict_round_trips_through_torch():
    rnn = gpurnn.RNN("lstm", I, H, 2, True, proj_size=P, seed=9)
    mod = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P)
    mod.load_state_dict({k: torch.from_numpy(v) for k, v in rnn.state_dict().items()}, strict=True)
    back = gpurnn.RNN("lstm", I, H, 2, True, proj_size=P, seed=10)
    back.load_state_dict(mod.state_dict())
    for name, value in rnn.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[name], value)
