"""gpurnn.torch.LSTM/GRU/RNN against torch.nn.LSTM/GRU/RNN as drop-in modules.

Parity: the reference is the torch module on float64 copies of the same weights and inputs;
gpurnn.torch's float32 results (outputs, final states, and the gradients of x, h0, c0 and
every parameter through loss.backward()) must be within 1e-5 of it (||a-b||/||b||), for every
option, padded and packed. gradcheck in float64 checks the autograd Function by finite
differences. Skipped as a whole when PyTorch (Debian: python3-torch) is not importable.
"""
import copy
import io
import itertools
import pathlib
import pickle
import zlib

import numpy as np
import pytest

import gpurnn

torch = pytest.importorskip("torch")
import gpurnn.torch as gt  # noqa: E402
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence  # noqa: E402

try:
    from torch.func import functional_call  # torch 2.x
except ImportError:  # torch 1.13
    from torch.nn.utils.stateless import functional_call

I, H, P, T, B = 5, 6, 3, 7, 4
LENGTHS = [T, 1, 4, 6]
CELLS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]


def make(cell, module=gt, **kw):
    if cell == "lstm":
        return module.LSTM(I, H, **kw)
    if cell == "gru":
        return module.GRU(I, H, **kw)
    return module.RNN(I, H, nonlinearity=cell[len("rnn_"):], **kw)


def rel(a, b):
    a, b = a.detach().double(), b.detach().double()
    assert a.shape == b.shape, (a.shape, b.shape)
    den = b.norm().item()
    return (a - b).norm().item() / (den if den > 0 else 1.0)


def state(cell, layers, bi, proj, batch, dtype=torch.float32, unbatched=False):
    """A random hx of torch's shapes: h0, or (h0, c0) for an LSTM."""
    s = layers * (2 if bi else 1)
    lead = (s,) if unbatched else (s, batch)
    h0 = (0.5 * torch.randn(*lead, proj or H, dtype=dtype)).requires_grad_()
    if cell != "lstm":
        return h0
    return h0, (0.5 * torch.randn(*lead, H, dtype=dtype)).requires_grad_()


def leaves(hx):
    return list(hx) if isinstance(hx, tuple) else [hx]


def run(mod, x, hx, kind, batch_first, dys):
    """Output tensors and the gradients of sum(output * dy) over outputs of `mod`."""
    if kind == "packed":
        inp = pack_padded_sequence(x, torch.tensor(LENGTHS), batch_first=batch_first,
                                   enforce_sorted=False)
    else:
        inp = x
    out, hn = mod(inp, hx)
    if kind == "packed":
        assert isinstance(out, PackedSequence)
        packed_data = out.data
        out, lens = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
        assert lens.tolist() == LENGTHS
    else:
        packed_data = None
    outs = [out] + leaves(hn)
    loss = sum((o * d.to(o.dtype)).sum() for o, d in zip(outs, dys))
    loss.backward()
    grads = {"x": x.grad, **{f"hx{i}": t.grad for i, t in enumerate(leaves(hx))}}
    grads.update({n: p.grad for n, p in mod.named_parameters()})
    return outs, grads, packed_data


CASES = [c for c in itertools.product(CELLS, (1, 2), (False, True), ("padded", "packed", "unbatched"),
                                      (False, True), (True, False))
         if not (c[3] == "unbatched" and c[4])]  # batch_first does not apply to unbatched input
CASES = [c + (0,) for c in CASES] + [("lstm", l, bi, kind, False, True, P)
                                     for l in (1, 2) for bi in (False, True)
                                     for kind in ("padded", "packed", "unbatched")]


@pytest.mark.parametrize(
    "cell,layers,bi,kind,batch_first,bias,proj", CASES,
    ids=[f"{c}-L{l}-{'bi' if b else 'uni'}-{k}{'-bf' if f else ''}{'' if bias else '-nobias'}"
         f"{f'-proj{p}' if p else ''}" for c, l, b, k, f, bias, p in CASES])
