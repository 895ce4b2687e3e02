"""gpurnn.torch's cell modules: torch.nn.LSTMCell, GRUCell and RNNCell computed by libgpurnn.

Each is a subclass of torch's cell with the same constructor, parameters (weight_ih, weight_hh,
bias_ih, bias_hh), state_dict and forward(input, hx=None): input [B, I] or unbatched [I], hx
(h_0, c_0) for an LSTMCell or h_0, each [B, H] (or [H]), zeros when absent; it returns
(h_1, c_1) or h_1. Behind it is a one-layer libgpurnn RNN whose weight buffer the parameters
are views of (re-pointed after .to(), load_state_dict or a replaced Parameter, values kept).

A call costs one backend step. One that needs no gradient (torch.no_grad(), or nothing
requiring grad) on the cpu goes straight to libgpurnn's step over the tensors' memory (the
streaming case: a decoder or a voice-activity detector stepping a cell per frame); one that
needs gradients runs through the same autograd Function as gpurnn.torch.LSTM with T = 1, so a
loop over a cell backpropagates one libgpurnn backward per step. On a CUDA device every call
takes the autograd path of gpurnn.torch's CUDA modules (compiled, not yet run on a GPU).
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import _core
from ._core import InvalidArgumentError, UnsupportedError
from .torch import _FLOAT_DTYPES, _CudaRNNFunction, _describe, _RNNFunction

_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class _CellFunction(torch.autograd.Function):
    """One training step of a cell on the cpu: libgpurnn's step forward, and its backward into
    new tensors (dx, dh0, dc0, and each parameter's gradient as a view of one flat tensor).

    forward(ctx, cell, x, h0, c0, *params): x [B, I], h0 and c0 [B, H] or None (zeros), all
    contiguous in the parameters' dtype; the parameters are views of cell's libgpurnn buffer.
    """

    @staticmethod
    def forward(ctx, cell, x, h0, c0, *params):
        batch, lstm = x.shape[0], c0 is not None or cell._gpurnn_cell() == "lstm"
        h1 = torch.empty(batch, cell.hidden_size, dtype=x.dtype)
        c1 = torch.empty(batch, cell.hidden_size, dtype=x.dtype) if lstm else None
        core = cell._gpurnn_core
        ctx.step = core._cell_train_step(x.data_ptr(), 0 if h0 is None else h0.data_ptr(),
                                         0 if c0 is None else c0.data_ptr(), h1.data_ptr(),
                                         0 if c1 is None else c1.data_ptr(), batch, torch.get_num_threads())
        ctx.cell, ctx.given = cell, (h0 is not None, c0 is not None)
        # Saved for their version counters: backward raises, as torch's cells do, when one was
        # modified in place after this forward (x is also read again by the backward).
        ctx.save_for_backward(x, *params)
        return (h1, c1) if lstm else h1

    @staticmethod
    @once_differentiable
    def backward(ctx, dh1, dc1=None):
        x, *params = ctx.saved_tensors
        cell = ctx.cell
        dh1 = dh1.contiguous()
        dc1 = None if dc1 is None else dc1.contiguous()
        dx = torch.empty_like(x)
        dh0 = torch.empty_like(dh1) if ctx.given[0] else None
        dc0 = torch.empty_like(dh1) if ctx.given[1] else None
        half = x.dtype in (torch.bfloat16, torch.float16)
        grads = torch.empty(cell._gpurnn_numel, dtype=torch.float32 if half else x.dtype)
        cell._gpurnn_core._cell_backward(ctx.step, x.data_ptr(), dh1.data_ptr(),
                                         0 if dc1 is None else dc1.data_ptr(), dx.data_ptr(),
                                         0 if dh0 is None else dh0.data_ptr(),
                                         0 if dc0 is None else dc0.data_ptr(), grads.data_ptr(),
                                         torch.get_num_threads())
        # Half weights' gradients are float32 (libgpurnn's rule); .grad is in the parameter's dtype.
        param_grads = (grads[o:o + n].view(p.shape).to(p.dtype) for (o, n), p in zip(cell._gpurnn_slots, params))
        return (None, dx, dh0, dc0, *param_grads)


class _CellMixin:
    """What LSTMCell, GRUCell and RNNCell add to torch's cells: the libgpurnn RNN behind them."""

    _gpurnn_core = None
    _gpurnn_views = ()  # data_ptr of each parameter while they are views of the core's buffer

    def _gpurnn_cell(self) -> str:
        raise NotImplementedError

    def _gpurnn_params(self):
        return [getattr(self, n) for n in _NAMES[:4 if self.bias else 2]]

    def _gpurnn_core_names(self):
        return tuple(n + "_l0" for n in _NAMES[:4 if self.bias else 2])

    def _gpurnn_attach(self):
        """Makes the parameters views of a libgpurnn RNN's buffer in their dtype (values kept);
        on a CUDA device only the RNN is made (its calls take the parameters as they are)."""
        params = self._gpurnn_params()
        dtype, device = params[0].dtype, params[0].device
        if dtype not in _FLOAT_DTYPES or any(p.dtype != dtype or p.device != device for p in params):
            raise UnsupportedError(
                f"gpurnn.torch.{type(self).__name__}: the parameters are "
                f"{sorted({f'{p.dtype} on {p.device}' for p in params})}; expected one dtype of "
                "torch.float32, float64, bfloat16 or float16 on one device")
        core = self._gpurnn_core
        if core is None or core.dtype != _FLOAT_DTYPES[dtype]:
            core = _core.RNN(self._gpurnn_cell(), self.input_size, self.hidden_size, 1, False,
                             bool(self.bias), 0, 0.0, dtype=_FLOAT_DTYPES[dtype])
            self._gpurnn_core = core
        self._gpurnn_views = ()
        if device.type != "cpu":
            return
        from .torch import _tensor  # the bfloat16-aware numpy -> tensor view

        views = core.parameters()
        base = core.flat_parameters()
        self._gpurnn_numel = base.size
        self._gpurnn_slots = [((views[n].ctypes.data - base.ctypes.data) // base.itemsize, views[n].size)
                              for n in self._gpurnn_core_names()]
        with torch.no_grad():
            for name, p in zip(self._gpurnn_core_names(), params):
                buffer = _tensor(views[name])
                if p.data_ptr() != buffer.data_ptr():
                    buffer.copy_(p.reshape(buffer.shape))
                    p.data = buffer
        self._gpurnn_views = tuple(p.data_ptr() for p in params)

    def _gpurnn_attached(self, params) -> bool:
        views = self._gpurnn_views
        return len(views) == len(params) and all(p.data_ptr() == v for p, v in zip(params, views))

    def _apply(self, fn, *args, **kwargs):  # .to(), .cuda(), .double(), .half(), ...
        out = super()._apply(fn, *args, **kwargs)
        self._gpurnn_attach()
        return out

    # -- forward ----------------------------------------------------------------------

    def _gpurnn_checked(self, name, t, features, dtype, device, unbatched, batch):
        where = f"gpurnn.torch.{type(self).__name__}.forward"
        if not isinstance(t, torch.Tensor):
            raise InvalidArgumentError(f"{where}: argument '{name}' must be a torch.Tensor, got {_describe(t)}")
        if t.device != device or t.dtype != dtype:
            raise InvalidArgumentError(
                f"{where}: argument '{name}' is {t.dtype} on {t.device}, expected {dtype} on {device} "
                "like the module's parameters")
        expected = (features,) if unbatched else (batch, features)
        if tuple(t.shape) != expected:
            raise InvalidArgumentError(
                f"{where}: argument '{name}' has shape {tuple(t.shape)}, expected {expected}")
        return t

    def _gpurnn_states(self, hx, dtype, device, unbatched, batch):
        """(h_0, c_0) from hx (None for what is absent), checked as torch's cell checks them."""
        if hx is None:
            return None, None
        if self._gpurnn_cell() == "lstm":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise InvalidArgumentError(
                    f"gpurnn.torch.{type(self).__name__}.forward: argument 'hx' must be a pair "
                    f"(h_0, c_0), got {_describe(hx)}")
            return (self._gpurnn_checked("hx[0] (h_0)", hx[0], self.hidden_size, dtype, device, unbatched, batch),
                    self._gpurnn_checked("hx[1] (c_0)", hx[1], self.hidden_size, dtype, device, unbatched, batch))
        return self._gpurnn_checked("hx", hx, self.hidden_size, dtype, device, unbatched, batch), None

    def forward(self, input, hx=None):  # noqa: A002  (torch's name)
        where = f"gpurnn.torch.{type(self).__name__}.forward"
        params = self._gpurnn_params()
        p0 = params[0]
        dtype, device = p0.dtype, p0.device
        if not isinstance(input, torch.Tensor) or input.dim() not in (1, 2):
            raise InvalidArgumentError(
                f"{where}: argument 'input' must be a tensor of shape [B, I] or unbatched [I], got "
                f"{_describe(input)}")
        unbatched = input.dim() == 1
        batch = 1 if unbatched else input.shape[0]
        x = self._gpurnn_checked("input", input, self.input_size, dtype, device, unbatched, batch)
        if batch == 0:
            raise InvalidArgumentError(f"{where}: argument 'input' has shape {tuple(input.shape)}, expected "
                                       "at least one sequence")
        h0, c0 = self._gpurnn_states(hx, dtype, device, unbatched, batch)
        lstm = self._gpurnn_cell() == "lstm"
        if device.type == "cpu" and not self._gpurnn_attached(params):
            self._gpurnn_attach()  # a replaced Parameter or a load_state_dict: values kept
        needs_grad = torch.is_grad_enabled() and (
            x.requires_grad or any(p.requires_grad for p in params)
            or any(s is not None and s.requires_grad for s in (h0, c0)))
        if device.type == "cpu":
            if not needs_grad:
                return self._gpurnn_step(x, h0, c0, unbatched, batch, lstm)
            if self._gpurnn_attached(params):
                return self._gpurnn_train_step(params, x, h0, c0, unbatched, batch)
        return self._gpurnn_autograd_step(params, x, h0, c0, unbatched, device, lstm)

    def _gpurnn_train_step(self, params, x, h0, c0, unbatched, batch):
        """A step that needs gradients on the cpu: _CellFunction (libgpurnn's step and backward)."""
        if unbatched:
            x, h0, c0 = (None if t is None else t.reshape(1, -1) for t in (x, h0, c0))
        x, h0, c0 = (None if t is None else t.contiguous() for t in (x, h0, c0))
        out = _CellFunction.apply(self, x, h0, c0, *params)
        if unbatched:
            return tuple(t.reshape(-1) for t in out) if isinstance(out, tuple) else out.reshape(-1)
        return out

    def _gpurnn_step(self, x, h0, c0, unbatched, batch, lstm):
        """The inference step straight over the tensors' memory (no autograd)."""
        x = x.contiguous()
        h0 = None if h0 is None else h0.contiguous()
        c0 = None if c0 is None else c0.contiguous()
        shape = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
        h1 = torch.empty(shape, dtype=x.dtype)
        c1 = torch.empty(shape, dtype=x.dtype) if lstm else None
        self._gpurnn_core._cell_step(x.data_ptr(), 0 if h0 is None else h0.data_ptr(),
                                     0 if c0 is None else c0.data_ptr(), h1.data_ptr(),
                                     0 if c1 is None else c1.data_ptr(), batch, torch.get_num_threads())
        return (h1, c1) if lstm else h1

    def _gpurnn_autograd_step(self, params, x, h0, c0, unbatched, device, lstm):
        """One step through gpurnn.torch's autograd Functions (T = 1)."""
        lead = (lambda t: None if t is None else t.reshape(1, 1, -1)) if unbatched else \
            (lambda t: None if t is None else t.unsqueeze(0))
        x3, h3, c3 = lead(x), lead(h0), lead(c0)
        names = self._gpurnn_core_names()
        core = self._gpurnn_core
        if device.type == "cuda":
            flat = torch.cat([p.detach().reshape(-1) for p in params])
            slots, offset = [], 0
            for p in params:
                slots.append((offset, p.numel()))
                offset += p.numel()
            call = (None, False, True, 0.0, 0, names, flat, slots)
            out = _CudaRNNFunction.apply(core, call, x3, h3, c3, *params)
        else:
            call = (None, False, True, 0.0, 0, names)
            out = _RNNFunction.apply(core, call, x3, h3, c3, *params)
        shape = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
        h1 = out[1].reshape(shape)
        return (h1, out[2].reshape(shape)) if lstm else h1


class LSTMCell(_CellMixin, torch.nn.LSTMCell):
    """torch.nn.LSTMCell computed by libgpurnn (see gpurnn.torch's docstring on cells)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._gpurnn_attach()

    def _gpurnn_cell(self) -> str:
        return "lstm"


class GRUCell(_CellMixin, torch.nn.GRUCell):
    """torch.nn.GRUCell computed by libgpurnn (see gpurnn.torch's docstring on cells)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._gpurnn_attach()

    def _gpurnn_cell(self) -> str:
        return "gru"


class RNNCell(_CellMixin, torch.nn.RNNCell):
    """torch.nn.RNNCell (tanh or relu) computed by libgpurnn (see gpurnn.torch's docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._gpurnn_attach()

    def _gpurnn_cell(self) -> str:
        return "rnn_" + self.nonlinearity
