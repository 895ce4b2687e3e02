"""The Python API itself: construction, shapes, zero-copy inputs, parameter views, state
dicts, files, pickling, backward's contract, dropout, the GIL and threads. Needs no PyTorch
(gradients are checked against finite differences here)."""
import ast
import copy
import pathlib
import pickle
import threading
import time

import numpy as np
import pytest

import gpurnn
from conftest import CELLS, rel_err, small_rnn, state_shapes

T, B, I = 6, 3, 5


def forward_all(rnn, *args, **kw):
    """(y, hn, cn or None) whatever the cell kind."""
    out = rnn.forward(*args, **kw)
    return (out[0], *out[1]) if rnn.cell == "lstm" else (out[0], out[1], None)


def test_module_surface():
    assert "cpu" in gpurnn.devices() and "cpu" in gpurnn.backends()
    assert gpurnn.__version__.count(".") == 2
    assert gpurnn.RNN.__module__ == "gpurnn" and gpurnn.RNN.forward.__doc__
    for name in gpurnn.__all__:
        assert getattr(gpurnn, name).__doc__, name


def test_descriptor_and_properties():
    d = gpurnn.RNNDescriptor("LSTM", input_size=4, hidden_size=8, num_layers=2,
                             bidirectional=True, proj_size=3)
    assert d.cell == gpurnn.CellKind.lstm and d.cell.gates == 4
    assert (d.state_size, d.output_size, d.num_directions, d.has_cell_state) == (3, 6, 2, True)
    assert "lstm(I=4, H=8, layers=2, bidirectional, proj=3" in repr(d)
    rnn = gpurnn.RNN.from_descriptor(d, dtype=np.float64, seed=2)
    assert rnn.descriptor == d and rnn.dtype == "float64" and rnn.cell == "lstm"
    assert (rnn.input_size, rnn.hidden_size, rnn.num_layers, rnn.bidirectional, rnn.bias,
            rnn.proj_size, rnn.dropout) == (4, 8, 2, True, True, 3, 0.0)
    assert repr(rnn).startswith("gpurnn.RNN(lstm(")
    d.cell = "gru"
    assert d.cell == gpurnn.CellKind.gru and d != rnn.descriptor


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_shapes_and_return_structure(cell, batch_first):
    rnn = small_rnn(cell, num_layers=2, bidirectional=True, proj_size=2 if cell == "lstm" else 0)
    x = np.ones((B, T, I) if batch_first else (T, B, I), np.float32)
    out = rnn.forward(x, batch_first=batch_first)
    h_shape, c_shape = state_shapes(rnn, B)
    h_out = 2 if cell == "lstm" else 6
    assert out[0].shape == ((B, T, 2 * h_out) if batch_first else (T, B, 2 * h_out))
    if cell == "lstm":
        assert out[1][0].shape == h_shape and out[1][1].shape == c_shape
    else:
        assert out[1].shape == h_shape
    seq = np.ascontiguousarray(x[0] if batch_first else x[:, 0])  # one sequence [T, I]
    unbatched = forward_all(rnn, seq, batch_first=batch_first)  # batch_first is moot, as in torch
    assert unbatched[0].shape == (T, 2 * h_out) and unbatched[1].shape == (4, h_out)
    batched = forward_all(rnn, seq[:, None])
    np.testing.assert_array_equal(unbatched[0], batched[0][:, 0])


def test_call_takes_hx_like_torch(rng):
    rnn = small_rnn("lstm")
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    h0, c0 = (rng.standard_normal(s).astype(np.float32) for s in state_shapes(rnn, B))
    y1, (h1, c1) = rnn(x, (h0, c0))
    y2, (h2, c2) = rnn.forward(x, None, h0, c0)
    for a, b in ((y1, y2), (h1, h2), (c1, c2)):
        np.testing.assert_array_equal(a, b)


