"""gpurnn.torch in half precision: bfloat16 and float16 modules, and torch.autocast.

The reference for every comparison is the float64 result of the *same half-rounded* weights,
inputs and upstream gradients (torch.nn's module in float64), so only the arithmetic's errors are
measured, not the rounding of the data.

Forward tolerance: libgpurnn's half rule (README "Half precision": f32 products and cell math,
h rounded to half every step, c kept f32) must be no worse than twice the error of a reference
half computation plus 2u·max|y|, u the unit roundoff (2^-8 bf16, 2^-11 f16): the rule rounds
every output to half once (u·|y|) and feeds each step the half-rounded h of the step before
(another u·|y| carried), which an f32-state computation need not do. The reference half
computation is torch.nn's own module in bfloat16 (torch 1.13 runs bf16 RNNs on the cpu); torch
has no float16 RNN on the cpu ("addmm_impl_cpu_ not implemented for 'Half'"), so for float16 it
is torch's float32 cells stepped with h rounded to float16 between steps and c kept float32 --
an emulation of the rule itself.

Backward tolerance: the README's stated one for half backward, 4·T·L·u of the largest
gradient, against the float64 gradients (the parameter gradients, f32 in libgpurnn, are rounded
to the parameter's dtype at the end: one more u, inside it).
"""
import pytest

import gpurnn

torch = pytest.importorskip("torch")
import gpurnn.torch as gt  # noqa: E402

I, H, T, B = 5, 7, 6, 3
U = {torch.bfloat16: 2.0**-8, torch.float16: 2.0**-11}
HALVES = [torch.bfloat16, torch.float16]


def rounded(dtype, *shape):
    return torch.randn(*shape).to(dtype)


def pair(cls, dtype, seed=0):
    """(gpurnn.torch module in `dtype`, torch.nn float64 module with the same rounded values)."""
    torch.manual_seed(seed)
    ours = cls(I, H).to(dtype)
    ref = getattr(torch.nn, cls.__name__)(I, H).double()
    ref.load_state_dict({k: v.double() for k, v in ours.state_dict().items()})
    return ours, ref


def flat_outputs(out):
    y, h = out
    return [y] + (list(h) if isinstance(h, tuple) else [h])


def max_err(a, b):
    return (a.double() - b.double()).abs().max().item()


def emulated_half(cls, module64, x, dtype):
    """The half rule stepped with torch's float32 cells: h rounded to `dtype` each step, c f32."""
    cell = (torch.nn.LSTMCell if cls is gt.LSTM else torch.nn.GRUCell)(I, H)
    cell.load_state_dict({k[:-3]: v.float() for k, v in module64.state_dict().items()})
    h = torch.zeros(B, H)
    c = torch.zeros(B, H)
    ys = []
    with torch.no_grad():
        for t in range(T):
            if cls is gt.LSTM:
                h, c = cell(x[t].float(), (h, c))
            else:
                h = cell(x[t].float(), h)
            h = h.to(dtype).float()
            ys.append(h)
    y = torch.stack(ys)
    return [y, h[None]] + ([c[None].to(dtype).float()] if cls is gt.LSTM else [])


@pytest.mark.parametrize("dtype", HALVES, ids=["bf16", "f16"])
@pytest.mark.parametrize("cls", [gt.LSTM, gt.GRU], ids=["lstm", "gru"])
def test_half_forward_backward_against_float64(cls, dtype):
    ours, ref = pair(cls, dtype)
    x = rounded(dtype, T, B, I).requires_grad_()
    out = flat_outputs(ours(x))
    assert all(t.dtype == dtype for t in out)

    x64 = x.detach().double().requires_grad_()
    exact = flat_outputs(ref(x64))
    if dtype == torch.bfloat16:
        theirs_module = getattr(torch.nn, cls.__name__)(I, H).to(dtype)
        theirs_module.load_state_dict(ours.state_dict())
        with torch.no_grad():
            theirs = flat_outputs(theirs_module(x.detach()))
    else:
        theirs = emulated_half(cls, ref, x.detach(), dtype)
    u = U[dtype]
    for name, a, b, e in zip(["y", "hn", "cn"], out, theirs, exact):
        ours_err, their_err = max_err(a, e), max_err(b, e)
        bound = 2 * their_err + 2 * u * e.abs().max().item()
        assert ours_err <= bound, (name, ours_err, their_err, bound)

    # Backward: one upstream gradient for y (rounded, so both sides see the same values).
    dy = rounded(dtype, T, B, H)
    out[0].backward(dy)
    exact[0].backward(dy.double())
    assert x.grad.dtype == dtype
    grads = {"x": (x.grad, x64.grad)}
    for (n, p), p64 in zip(ours.named_parameters(), ref.parameters()):
        assert p.grad is not None and p.grad.dtype == dtype, n
        grads[n] = (p.grad, p64.grad)
    tol = 4 * T * 1 * u  # README: 4·T·L·u of the largest gradient
    for n, (g, g64) in grads.items():
        assert max_err(g, g64) <= tol * g64.abs().max().item(), n