def test_matches_torch_module(cell, layers, bi, kind, batch_first, bias, proj):
    seed = zlib.crc32(repr((cell, layers, bi, kind, batch_first, bias, proj)).encode())
    torch.manual_seed(seed)
    kw = dict(num_layers=layers, bidirectional=bi, batch_first=batch_first, bias=bias)
    if proj:
        kw["proj_size"] = proj
    ours = make(cell, **kw)
    assert isinstance(ours, {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(cell, torch.nn.RNN))
    ref = gt.to_torch(ours).double()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]

    unbatched = kind == "unbatched"
    shape = (T, I) if unbatched else ((B, T, I) if batch_first else (T, B, I))
    x = torch.randn(*shape)
    hx = state(cell, layers, bi, proj, B, unbatched=unbatched)
    x64 = x.double().requires_grad_()
    hx64 = tuple(t.detach().double().requires_grad_() for t in leaves(hx))
    hx64 = hx64 if cell == "lstm" else hx64[0]
    x.requires_grad_()

    probe_out, probe_hn = ours(x.detach() if kind != "packed" else
                               pack_padded_sequence(x.detach(), torch.tensor(LENGTHS),
                                                    batch_first=batch_first, enforce_sorted=False))
    dys = [torch.randn_like(probe_out if kind != "packed" else
                            pad_packed_sequence(probe_out, batch_first=batch_first,
                                                total_length=T)[0])]
    dys += [torch.randn_like(t) for t in leaves(probe_hn)]

    got, got_grads, got_packed = run(ours, x, hx, kind, batch_first, dys)
    want, want_grads, want_packed = run(ref, x64, hx64, kind, batch_first, dys)
    for i, (a, b) in enumerate(zip(got, want)):
        assert a.dtype == torch.float32 and a.shape == b.shape, i
        assert rel(a, b) < 1e-5, (i, rel(a, b))
    if kind == "packed":
        assert rel(got_packed, want_packed) < 1e-5
    assert list(got_grads) == list(want_grads)
    for name in want_grads:
        assert got_grads[name] is not None, name
        assert rel(got_grads[name], want_grads[name]) < 1e-5, (name, rel(got_grads[name], want_grads[name]))