def test_zero_copy_inputs(rng):
    rnn = small_rnn("lstm")
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    h0, c0 = (rng.standard_normal(s).astype(np.float32) for s in state_shapes(rnn, B))
    start = gpurnn._input_copy_count()
    ref = forward_all(rnn, x, [T, 2, 4], h0, c0, train=True)
    rnn.backward(np.ones_like(ref[0]), np.ones_like(ref[1]), np.ones_like(ref[2]))
    x.setflags(write=False)  # a read-only array is read in place too
    forward_all(rnn, x)
    forward_all(rnn, np.frombuffer(x.tobytes(), np.float32).reshape(x.shape))
    assert gpurnn._input_copy_count() == start, "a C-contiguous float32 input was copied"
    forward_all(rnn, x.astype(np.float64))  # another float dtype is converted: one copy
    assert gpurnn._input_copy_count() == start + 1
    same = forward_all(rnn, x, [T, 2, 4], h0, h0.copy())
    aliased = forward_all(rnn, x, [T, 2, 4], h0, h0)  # h0 is c0: copied, as torch allows it
    assert gpurnn._input_copy_count() == start + 2
    for a, b in zip(same, aliased):
        np.testing.assert_array_equal(a, b)


def test_training_forward_references_x_until_backward(rng):
    """forward(train=True) keeps the caller's x, not a copy: documented, and observable."""
    rnn = small_rnn("gru")
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    y, _ = rnn.forward(x, train=True)
    g1 = rnn.backward(np.ones_like(y))
    rnn.forward(x, train=True)
    x *= 2.0
    g2 = rnn.backward(np.ones_like(y))
    assert not np.array_equal(g1.parameters["weight_ih_l0"], g2.parameters["weight_ih_l0"])


def test_parameters_are_views_and_state_dict_copies():
    rnn = small_rnn("gru", num_layers=2)
    params, flat = rnn.parameters(), rnn.flat_parameters()
    assert list(params) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]
    assert all(np.shares_memory(p, flat) for p in params.values())
    assert sum(p.size for p in params.values()) == flat.size
    snapshot = rnn.state_dict()
    assert not any(np.shares_memory(s, flat) for s in snapshot.values())
    x = np.ones((T, B, I), np.float32)
    y0 = rnn.forward(x)[0]
    params["weight_ih_l0"][:] = 0.25
    assert not np.array_equal(rnn.forward(x)[0], y0)
    assert not np.array_equal(snapshot["weight_ih_l0"], rnn.state_dict()["weight_ih_l0"])
    rnn.load_state_dict(snapshot)
    np.testing.assert_array_equal(rnn.forward(x)[0], y0)
    del rnn  # the views keep the model alive
    assert float(params["weight_ih_l0"][0, 0]) == snapshot["weight_ih_l0"][0, 0]


def test_load_state_dict_prefix_and_non_strict():
    src = small_rnn("lstm", seed=1)
    dst = small_rnn("lstm", seed=2)
    state = {"rnn." + k: v for k, v in src.state_dict().items()}
    state["head.weight"] = np.zeros((2, 2), np.float32)  # another module's entry: ignored
    dst.load_state_dict(state, prefix="rnn.")
    for k, v in src.state_dict().items():
        np.testing.assert_array_equal(dst.state_dict()[k], v)
    other = small_rnn("lstm", seed=3)
    other.load_state_dict({"bias_ih_l0": np.zeros(24, np.float64)}, strict=False)
    assert not other.state_dict()["bias_ih_l0"].any()


def test_save_load_and_pickle_round_trip(tmp_path, rng):
    rnn = small_rnn("lstm", num_layers=2, bidirectional=True, proj_size=3, dropout=0.25)
    rnn.save(str(tmp_path / "m.safetensors"), prefix="enc.")
    loaded = gpurnn.RNN.load(tmp_path / "m.safetensors", prefix="enc.", dropout=0.25)
    f64 = gpurnn.RNN.load(tmp_path / "m.safetensors", prefix="enc.", dtype="float64")
    restored = pickle.loads(pickle.dumps(rnn))
    clone = copy.deepcopy(rnn)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    y = rnn.forward(x, train=True, dropout_seed=5)[0]
    for other in (loaded, restored, clone):
        assert other.descriptor == rnn.descriptor
        np.testing.assert_array_equal(other.forward(x, train=True, dropout_seed=5)[0], y)
    assert f64.dtype == "float64" and rel_err(f64.forward(x)[0], rnn.forward(x)[0]) < 1e-6