@pytest.mark.parametrize("dtype", HALVES, ids=["bf16", "f16"])
def test_half_with_state_packed_and_bidirectional(dtype):
    torch.manual_seed(3)
    ours = gt.LSTM(I, H, num_layers=2, bidirectional=True, batch_first=True).to(dtype)
    ref = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True, batch_first=True).double()
    ref.load_state_dict({k: v.double() for k, v in ours.state_dict().items()})
    x = rounded(dtype, B, T, I)
    h0, c0 = rounded(dtype, 4, B, H).requires_grad_(), rounded(dtype, 4, B, H).requires_grad_()
    lengths = torch.tensor([T, 2, 4])
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    y, (hn, cn) = ours(packed, (h0, c0))
    assert y.data.dtype == hn.dtype == cn.dtype == dtype
    packed64 = torch.nn.utils.rnn.pack_padded_sequence(x.double(), lengths, batch_first=True,
                                                       enforce_sorted=False)
    y64, (hn64, cn64) = ref(packed64, (h0.detach().double(), c0.detach().double()))
    # A coarse sanity bound here (two layers, both directions): the README's 12.6u over y.
    for a, b in ((y.data, y64.data), (hn, hn64), (cn, cn64)):
        assert max_err(a, b) <= 12.6 * U[dtype] * max(1.0, b.abs().max().item())
    (y.data.float().sum() + hn.float().sum()).backward()
    assert h0.grad.dtype == c0.grad.dtype == dtype
    assert all(p.grad.dtype == dtype for p in ours.parameters())


def test_half_parameters_are_views_and_train():
    """.to(bfloat16) keeps the parameters views of the libgpurnn RNN's buffer (no copy per
    call), and an optimizer steps them."""
    torch.manual_seed(1)
    mod = gt.GRU(I, H).bfloat16()
    assert mod._gpurnn_core.dtype == "bfloat16"
    before = gpurnn._weight_copy_count()
    opt = torch.optim.SGD(mod.parameters(), lr=0.1)
    x = rounded(torch.bfloat16, T, B, I)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = mod(x)[0].float().pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert gpurnn._weight_copy_count() == before
    assert losses[-1] < losses[0]
    assert gt.to_torch(mod).weight_ih_l0.dtype == torch.bfloat16


def test_mixed_dtypes_are_an_error_naming_the_argument():
    mod = gt.LSTM(I, H)
    x = torch.randn(T, B, I)
    # torch.nn.LSTM raises too (RuntimeError "mat1 and mat2 must have the same dtype"); ours is
    # a gpurnn.InvalidArgumentError, also a RuntimeError, that names the argument.
    with pytest.raises(RuntimeError):
        torch.nn.LSTM(I, H)(x.bfloat16())
    with pytest.raises(gpurnn.InvalidArgumentError, match="'input' has dtype torch.bfloat16"):
        mod(x.bfloat16())
    half = gt.LSTM(I, H).half()
    with pytest.raises(gpurnn.InvalidArgumentError, match="'input' has dtype torch.float32, expected torch.float16"):
        half(x)
    h = torch.zeros(1, B, H, dtype=torch.float16)
    with pytest.raises(gpurnn.InvalidArgumentError, match=r"'hx\[1\] \(c_0\)' has dtype torch.float32"):
        half(x.half(), (h, h.float()))


def _cuda_or_skip():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device (the CUDA half path is compiled, not yet run)")