@pytest.mark.parametrize("cell", CELLS)
def test_no_state_and_eval_dropout_match_torch(cell):
    torch.manual_seed(21)
    ours = make(cell, num_layers=3, dropout=0.4).eval()  # eval: torch applies no dropout
    ref = gt.to_torch(ours).double()
    x = torch.randn(T, B, I, requires_grad=True)
    x64 = x.detach().double().requires_grad_()
    y, _ = ours(x)
    y64, _ = ref(x64)
    assert rel(y, y64) < 1e-5
    y.pow(2).sum().backward()
    y64.pow(2).sum().backward()
    assert rel(x.grad, x64.grad) < 1e-5
    for (n, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        assert rel(p.grad, q.grad) < 1e-5, n


def check_gradients(fn, inputs):
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("kind", ["padded", "packed"])
def test_gradcheck_float64(cell, kind):
    torch.manual_seed(5)
    kw = dict(num_layers=2, bidirectional=True, dropout=0.3, dtype=torch.float64)
    if cell == "lstm":
        kw["proj_size"] = 2
    mod = make(cell, **kw).train()
    names = [n for n, _ in mod.named_parameters()]
    x = torch.randn(4, 3, I, dtype=torch.float64, requires_grad=True)
    hx = state(cell, 2, True, kw.get("proj_size", 0), 3, dtype=torch.float64)
    params = [p.detach().clone().requires_grad_() for p in mod.parameters()]

    def fn(x, *rest):
        states, ps = rest[:len(leaves(hx))], rest[len(leaves(hx)):]
        h = tuple(states) if cell == "lstm" else states[0]
        inp = x if kind == "padded" else pack_padded_sequence(x, torch.tensor([4, 2, 3]),
                                                              enforce_sorted=False)
        torch.manual_seed(99)  # the same dropout mask at every evaluation
        out, hn = functional_call(mod, dict(zip(names, ps)), (inp, h))
        if kind == "packed":
            out = out.data
        return (out,) + tuple(leaves(hn))

    check_gradients(fn, (x, *leaves(hx), *params))


def test_adam_training_follows_torch():
    torch.manual_seed(3)
    ours = gt.LSTM(I, H, num_layers=2, batch_first=True)
    ref = gt.to_torch(ours)
    head_ours = torch.nn.Linear(H, 1)
    head_ref = copy.deepcopy(head_ours)
    x = torch.randn(8, T, I)
    target = 0.5 * x[..., :1].cumsum(1)  # learnable: a running sum of the first feature
    curves = []
    for mod, head in ((ours, head_ours), (ref, head_ref)):
        opt = torch.optim.Adam(list(mod.parameters()) + list(head.parameters()), lr=1e-2)
        losses = []
        for _ in range(20):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(head(mod(x)[0]), target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        curves.append(losses)
    assert curves[0][-1] < 0.9 * curves[0][0]  # it trained
    for a, b in zip(*curves):
        assert abs(a - b) <= 1e-4 * abs(b), curves
    for (n, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        assert rel(p, q) < 1e-4, n


def test_parameters_are_read_in_place():
    torch.manual_seed(4)
    mod = gt.GRU(I, H, num_layers=2)
    x = torch.randn(T, B, I)
    copies, weight_copies = gpurnn._input_copy_count(), gpurnn._weight_copy_count()
    y, hn = mod(x)
    with torch.no_grad():  # an optimizer's in-place step reaches libgpurnn's weights
        mod.weight_hh_l1.mul_(0.5)
    y2, _ = mod(x)
    assert gpurnn._input_copy_count() == copies
    assert gpurnn._weight_copy_count() == weight_copies
    assert not torch.equal(y, y2)
    assert rel(y2, gt.to_torch(mod)(x)[0]) < 1e-6
    # Outputs share memory with nothing of the caller's and are new each call.
    assert y.data_ptr() != y2.data_ptr()


def test_replaced_parameter_is_used_then_flattened():
    torch.manual_seed(6)
    mod = gt.LSTM(I, H)
    x = torch.randn(T, B, I)
    mod.weight_ih_l0 = torch.nn.Parameter(torch.randn(4 * H, I))  # not libgpurnn's memory
    before = gpurnn._weight_copy_count()
    y, _ = mod(x)
    assert gpurnn._weight_copy_count() == before + 1  # copied for this call
    assert rel(y, gt.to_torch(mod)(x)[0]) < 1e-6
    mod.flatten_parameters()
    y2, _ = mod(x)
    assert gpurnn._weight_copy_count() == before + 1
    assert torch.equal(y, y2)


def test_functional_call_uses_the_given_parameters():
    torch.manual_seed(8)
    mod = gt.RNN(I, H, num_layers=2)
    other = gt.RNN(I, H, num_layers=2)
    x = torch.randn(T, B, I)
    y = functional_call(mod, dict(other.named_parameters()), (x,))[0]
    assert torch.equal(y, other(x)[0])
    assert not torch.equal(y, mod(x)[0])


def test_dtype_and_pickle_round_trips():
    torch.manual_seed(9)
    mod = gt.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P)
    x = torch.randn(T, B, I)
    y = mod(x)[0]
    mod.double()
    before = gpurnn._weight_copy_count()
    y64 = mod(x.double())[0]
    assert y64.dtype == torch.float64 and rel(y64, y) < 1e-6
    assert gpurnn._weight_copy_count() == before  # .double() re-flattened the parameters
    mod.float()
    for clone in (copy.deepcopy(mod), pickle.loads(pickle.dumps(mod))):
        assert isinstance(clone, gt.LSTM)
        assert torch.equal(clone(x)[0], mod(x)[0])
        with torch.no_grad():
            clone.weight_ih_l0.zero_()  # the clone owns its own weights
        assert not torch.equal(clone(x)[0], mod(x)[0])
    buffer = io.BytesIO()
    torch.save(mod.state_dict(), buffer)
    buffer.seek(0)
    fresh = gt.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(fresh(x)[0], mod(x)[0])


def test_from_and_to_torch_keep_everything_and_the_rng():
    torch.manual_seed(10)
    plain = torch.nn.GRU(I, H, num_layers=2, bidirectional=True, batch_first=True, dropout=0.2)
    plain.eval()
    rng_state = torch.random.get_rng_state()
    ours = gt.from_torch(plain)
    back = gt.to_torch(ours)
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    assert type(ours) is gt.GRU and type(back) is torch.nn.GRU
    assert not ours.training and ours.batch_first and ours.dropout == 0.2
    x = torch.randn(B, T, I)
    assert rel(ours(x)[0], plain(x)[0]) < 1e-6
    assert all(torch.equal(a, b) for a, b in zip(back.state_dict().values(), plain.state_dict().values()))
    with pytest.raises(gpurnn.InvalidArgumentError, match="argument 'module'"):
        gt.from_torch(torch.nn.Linear(2, 2))


def test_pending_forwards_and_retain_graph():
    torch.manual_seed(12)
    mod = gt.LSTM(I, H, num_layers=2)
    xa, xb = torch.randn(T, B, I), torch.randn(T, B, I)
    ya, yb = mod(xa)[0], mod(xb)[0]  # two passes pending at once, as in a seq2seq model
    (ya.sum() + 2 * yb.sum()).backward()
    both = [p.grad.clone() for p in mod.parameters()]
    mod.zero_grad()
    mod(xa)[0].sum().backward()
    only_a = [p.grad.clone() for p in mod.parameters()]
    mod.zero_grad()
    loss_b = 2 * mod(xb)[0].sum()
    loss_b.backward(retain_graph=True)
    loss_b.backward()  # the same graph again: gradients accumulate twice
    twice_b = [p.grad.clone() for p in mod.parameters()]
    for ab, a, b2 in zip(both, only_a, twice_b):
        assert rel(ab, a + b2 / 2) < 1e-6


def test_in_place_change_before_backward_is_detected():
    mod = gt.GRU(I, H)
    y, _ = mod(torch.randn(T, B, I))
    with torch.no_grad():
        mod.weight_hh_l0.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_dropout_is_deterministic_per_seed():
    mod = gt.LSTM(I, H, num_layers=3, dropout=0.5)
    x = torch.randn(T, B, I)

    def pass_with(seed):
        torch.manual_seed(seed)
        mod.zero_grad()
        y, _ = mod(x)
        y.sum().backward()
        return y.detach(), [p.grad.clone() for p in mod.parameters()]

    (y1, g1), (y2, g2), (y3, _) = pass_with(1), pass_with(1), pass_with(2)
    assert torch.equal(y1, y2) and all(torch.equal(a, b) for a, b in zip(g1, g2))
    assert not torch.equal(y1, y3)
    with torch.no_grad():
        torch.manual_seed(1)
        assert torch.equal(mod(x)[0], y1)  # training mode drops out without autograd too
        assert not torch.equal(mod.eval()(x)[0], y1)


def test_non_contiguous_input_is_copied_once():
    torch.manual_seed(14)
    mod = gt.RNN(I, H, batch_first=True)
    x = torch.randn(T, B, I).transpose(0, 1)  # [B, T, I], not contiguous
    assert not x.is_contiguous()
    assert torch.equal(mod(x)[0], mod(x.contiguous())[0])


def errors_of(fn):
    with pytest.raises(gpurnn.Error) as info:
        fn()
    assert isinstance(info.value, RuntimeError)  # torch code catches RuntimeError
    return info.value


def test_errors_name_the_argument():
    mod = gt.LSTM(I, H, num_layers=2)
    x = torch.randn(T, B, I)
    e = errors_of(lambda: mod(x.double()))
    assert isinstance(e, gpurnn.InvalidArgumentError) and "'input'" in str(e) and "float64" in str(e)
    assert "input_size=5" in str(errors_of(lambda: mod(torch.randn(T, B, I + 1))))
    assert "'input'" in str(errors_of(lambda: mod(torch.randn(T, B, I, 1))))
    assert "'input'" in str(errors_of(lambda: mod(x.numpy())))
    assert "at least one step" in str(errors_of(lambda: mod(torch.randn(0, B, I))))
    h0, c0 = torch.zeros(2, B, H), torch.zeros(2, B, H)
    assert "'hx'" in str(errors_of(lambda: mod(x, h0)))
    assert "h_0" in str(errors_of(lambda: mod(x, (torch.zeros(2, B + 1, H), c0))))
    assert "c_0" in str(errors_of(lambda: mod(x, (h0, c0.double()))))
    e = errors_of(lambda: mod(x.to("meta")))  # another device than the parameters'
    assert isinstance(e, gpurnn.InvalidArgumentError) and "meta" in str(e) and "expected cpu" in str(e)
    e = errors_of(lambda: copy.deepcopy(mod).to("meta")(x.to("meta")))
    assert isinstance(e, gpurnn.UnsupportedError) and "meta" in str(e)
    mixed = copy.deepcopy(mod)
    mixed.weight_hh_l1.data = mixed.weight_hh_l1.data.half()  # one parameter of another dtype
    e = errors_of(lambda: mixed(x))
    assert isinstance(e, gpurnn.UnsupportedError) and "torch.float16" in str(e)
    assert "'hx'" in str(errors_of(lambda: gt.GRU(I, H)(x, (h0, c0))))


def test_cuda_calls_without_a_device_are_a_clear_error():
    core = gt.LSTM(I, H)._gpurnn_core
    if any(d.startswith("cuda") for d in gpurnn.devices()):
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(gpurnn.UnsupportedError, match="cuda"):
        core._device_sizes("cuda:0", T, B, False, True, dropout=0.0)


def test_cuda_parameters_are_flattened(monkeypatch):
    """torch reports every CUDA tensor as shared (is_shared()), so only CPU parameters in shared
    memory stay out of flatten_parameters: stand-in CUDA parameters, so it runs without a GPU."""
    from unittest import mock
    mod = gt.LSTM(I, H, num_layers=2)
    cuda = torch.device("cuda", 0)

    def stand_in(i):
        p = mock.Mock(spec=torch.Tensor)  # isinstance(p, torch.Tensor)
        p.dtype, p.device = torch.float32, cuda
        p.is_shared.return_value = True
        p.data_ptr.return_value = 4096 * (i + 1)
        return p

    params = [stand_in(i) for i in range(len(mod._flat_weights_names))]
    flattened = []
    monkeypatch.setattr(mod, "_gpurnn_params", lambda: params)
    monkeypatch.setattr(mod, "_gpurnn_flatten_on_device", lambda ps, dtype, device: flattened.append((dtype, device)))
    mod.flatten_parameters()
    assert flattened == [(torch.float32, cuda)]


def test_cpu_parameters_in_shared_memory_are_not_flattened():
    """The other side of the rule above: CPU parameters in shared memory stay where they are."""
    mod = gt.GRU(I, H)
    mod.share_memory()  # moves each parameter's storage into shared memory
    mod.flatten_parameters()
    flat = mod._gpurnn_core.flat_parameters()
    assert all(p.is_shared() for p in mod.parameters())
    assert not any(flat.ctypes.data <= p.data_ptr() < flat.ctypes.data + flat.nbytes for p in mod.parameters())
    x = torch.randn(T, B, I)
    with torch.no_grad():
        assert rel(mod(x)[0], gt.to_torch(mod)(x)[0]) < 1e-5  # copied for the call, still correct


def test_device_sizes_are_asked_with_the_call_dropout():
    """The workspace and reserve are sized with the dropout the call runs with, not the one the
    core was built with (a module's dropout raised after construction): on the cpu backend, a core
    built with dropout 0 asked for 0.5 gives the sizes of one built with 0.5, and a dropout that is
    no probability is refused by name. (The standard engine's sizes do not depend on dropout; the
    check is that the call's dropout reaches the backend.)"""
    built_without = gt.LSTM(I, H, num_layers=2)._gpurnn_core
    built_with = gt.LSTM(I, H, num_layers=2, dropout=0.5)._gpurnn_core
    for train in (False, True):
        assert built_without._device_sizes("cpu", T, B, False, train, dropout=0.5) == \
            built_with._device_sizes("cpu", T, B, False, train, dropout=0.5)
    with pytest.raises(gpurnn.InvalidArgumentError, match="'dropout'"):
        built_without._device_sizes("cpu", T, B, False, True, dropout=1.5)


def test_cuda_function_sizes_its_buffers_with_the_call_dropout():
    """_CudaRNNFunction's forward and backward pass the call's dropout to _device_sizes (a
    stand-in core that records the call and stops there, so it runs without a GPU)."""
    import types

    class Stop(Exception):
        pass

    class SizesOnly:
        def __init__(self):
            self.dropouts = []

        def _device_sizes(self, device, steps, batch, batch_first, train, dropout=None):
            self.dropouts.append(dropout)
            raise Stop

    core = SizesOnly()
    x = torch.randn(T, B, I)
    call = (None, False, True, 0.5, 7, ("weight_ih_l0",), None, None)  # dropout 0.5
    with pytest.raises(Stop):
        gt._CudaRNNFunction.forward(types.SimpleNamespace(), core, call, x, None, None)
    ctx = types.SimpleNamespace(saved_tensors=(x, None, None), reserve=torch.empty(1), consumed=False,
                                core=core, call=call)
    with pytest.raises(Stop):
        gt._CudaRNNFunction.backward(ctx, torch.zeros(T, B, H), torch.zeros(1, B, H))
    assert core.dropouts == [0.5, 0.5]


needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available() or "cuda:0" not in gpurnn.devices(),
    reason="no CUDA device (or libgpurnn built without CUDA)")


@needs_cuda
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("kind", ["padded", "packed", "unbatched"])
def test_cuda_module_matches_the_cpu_module(cell, kind):
    torch.manual_seed(31)
    kw = dict(num_layers=2, bidirectional=True)
    if cell == "lstm":
        kw["proj_size"] = P
    cpu = make(cell, **kw)
    gpu = copy.deepcopy(cpu).cuda()
    assert gpu._gpurnn_flat.is_cuda  # flattened onto the device
    unbatched = kind == "unbatched"
    x = torch.randn(*((T, I) if unbatched else (T, B, I)))
    hx = state(cell, 2, True, kw.get("proj_size", 0), B, unbatched=unbatched)
    results = []
    for mod, dev in ((cpu, "cpu"), (gpu, "cuda")):
        xd = x.to(dev).requires_grad_()
        hd = tuple(t.detach().to(dev).requires_grad_() for t in leaves(hx))
        inp = pack_padded_sequence(xd, torch.tensor(LENGTHS), enforce_sorted=False) if kind == "packed" else xd
        out, hn = mod(inp, hd if cell == "lstm" else hd[0])
        y = pad_packed_sequence(out, total_length=T)[0] if kind == "packed" else out
        outs = [y] + leaves(hn)
        sum((o * (i + 1)).sum() for i, o in enumerate(outs)).backward()
        grads = [xd.grad] + [t.grad for t in hd] + [p.grad for p in mod.parameters()]
        results.append([t.detach().cpu() for t in outs + grads])
    for i, (a, b) in enumerate(zip(*results)):
        assert rel(a, b) < 1e-5, (i, rel(a, b))


@needs_cuda
def test_cuda_training_step_and_retain_graph_error():
    torch.manual_seed(32)
    mod = gt.GRU(I, H, num_layers=2).cuda()
    opt = torch.optim.SGD(mod.parameters(), lr=0.1)
    x = torch.randn(T, B, I, device="cuda")
    loss = mod(x)[0].pow(2).mean()
    loss.backward(retain_graph=True)
    opt.step()  # in place: the flat tensor stays the parameters' storage
    assert all(p.data_ptr() >= mod._gpurnn_flat.data_ptr() for p in mod.parameters())
    with pytest.raises(RuntimeError):
        loss.backward()


def test_readme_example_runs():
    readme = pathlib.Path(__file__).resolve().parent.parent / "README.md"
    blocks = [b.split("```", 1)[0] for b in readme.read_text().split("```python\n")[1:]]
    block = next(b for b in blocks if "gpurnn.torch" in b)
    scope = {}
    exec(compile(block, str(readme), "exec"), scope)
    assert isinstance(scope["plain"], torch.nn.LSTM) and not isinstance(scope["plain"], gt.LSTM)
    assert all(p.grad is not None for p in scope["lstm"].parameters())