def test_dropout_is_deterministic_and_training_only(rng):
    rnn = small_rnn("gru", num_layers=3, dropout=0.5)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    infer = rnn.forward(x)[0]
    a = rnn.forward(x, train=True, dropout_seed=1)[0]
    b = rnn.forward(x, train=True, dropout_seed=1)[0]
    c = rnn.forward(x, train=True, dropout_seed=2)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, infer)
    np.testing.assert_array_equal(rnn.forward(x)[0], infer)


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_match_finite_differences(cell, rng):
    """float64, ragged, bidirectional, two layers: every gradient against central differences."""
    rnn = small_rnn(cell, dtype="float64", num_layers=2, bidirectional=True, hidden_size=3,
                    input_size=2, proj_size=2 if cell == "lstm" else 0)
    x = rng.standard_normal((4, 2, 2))
    lengths = [4, 2]
    h0, c0 = (None if s is None else 0.5 * rng.standard_normal(s) for s in state_shapes(rnn, 2))
    w = [rng.standard_normal(a.shape) for a in forward_all(rnn, x, lengths, h0, c0) if a is not None]

    def loss():
        outs = [a for a in forward_all(rnn, x, lengths, h0, c0) if a is not None]
        return sum(float((a * b).sum()) for a, b in zip(outs, w))

    outs = [a for a in forward_all(rnn, x, lengths, h0, c0, train=True) if a is not None]
    g = rnn.backward(*w)
    checks = [(x, g.dx), (h0, g.dh0)] + ([(c0, g.dc0)] if c0 is not None else [])
    checks += [(p, g.parameters[n]) for n, p in rnn.parameters().items()]
    assert len(outs) == len(w)
    for array, grad in checks:
        numeric = np.empty_like(array)
        for k in range(array.size):
            old = array.flat[k]
            array.flat[k] = old + 1e-6
            up = loss()
            array.flat[k] = old - 1e-6
            numeric.flat[k] = (up - loss()) / 2e-6
            array.flat[k] = old
        assert rel_err(grad, numeric) < 1e-6


def test_gradients_keep_their_memory():
    rnn = small_rnn("lstm")
    y = rnn.forward(np.ones((T, B, I), np.float32), train=True)[0]
    g = rnn.backward(np.ones_like(y))
    assert np.shares_memory(g.parameters["weight_hh_l0"], g.flat)
    flat = g.flat.copy()
    del g, rnn
    assert flat.any()


def test_forward_releases_the_gil():
    """While one thread computes, another keeps running Python: its longest pause must be
    well under the forward's duration (with the GIL held it would span all of it)."""
    rnn = gpurnn.RNN("lstm", 64, 256, num_layers=2)
    x = np.ones((800, 16, 64), np.float32)  # about 0.4 s on one core
    t0 = time.perf_counter()
    rnn.forward(x)
    duration = time.perf_counter() - t0
    worker = threading.Thread(target=rnn.forward, args=(x,))
    last, longest = time.perf_counter(), 0.0
    worker.start()
    while worker.is_alive():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
        time.sleep(0.001)
    worker.join()
    assert longest < 0.5 * duration, (longest, duration)


def test_threads_share_one_rnn(rng):
    rnn = small_rnn("gru", num_layers=2)
    xs = [rng.standard_normal((T, B, I)).astype(np.float32) for _ in range(8)]
    expected = [rnn.forward(x)[0] for x in xs]
    results = [None] * len(xs)

    def work(k):
        for _ in range(5):
            results[k] = rnn.forward(xs[k])[0]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_readme_example_runs(tmp_path, monkeypatch):
    readme = pathlib.Path(__file__).resolve().parent.parent / "README.md"
    block = readme.read_text().split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(readme), "exec"), {})
    assert (tmp_path / "model.safetensors").exists()