@pytest.mark.parametrize("dtype", HALVES, ids=["bf16", "f16"])
@pytest.mark.parametrize("cls", [gt.LSTM, gt.GRU], ids=["lstm", "gru"])
def test_half_on_cuda_agrees_with_the_cpu(cls, dtype):
    """The same rule on libgpurnn's cuda backend: outputs within 2u of the cpu's (the products
    sum in another order, so a rounding of h may flip by one half ulp), gradients within the
    README's 4·T·L·u of the largest; every result in the module's dtype."""
    _cuda_or_skip()
    torch.manual_seed(4)
    cpu = cls(I, H).to(dtype)
    dev = cls(I, H).to(dtype)
    dev.load_state_dict(cpu.state_dict())
    dev = dev.cuda()
    x = rounded(dtype, T, B, I)
    xc, xd = x.clone().requires_grad_(), x.cuda().requires_grad_()
    oc, od = flat_outputs(cpu(xc)), flat_outputs(dev(xd))
    u = U[dtype]
    for a, b in zip(od, oc):
        assert a.dtype == dtype and a.is_cuda
        assert max_err(a.cpu(), b) <= 2 * u * max(1.0, b.abs().max().item())
    dy = rounded(dtype, T, B, H)
    oc[0].backward(dy)
    od[0].backward(dy.cuda())
    tol = 4 * T * u
    assert max_err(xd.grad.cpu(), xc.grad) <= tol * xc.grad.abs().max().item()
    for (n, pc), pd in zip(cpu.named_parameters(), dev.parameters()):
        assert pd.grad.dtype == dtype, n
        assert max_err(pd.grad.cpu(), pc.grad) <= tol * pc.grad.abs().max().item(), n


def test_autocast_cuda_runs_float16_like_torch():
    """torch.autocast("cuda") casts a cuDNN RNN to float16 (_cudnn_rnn_cast_reflatten): the
    outputs are float16, float32 parameters get float32 .grad."""
    _cuda_or_skip()
    torch.manual_seed(5)
    mod = gt.LSTM(I, H).cuda()
    ref = torch.nn.LSTM(I, H).cuda()
    ref.load_state_dict(mod.state_dict())
    x = torch.randn(T, B, I, device="cuda")
    with torch.autocast("cuda"):
        y, (hn, cn) = mod(x)
        y_ref, (hn_ref, cn_ref) = ref(x)
    assert (y.dtype, hn.dtype, cn.dtype) == (y_ref.dtype, hn_ref.dtype, cn_ref.dtype)
    assert max_err(y, y_ref) <= 8 * T * U[torch.float16] * max(1.0, y_ref.abs().max().item())
    y.float().sum().backward()
    assert all(p.grad.dtype == torch.float32 for p in mod.parameters())


def test_autocast_cpu_bfloat16_matches_torch_dtypes():
    """Under torch.autocast("cpu", dtype=torch.bfloat16) the output dtypes are torch 1.13's,
    the computation libgpurnn's bf16 rule, the gradients f32 for f32 parameters and inputs."""
    cases = [(gt.LSTM, {}), (gt.LSTM, {"proj_size": 3}), (gt.GRU, {}), (gt.RNN, {})]
    for cls, kw in cases:
        torch.manual_seed(2)
        ours = cls(I, H, **kw)
        theirs = getattr(torch.nn, cls.__name__)(I, H, **kw)
        theirs.load_state_dict(ours.state_dict())
        for x_dtype, h_dtype in [(torch.float32, None), (torch.bfloat16, None),
                                 (torch.float32, torch.bfloat16), (torch.bfloat16, torch.float32)]:
            x = torch.randn(T, B, I, dtype=x_dtype)
            hx = None
            if h_dtype is not None:
                h = torch.zeros(1, B, 3 if kw else H, dtype=h_dtype)
                hx = (h, torch.zeros(1, B, H, dtype=h_dtype)) if cls is gt.LSTM else h
            with torch.autocast("cpu", dtype=torch.bfloat16):
                a = flat_outputs(ours(x, hx))
                b = flat_outputs(theirs(x, hx))
            assert [t.dtype for t in a] == [t.dtype for t in b], (cls.__name__, kw, x_dtype, h_dtype)
            # Both compute from bf16-rounded operands: within a few bf16 roundings of each other.
            for s, t in zip(a, b):
                assert max_err(s, t) <= 0.05, (cls.__name__, kw, x_dtype, h_dtype)
    mod = gt.LSTM(I, H)
    x = torch.randn(T, B, I, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y, _ = mod(x)
    y.float().sum().backward()
    assert x.grad.dtype == torch.float32 and mod.weight_hh_l0.grad.dtype == torch.float32
    assert mod.weight_hh_l0.dtype == torch.float32  # the parameters stay float32
    # float64 modules are not autocast (as torch's: autocast casts float32 only).
    d = gt.GRU(I, H).double()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert d(torch.randn(T, B, I, dtype=torch.float64))[0].dtype == torch.float64
