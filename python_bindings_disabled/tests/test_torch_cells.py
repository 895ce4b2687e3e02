"""gpurnn.torch.LSTMCell, GRUCell and RNNCell against torch.nn's cells: outputs and gradients,
the no-gradient step and the autograd step, a loop over a cell against gpurnn.torch's sequence
module, the parameters staying views of libgpurnn's buffer through optimizer steps,
load_state_dict and .to(), and bad arguments named as torch's cells name them.

Tolerances: float64 to 1e-12 (the same arithmetic up to summation order); float32 to 1e-5 of
the largest value (a step's products of 2H terms in another order).
"""
import pytest

import gpurnn

torch = pytest.importorskip("torch")
import gpurnn.torch as gt  # noqa: E402

I, H, B = 5, 7, 3
CELLS = [(gt.LSTMCell, torch.nn.LSTMCell, {}), (gt.GRUCell, torch.nn.GRUCell, {}),
         (gt.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
         (gt.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"})]
IDS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]
TOL = {torch.float64: 1e-12, torch.float32: 1e-5}


def pair(ours_cls, theirs_cls, kw, dtype=torch.float64, bias=True, seed=0):
    torch.manual_seed(seed)
    ours = ours_cls(I, H, bias=bias, **kw).to(dtype)
    theirs = theirs_cls(I, H, bias=bias, **kw).to(dtype)
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


def state(lstm, dtype, batch=B, requires_grad=False):
    make = lambda: torch.randn(batch, H, dtype=dtype).requires_grad_(requires_grad)  # noqa: E731
    return (make(), make()) if lstm else make()


def flat(out):
    return list(out) if isinstance(out, tuple) else [out]


def close(a, b, dtype):
    return (a - b).abs().max().item() <= TOL[dtype] * max(1.0, b.abs().max().item())


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("ours_cls,theirs_cls,kw", CELLS, ids=IDS)
def test_cell_matches_torch_with_and_without_gradients(ours_cls, theirs_cls, kw, bias, dtype):
    ours, theirs = pair(ours_cls, theirs_cls, kw, dtype, bias)
    assert isinstance(ours, theirs_cls)
    lstm = theirs_cls is torch.nn.LSTMCell
    x = torch.randn(B, I, dtype=dtype)
    hx = state(lstm, dtype)
    with torch.no_grad():  # the direct step
        for a, b in zip(flat(ours(x, hx)), flat(theirs(x, hx))):
            assert a.dtype == dtype and close(a, b, dtype)
        for a, b in zip(flat(ours(x)), flat(theirs(x))):  # hx absent: zeros
            assert close(a, b, dtype)
    # The autograd step: every gradient, the state's too.
    xo, xt = x.clone().requires_grad_(), x.clone().requires_grad_()
    ho = state(lstm, dtype, requires_grad=True)
    ht = tuple(t.detach().clone().requires_grad_() for t in ho) if lstm else ho.detach().clone().requires_grad_()
    out_o, out_t = flat(ours(xo, ho)), flat(theirs(xt, ht))
    weights = [torch.randn_like(t) for t in out_t]
    sum((w * t).sum() for w, t in zip(weights, out_o)).backward()
    sum((w * t).sum() for w, t in zip(weights, out_t)).backward()
    assert close(xo.grad, xt.grad, dtype)
    for a, b in zip(flat(ho), flat(ht)):
        assert close(a.grad, b.grad, dtype)
    for (n, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert close(p.grad, q.grad, dtype), n


@pytest.mark.parametrize("ours_cls,theirs_cls,kw", CELLS[:2], ids=IDS[:2])
def test_unbatched_input(ours_cls, theirs_cls, kw):
    ours, theirs = pair(ours_cls, theirs_cls, kw)
    x = torch.randn(I, dtype=torch.float64)
    lstm = theirs_cls is torch.nn.LSTMCell
    hx = (torch.randn(H, dtype=torch.float64), torch.randn(H, dtype=torch.float64)) if lstm \
        else torch.randn(H, dtype=torch.float64)
    for grad in (False, True):
        with torch.set_grad_enabled(grad):
            for a, b in zip(flat(ours(x, hx)), flat(theirs(x, hx))):
                assert a.shape == (H,) and close(a, b, torch.float64)


def test_a_loop_over_a_cell_is_the_sequence_module():
    """Stepping gt.LSTMCell over T steps gives gt.LSTM's outputs and gradients on the same
    weights: each call is one backend step, and backward runs through every step."""
    torch.manual_seed(4)
    T = 6
    cell = gt.LSTMCell(I, H).double()
    seq = gt.LSTM(I, H).double()
    seq.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = torch.randn(T, B, I, dtype=torch.float64)
    xc, xs = x.clone().requires_grad_(), x.clone().requires_grad_()
    h = c = torch.zeros(B, H, dtype=torch.float64)
    ys = []
    for t in range(T):
        h, c = cell(xc[t], (h, c))
        ys.append(h)
    y_cell = torch.stack(ys)
    y_seq, _ = seq(xs)
    assert close(y_cell, y_seq, torch.float64)
    dy = torch.randn_like(y_seq)
    (y_cell * dy).sum().backward()
    (y_seq * dy).sum().backward()
    assert close(xc.grad, xs.grad, torch.float64)
    for (n, p), q in zip(cell.named_parameters(), seq.parameters()):
        assert close(p.grad, q.grad, torch.float64), n


def test_parameters_stay_libgpurnn_memory_through_training_and_loading():
    torch.manual_seed(5)
    cell = gt.GRUCell(I, H)
    ref = torch.nn.GRUCell(I, H)
    core = cell._gpurnn_core
    addresses = [p.data_ptr() for p in cell.parameters()]
    opt = torch.optim.SGD(cell.parameters(), lr=0.5)
    x = torch.randn(B, I)
    copies = gpurnn._weight_copy_count()
    for _ in range(2):
        opt.zero_grad()
        cell(x).pow(2).sum().backward()
        opt.step()
    assert [p.data_ptr() for p in cell.parameters()] == addresses
    assert gpurnn._weight_copy_count() == copies  # the autograd steps ran on the buffer itself
    # The direct step sees the stepped weights (it reads libgpurnn's buffer, which they are).
    ref.load_state_dict(cell.state_dict())
    with torch.no_grad():
        assert close(cell(x), ref(x), torch.float32)
    # load_state_dict copies into the views; a replaced Parameter is copied in at the next call.
    ref2 = torch.nn.GRUCell(I, H)
    cell.load_state_dict(ref2.state_dict())
    with torch.no_grad():
        assert close(cell(x), ref2(x), torch.float32)
    cell.weight_hh = torch.nn.Parameter(torch.zeros(3 * H, H))
    ref2.weight_hh = torch.nn.Parameter(torch.zeros(3 * H, H))
    with torch.no_grad():
        assert close(cell(x), ref2(x), torch.float32)
    assert cell._gpurnn_core is core
    # .double() re-attaches in the new dtype.
    cell.double()
    with torch.no_grad():
        assert cell(x.double()).dtype == torch.float64
        assert close(cell(x.double()), ref2.double()(x.double()), torch.float64)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "f16"])
def test_half_cells_follow_the_half_rule(dtype):
    """One step of a half cell is the f32 step of the same half values rounded once (the rule:
    f32 products and cell math, h and c rounded at the end)."""
    torch.manual_seed(6)
    cell = gt.LSTMCell(I, H).to(dtype)
    ref = torch.nn.LSTMCell(I, H)
    ref.load_state_dict({k: v.float() for k, v in cell.state_dict().items()})
    x = torch.randn(B, I).to(dtype)
    hx = (torch.randn(B, H).to(dtype), torch.randn(B, H).to(dtype))
    with torch.no_grad():
        h, c = cell(x, hx)
        h_ref, c_ref = ref(x.float(), tuple(t.float() for t in hx))
    assert h.dtype == c.dtype == dtype
    assert torch.equal(h, h_ref.to(dtype)) and torch.equal(c, c_ref.to(dtype))


def test_bad_arguments_are_named():
    cell = gt.LSTMCell(I, H)
    with pytest.raises(gpurnn.InvalidArgumentError, match="'input' has shape"):
        cell(torch.randn(B, I + 1))
    with pytest.raises(gpurnn.InvalidArgumentError, match="'input' must be a tensor"):
        cell(torch.randn(2, B, I))
    with pytest.raises(gpurnn.InvalidArgumentError, match="'input' is torch.float64"):
        cell(torch.randn(B, I, dtype=torch.float64))
    with pytest.raises(gpurnn.InvalidArgumentError, match=r"'hx' must be a pair"):
        cell(torch.randn(B, I), torch.zeros(B, H))
    with pytest.raises(gpurnn.InvalidArgumentError, match=r"'hx\[1\] \(c_0\)' has shape"):
        cell(torch.randn(B, I), (torch.zeros(B, H), torch.zeros(B + 1, H)))
    with pytest.raises(gpurnn.InvalidArgumentError, match=r"'hx' has shape"):
        gt.GRUCell(I, H)(torch.randn(B, I), torch.zeros(H))


def test_cells_on_cuda_agree_with_the_cpu():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device (the CUDA cell path is compiled, not yet run)")
    cpu, _ = pair(gt.LSTMCell, torch.nn.LSTMCell, {}, torch.float32)
    dev = gt.LSTMCell(I, H)
    dev.load_state_dict(cpu.state_dict())
    dev = dev.cuda()
    x = torch.randn(B, I)
    for a, b in zip(dev(x.cuda()), cpu(x)):
        assert a.is_cuda and close(a.detach().cpu(), b.detach(), torch.float32)