def test_type_stubs_match_the_module():
    """Every public class, method, property and function has a stub, and every stub exists."""
    stub = pathlib.Path(gpurnn.__file__).with_name("__init__.pyi")
    tree = ast.parse(stub.read_text())
    stubbed = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            stubbed[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)} | \
                {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        elif isinstance(node, ast.FunctionDef):
            stubbed[node.name] = set()
    for name in gpurnn.__all__:
        assert name in stubbed, f"no stub for gpurnn.{name}"
        obj = getattr(gpurnn, name)
        if isinstance(obj, type) and not issubclass(obj, BaseException) and obj is not gpurnn.CellKind:
            public = {m for m in vars(obj) if not m.startswith("_")}
            assert public <= stubbed[name], f"gpurnn.{name}: no stubs for {public - stubbed[name]}"
            assert stubbed[name] - {"__init__", "__eq__", "__ne__", "__call__"} <= public, name


# -- half precision (README "Half precision" of the library; this module's "Half precision") --

def bf16_to_f32(bits):
    """uint16 bfloat16 bit patterns -> the float32 values they hold (exactly)."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(values):
    """float32 -> bfloat16 bits, rounded to nearest even (finite values)."""
    v = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((v + 0x7FFF + ((v >> 16) & 1)) >> 16).astype(np.uint16)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_rnn_against_float64(cell, dtype):
    """A half RNN's arrays: float16, or uint16 bfloat16 bits; outputs and dx in them, parameter
    gradients float32. Within the README's bounds of the float64 result of the same values:
    12.6u over y (its largest measured bound) and 4*T*L*u of the largest gradient."""
    u = 2.0**-11 if dtype == "float16" else 2.0**-8
    half = small_rnn(cell, dtype=dtype, seed=5)
    assert half.dtype == dtype
    to64 = (lambda a: a.astype(np.float64)) if dtype == "float16" else \
        (lambda a: bf16_to_f32(a).astype(np.float64))
    exact = small_rnn(cell, dtype="float64", seed=5)
    exact.flat_parameters()[:] = to64(half.flat_parameters())
    x32 = np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32)
    copies = gpurnn._input_copy_count()
    out = forward_all(half, x32, train=True)  # float32 in: rounded to nearest (one copy)
    assert gpurnn._input_copy_count() == copies + 1
    storage = np.float16 if dtype == "float16" else np.uint16
    x = x32.astype(np.float16) if dtype == "float16" else f32_to_bf16(x32)
    same = forward_all(half, x)  # the model's own storage: read in place
    assert gpurnn._input_copy_count() == copies + 1
    ref = forward_all(exact, to64(x), train=True)
    for a, b, r in zip(out, same, ref):
        if r is None:
            continue
        assert a.dtype == storage and np.array_equal(a, b)
        assert np.max(np.abs(to64(a) - r)) <= 12.6 * u * max(1.0, np.max(np.abs(r)))
    dy = np.ones_like(ref[0])
    g = half.backward(np.ones_like(out[0]) if dtype == "float16" else f32_to_bf16(dy))
    g64 = exact.backward(dy)
    assert g.dx.dtype == storage and g.flat.dtype == np.float32
    assert all(p.dtype == np.float32 for p in g.parameters.values())
    tol = 4 * T * 1 * u
    assert np.max(np.abs(to64(g.dx) - g64.dx)) <= tol * np.max(np.abs(g64.dx))
    assert np.max(np.abs(g.flat - g64.flat)) <= tol * np.max(np.abs(g64.flat))


def test_half_dtype_names_and_refusals():
    for name, canonical in [("f16", "float16"), ("half", "float16"), (np.float16, "float16"),
                            ("bf16", "bfloat16"), ("bfloat16", "bfloat16")]:
        assert small_rnn(dtype=name).dtype == canonical
    with pytest.raises(gpurnn.InvalidArgumentError, match="float16 or bfloat16"):
        small_rnn(dtype="int8")
    bf = small_rnn(dtype="bfloat16")
    with pytest.raises(gpurnn.InvalidArgumentError, match="has dtype float16, expected float32, float64 or bfloat16 bit"):
        bf.forward(np.ones((T, B, I), np.float16))
    f16 = small_rnn(dtype="float16")
    with pytest.raises(gpurnn.InvalidArgumentError, match="has dtype uint16"):
        f16.forward(np.ones((T, B, I), np.uint16))
    back = pickle.loads(pickle.dumps(bf))
    assert back.dtype == "bfloat16" and np.array_equal(back.flat_parameters(), bf.flat_parameters())
