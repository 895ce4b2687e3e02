"""gpurnn.torch: torch.nn.LSTM, GRU and RNN computed by libgpurnn, with autograd.

    import gpurnn.torch
    lstm = gpurnn.torch.LSTM(32, 64, num_layers=2, batch_first=True)   # as torch.nn.LSTM
    y, (hn, cn) = lstm(x)                                            # x: a torch tensor
    y.sum().backward()                                               # fills every .grad

LSTM, GRU and RNN subclass torch.nn.LSTM, GRU and RNN: same constructor, parameter names,
initialisation (torch's, from torch's RNG), state_dict, forward signature and return values,
including batch_first, proj_size, dropout, bidirectional, bias=False, unbatched input, an
initial state and PackedSequence input and output. Only forward differs: it runs libgpurnn's
cpu backend, and backward runs libgpurnn's backward (data and weights) through a
torch.autograd.Function.

Memory (CPU). The parameters are views of the libgpurnn RNN's own weight buffer (flatten_parameters
makes them so at construction and after .to(), .double() and the like, as torch does for
cuDNN), so a forward reads them in place and an optimizer's in-place step writes the weights
libgpurnn reads. Parameters that are not (replaced by assignment, swapped in by
torch.func.functional_call, tied between modules) are copied once per call, always correctly.
A contiguous CPU input is read in place and outputs are returned without a copy; a
non-contiguous input is copied once (.contiguous()).

Threads: libgpurnn runs on torch.get_num_threads() threads, so torch.set_num_threads governs
both.

Dropout draws the mask's seed from torch's default generator, so torch.manual_seed(s) gives
the same mask and the same gradients on every run.

CUDA: a module and inputs on one CUDA device run libgpurnn's cuda backend on
torch.cuda.current_stream(), every buffer a torch tensor (flatten_parameters keeps the
parameters as views of one flat tensor, as torch does for cuDNN). Compiled, not yet run on a
GPU (the tests that would run it skip without one). A second backward through one CUDA forward
(retain_graph=True) raises gpurnn.UnsupportedError.

Half precision (cpu and CUDA): a module in torch.bfloat16 or torch.float16 (module.to(torch.bfloat16),
.half()) with inputs and hx of that dtype runs libgpurnn's half rule (f32 products and cell
math, h rounded to half every step, an LSTM's c kept in f32): outputs, x.grad and the state
gradients come in that dtype. libgpurnn's weight gradients of half weights are float32; torch
requires .grad in the parameter's dtype, so they are rounded to it at the end of backward. An
input or state of another dtype than the parameters raises InvalidArgumentError naming it.
On a CUDA device the same rule runs in libgpurnn's cuda backend (compiled, not yet run).

torch.autocast("cpu", dtype=torch.bfloat16): for float32 (or bfloat16) parameters on the cpu,
the parameters, input and hx are cast to bfloat16 (differentiably, so float32 parameters and
inputs get float32 .grad), libgpurnn's bfloat16 path runs, and the outputs come back in the
dtypes torch 1.13's modules return there: LSTM/GRU in the dtype of the state carried (c_0's
or h_0's, else the input's), an LSTM with proj_size's y and hn in bfloat16, RNN's in bfloat16.
The
arithmetic differs from torch's (which rounds the gate pre-activations of each autocast
linear to bfloat16 and keeps h in the carried dtype): libgpurnn keeps them in f32 and rounds
h to bfloat16 every step; results agree within a few bfloat16 roundings, not bit for bit.
float64 modules are not autocast (as torch's).

torch.autocast("cuda"): as torch casts a cuDNN RNN (_cudnn_rnn_cast_reflatten: input, weights
and states to float16, whatever the autocast dtype), float32 (or float16) modules on a CUDA
device run libgpurnn's float16 path and every output is float16; float32 parameters get float32
.grad. Compiled, not yet run.

Cells: gpurnn.torch.LSTMCell, GRUCell and RNNCell subclass torch's cells; a call is one
libgpurnn step, straight over the tensors' memory when no gradient is needed (on the cpu), else
through the autograd Function above with T = 1 (gpurnn/_torch_cells.py).

Limits of this version: no double backward (create_graph=True).
"""
from __future__ import annotations

import numpy as np
import torch
from torch.autograd.function import once_differentiable
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from . import _core
from ._core import InvalidArgumentError, UnsupportedError

__all__ = ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell", "from_torch", "to_torch"]

_FLOAT_DTYPES = {torch.float32: "float32", torch.float64: "float64",
                 torch.bfloat16: "bfloat16", torch.float16: "float16"}
_HALF_DTYPES = (torch.bfloat16, torch.float16)


def _array(t):
    """A numpy view of a CPU tensor (no copy when it is contiguous), or None. numpy has no
    bfloat16: a bfloat16 tensor is seen as uint16 bit patterns, as libgpurnn's bfloat16 RNN
    takes them."""
    if t is None:
        return None
    t = t.detach()
    if not t.is_contiguous():
        t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16)
    return t.numpy()


def _tensor(a):
    """The tensor over a numpy array (no copy); uint16 arrays (a bfloat16 RNN's) as bfloat16."""
    if a is None:
        return None
    if a.dtype == np.uint16:
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(a)


class _RNNFunction(torch.autograd.Function):
    """y, hn[, cn] of one libgpurnn forward; backward runs libgpurnn's backward.

    forward(ctx, core, call, x, h0, c0, *params): `call` holds what is not a tensor:
    the lengths (a numpy int array or None), batch_first, whether to keep the pass for
    backward (train), the call's dropout and its seed, and the parameter names.
    """

    @staticmethod
    def forward(ctx, core, call, x, h0, c0, *params):
        lengths, batch_first, train, dropout, seed, names = call
        y, hn, cn, saved = core._forward_autograd(
            [_array(p) for p in params], _array(x), lengths, _array(h0), _array(c0),
            batch_first=batch_first, train=train, dropout=dropout, dropout_seed=seed,
            threads=torch.get_num_threads())
        ctx.core, ctx.saved, ctx.names = core, saved, names
        ctx.param_dtypes = tuple(p.dtype for p in params)
        ctx.given = (h0 is not None, c0 is not None)
        # Saved for their version counters: backward raises, as torch's own RNNs do, when one
        # was modified in place after this forward.
        ctx.save_for_backward(x, h0, c0, *params)
        outputs = (_tensor(y), _tensor(hn))
        return outputs if cn is None else outputs + (_tensor(cn),)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dhn, dcn=None):
        ctx.saved_tensors  # noqa: B018  (the in-place modification check)
        if ctx.saved is None:
            raise InvalidArgumentError(
                "gpurnn.torch: backward through a forward that did not keep its pass (an "
                "internal error: please report it)")
        g = ctx.core._backward_autograd(ctx.saved, _array(dy), _array(dhn), _array(dcn))
        dh0 = _tensor(g.dh0) if ctx.given[0] else None
        dc0 = _tensor(g.dc0) if ctx.given[1] else None
        # libgpurnn's weight gradients of half parameters are float32; torch wants .grad in the
        # parameter's dtype, so they are rounded to it here (a no-op for float32/float64).
        return (None, None, _tensor(g.dx), dh0, dc0,
                *(_tensor(g.parameters[n]).to(dt) for n, dt in zip(ctx.names, ctx.param_dtypes)))


class _CudaRNNFunction(torch.autograd.Function):
    """The same on CUDA tensors: libgpurnn's cuda backend on the caller's current stream, every
    buffer a torch tensor (RNN._forward_device / _backward_device take their device addresses).

    forward(ctx, core, call, x, h0, c0, *params): `call` as for _RNNFunction plus the flat
    weights tensor the call runs with (the parameters' own buffer, or a copy of them) and the
    parameters' (offset, numel) in it. Batched input only (the module adds the batch axis).
    """

    @staticmethod
    def forward(ctx, core, call, x, h0, c0, *params):
        lengths, batch_first, train, dropout, seed, names, flat, slots = call
        device = x.device.index
        x, h0, c0 = (None if t is None else t.detach().contiguous() for t in (x, h0, c0))
        steps, batch = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
        workspace_bytes, reserve_bytes = core._device_sizes(str(x.device), steps, batch, batch_first, train,
                                                            dropout=dropout)
        new = dict(dtype=x.dtype, device=x.device)
        workspace = torch.empty(workspace_bytes, dtype=torch.uint8, device=x.device)
        reserve = torch.empty(reserve_bytes, dtype=torch.uint8, device=x.device) if train else None
        out_width = core.descriptor.output_size
        states = core.num_layers * (2 if core.bidirectional else 1)
        y = torch.empty((batch, steps, out_width) if batch_first else (steps, batch, out_width), **new)
        hn = torch.empty(states, batch, core.proj_size or core.hidden_size, **new)
        cn = torch.empty(states, batch, core.hidden_size, **new) if core.cell == "lstm" else None
        stream = torch.cuda.current_stream(x.device).cuda_stream
        core._forward_device(device, stream, flat.data_ptr(), list(x.shape), x.data_ptr(), lengths,
                             _address(h0), _address(c0), y.data_ptr(), hn.data_ptr(), _address(cn),
                             workspace.data_ptr(), workspace_bytes, _address(reserve), reserve_bytes,
                             batch_first=batch_first, train=train, dropout=dropout, dropout_seed=seed)
        ctx.core, ctx.call, ctx.reserve, ctx.consumed = core, call, reserve, False
        ctx.given = (h0 is not None, c0 is not None)
        ctx.save_for_backward(x, h0, c0, *params)
        return (y, hn) if cn is None else (y, hn, cn)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dhn, dcn=None):
        saved = ctx.saved_tensors  # also the in-place modification check
        if ctx.reserve is None or ctx.consumed:
            raise UnsupportedError(
                "gpurnn.torch: a second backward through one forward on CUDA tensors "
                "(retain_graph=True) is not supported: libgpurnn's backward consumes the "
                "forward's reserve there; run the forward again")
        ctx.consumed = True
        x, h0, c0 = saved[:3]
        lengths, batch_first, _, dropout, _, names, flat, slots = ctx.call
        core, device = ctx.core, x.device.index
        dy, dhn, dcn = (None if t is None else t.contiguous() for t in (dy, dhn, dcn))
        steps, batch = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
        workspace_bytes, reserve_bytes = core._device_sizes(str(x.device), steps, batch, batch_first, True,
                                                            dropout=dropout)
        workspace = torch.empty(workspace_bytes, dtype=torch.uint8, device=x.device)
        dx = torch.empty_like(x)
        dh0 = torch.empty_like(h0) if h0 is not None else None
        dc0 = torch.empty_like(c0) if c0 is not None else None
        # Half weights have float32 gradients (libgpurnn's precision rule): rounded to the
        # parameters' dtype below, as on the cpu.
        grads = torch.empty(flat.shape, dtype=torch.float32 if flat.dtype in _HALF_DTYPES else flat.dtype,
                            device=flat.device)
        stream = torch.cuda.current_stream(x.device).cuda_stream
        core._backward_device(device, stream, flat.data_ptr(), dropout, list(x.shape), x.data_ptr(), lengths,
                              batch_first, dy.data_ptr(), _address(dhn), _address(dcn), dx.data_ptr(),
                              _address(dh0), _address(dc0), grads.data_ptr(), workspace.data_ptr(),
                              workspace_bytes, ctx.reserve.data_ptr(), reserve_bytes)
        ctx.reserve = None  # consumed
        param_grads = (grads[o:o + n].view(p.shape).to(p.dtype) for (o, n), p in zip(slots, saved[3:]))
        return (None, None, dx, dh0, dc0, *param_grads)


def _to_half(t, half):
    """float32 tensors (or a tuple/list of them) in `half`, as autocast casts a linear's
    arguments; other dtypes are left for the forward's checks to name."""
    if isinstance(t, (tuple, list)):
        return type(t)(_to_half(u, half) for u in t)
    if isinstance(t, torch.Tensor) and t.dtype == torch.float32:
        return t.to(half)
    return t


def _address(t) -> int:
    return 0 if t is None else t.data_ptr()


def _describe(t) -> str:
    return f"{type(t).__name__} of shape {tuple(t.shape)}" if isinstance(t, torch.Tensor) \
        else type(t).__name__


class _Mixin:
    """What LSTM, GRU and RNN add to torch's modules: the libgpurnn RNN behind them."""

    _gpurnn_core = None

    # -- construction and memory ------------------------------------------------------

    def _gpurnn_setup(self) -> None:
        self._gpurnn_ready = True
        self.flatten_parameters()

    def _gpurnn_cell(self) -> str:
        return self.mode.lower()  # LSTM, GRU, RNN_TANH, RNN_RELU -> libgpurnn's names

    def _gpurnn_params(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def _gpurnn_slots(self, dtype):
        """(offset, numel) of each parameter in libgpurnn's flat layout (state_dict order), in
        elements: the same for every dtype, so worked out once per module."""
        slots = getattr(self, "_gpurnn_layout", None)
        if slots is None:
            core = self._gpurnn_core_for(dtype)
            flat = core.flat_parameters()
            views = core.parameters()
            slots = [((views[n].ctypes.data - flat.ctypes.data) // flat.itemsize, views[n].size)
                     for n in self._flat_weights_names]
            self._gpurnn_layout = slots
        return slots

    def _gpurnn_flat_for_call(self, params, dtype):
        """The flat weights of a CUDA call: the parameters' own buffer when they are still views
        of it (flatten_parameters), else a copy of them; and the slots."""
        slots = self._gpurnn_slots(dtype)
        flat = getattr(self, "_gpurnn_flat", None)
        if flat is not None and flat.device == params[0].device and flat.dtype == dtype and all(
                p.data_ptr() == flat.data_ptr() + o * flat.element_size() for (o, _), p in zip(slots, params)):
            return flat, slots
        return torch.cat([p.detach().reshape(-1) for p in params]), slots

    def _gpurnn_core_for(self, dtype):
        core = self._gpurnn_core
        if core is None or core.dtype != _FLOAT_DTYPES[dtype]:
            core = _core.RNN(self._gpurnn_cell(), self.input_size, self.hidden_size,
                             self.num_layers, bool(self.bidirectional), bool(self.bias),
                             self.proj_size, float(self.dropout) if self.dropout < 1 else 0.0,
                             dtype=_FLOAT_DTYPES[dtype])
            self._gpurnn_core = core
        return core

    def flatten_parameters(self) -> None:
        """Makes the parameters views of the libgpurnn RNN's weight buffer (values kept), or on
        a CUDA device views of one flat tensor there.

        A no-op unless every parameter is a float32, float64, bfloat16 or float16 tensor of one
        dtype on the cpu or one CUDA device, not
        aliasing another, and on the cpu not in shared memory (torch reports every CUDA tensor
        as shared, so that test is the cpu's only). Called at
        construction and by .to() and the like, as torch.nn's RNNs call it for cuDNN.
        """
        if not getattr(self, "_gpurnn_ready", False):
            return  # inside torch's __init__, before the module is complete
        params = self._gpurnn_params()
        if not params or any(not isinstance(p, torch.Tensor) for p in params):
            return
        dtype, device = params[0].dtype, params[0].device
        if dtype not in _FLOAT_DTYPES or device.type not in ("cpu", "cuda") or any(
                p.dtype != dtype or p.device != device for p in params):
            return
        if device.type == "cpu" and any(p.is_shared() for p in params):
            return
        if len({p.data_ptr() for p in params}) != len(params):
            return
        if device.type == "cuda":
            self._gpurnn_flatten_on_device(params, dtype, device)
            return
        self._gpurnn_flat = None  # a module moved back from a GPU lets its device copy go
        views = self._gpurnn_core_for(dtype).parameters()
        with torch.no_grad():
            for name, p in zip(self._flat_weights_names, params):
                buffer = _tensor(views[name])
                if p.data_ptr() != buffer.data_ptr():
                    buffer.copy_(p)
                    p.data = buffer

    def _gpurnn_flatten_on_device(self, params, dtype, device) -> None:
        """As torch does for cuDNN: one flat tensor on the CUDA device, the parameters views of
        it (values kept)."""
        slots = self._gpurnn_slots(dtype)
        flat = torch.empty(sum(n for _, n in slots), dtype=dtype, device=device)
        with torch.no_grad():
            for (offset, n), p in zip(slots, params):
                flat[offset:offset + n].copy_(p.reshape(-1))
                p.data = flat[offset:offset + n].view(p.shape)
        self._gpurnn_flat = flat

    def __getstate__(self):
        # torch 2.x's RNNBase drops its weight references here; 1.13's has no __getstate__.
        parent = getattr(super(), "__getstate__", None)
        state = dict(parent()) if parent is not None else self.__dict__.copy()
        state.pop("_gpurnn_core", None)  # rebuilt on load: the parameters are pickled already
        state.pop("_gpurnn_flat", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._gpurnn_setup()

    def to_torch(self) -> torch.nn.RNNBase:
        """A torch.nn.LSTM/GRU/RNN with the same configuration and a copy of the parameters."""
        return to_torch(self)

    # -- forward ----------------------------------------------------------------------

    def _gpurnn_check(self, name, t, expected_shape, dtype, device):
        where = f"gpurnn.torch.{type(self).__name__}.forward"
        if not isinstance(t, torch.Tensor):
            raise InvalidArgumentError(
                f"{where}: argument '{name}' must be a torch.Tensor, got {type(t).__name__}")
        if t.device != device:
            raise InvalidArgumentError(
                f"{where}: argument '{name}' is on {t.device}, expected {device} like the "
                "module's parameters")
        if t.dtype != dtype:
            raise InvalidArgumentError(
                f"{where}: argument '{name}' has dtype {t.dtype}, expected {dtype} like the "
                "module's parameters")
        if expected_shape is not None and tuple(t.shape) != tuple(expected_shape):
            raise InvalidArgumentError(
                f"{where}: argument '{name}' has shape {tuple(t.shape)}, expected "
                f"{tuple(expected_shape)}")

    def forward(self, input, hx=None):  # noqa: A002  (torch's name)
        where = f"gpurnn.torch.{type(self).__name__}.forward"
        params = self._gpurnn_params()
        dtype = params[0].dtype
        if dtype not in _FLOAT_DTYPES or any(p.dtype != dtype for p in params):
            raise UnsupportedError(
                f"{where}: the parameters are {sorted({str(p.dtype) for p in params})}; "
                "gpurnn.torch runs modules whose parameters all have one dtype of "
                "torch.float32, float64, bfloat16 or float16 (call .float(), .double(), "
                ".bfloat16() or .half())")
        device = params[0].device
        for n, p in zip(self._flat_weights_names, params):
            if p.device.type not in ("cpu", "cuda") or p.device != device:
                raise UnsupportedError(
                    f"{where}: parameter '{n}' is on {p.device}; gpurnn.torch computes on the "
                    f"cpu or one CUDA device, with every parameter on it (the first is on {device})")
        # torch.autocast("cpu", dtype=torch.bfloat16): float32/bfloat16 tensors run libgpurnn's
        # bfloat16 path, the outputs in the dtypes torch.nn's module returns (_autocast_dtypes).
        autocast = (device.type == "cpu" and torch.is_autocast_cpu_enabled()
                    and torch.get_autocast_cpu_dtype() == torch.bfloat16
                    and dtype in (torch.float32, torch.bfloat16))
        # torch.autocast("cuda"): torch casts a cuDNN RNN's input, weights and states to float16
        # whatever the autocast dtype (_cudnn_rnn_cast_reflatten), and every output is float16.
        cuda_autocast = (device.type == "cuda" and torch.is_autocast_enabled()
                         and dtype in (torch.float32, torch.float16))

        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            x, length_tensor = pad_packed_sequence(input)  # [T, B, I], the batch's own order
            lengths = length_tensor.numpy()
            batch_first, unbatched = False, False
        elif isinstance(input, torch.Tensor):
            x, batch_first = input, self.batch_first
            if x.dim() not in (2, 3):
                raise InvalidArgumentError(
                    f"{where}: argument 'input' has shape {tuple(x.shape)}, expected "
                    f"{'[B, T, I]' if batch_first else '[T, B, I]'} or unbatched [T, I]")
            unbatched = x.dim() == 2
            batch_first = batch_first and not unbatched
        else:
            raise InvalidArgumentError(
                f"{where}: argument 'input' must be a torch.Tensor or a PackedSequence, got "
                f"{type(input).__name__}")
        out_dtypes = None
        if autocast:
            out_dtypes = self._gpurnn_autocast_dtypes(x, hx)
            x, hx = _to_half(x, torch.bfloat16), _to_half(hx, torch.bfloat16)
            params = [p.to(torch.bfloat16) for p in params]  # differentiable: f32 grads flow back
            dtype = torch.bfloat16
        elif cuda_autocast:
            x, hx = _to_half(x, torch.float16), _to_half(hx, torch.float16)
            params = [p.to(torch.float16) for p in params]
            dtype = torch.float16
        self._gpurnn_check("input", x, None, dtype, device)
        if x.shape[-1] != self.input_size:
            raise InvalidArgumentError(
                f"{where}: argument 'input' has {x.shape[-1]} features (shape "
                f"{tuple(x.shape)}), expected input_size={self.input_size}")
        steps, batch = (x.shape[0], 1) if unbatched else \
            ((x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1]))
        if steps == 0 or batch == 0:
            raise InvalidArgumentError(
                f"{where}: argument 'input' has shape {tuple(x.shape)}, expected at least one "
                "step and one sequence")

        h0, c0 = self._gpurnn_split_state(hx, batch, unbatched, dtype, device)

        needs_grad = torch.is_grad_enabled() and (
            x.requires_grad or any(p.requires_grad for p in params)
            or any(s is not None and s.requires_grad for s in (h0, c0)))
        dropout = float(self.dropout) if self.training and self.num_layers > 1 else 0.0
        train = needs_grad or dropout > 0  # torch drops out in training mode, grad or not
        seed = int(torch.randint(0, 2**62, (1,)).item()) if dropout > 0 else 0
        names = tuple(self._flat_weights_names)
        core = self._gpurnn_core_for(dtype)
        if device.type == "cuda":
            flat, slots = self._gpurnn_flat_for_call(params, dtype)
            if unbatched:  # the CUDA calls take batched tensors
                x, h0, c0 = (None if t is None else t.unsqueeze(1) for t in (x, h0, c0))
            call = (lengths, batch_first, train, dropout, seed, names, flat, slots)
            out = _CudaRNNFunction.apply(core, call, x, h0, c0, *params)
            if unbatched:
                out = (out[0].squeeze(1),) + tuple(t.squeeze(1) for t in out[1:])
        else:
            call = (lengths, batch_first, train, dropout, seed, names)
            out = _RNNFunction.apply(core, call, x, h0, c0, *params)
        if out_dtypes is not None:
            out = tuple(t.to(dt) for t, dt in zip(out, out_dtypes))
        y, hidden = out[0], (out[1], out[2]) if len(out) == 3 else out[1]

        if packed:
            y = self._gpurnn_pack_like(y, length_tensor, input)
        return y, hidden

    def _gpurnn_autocast_dtypes(self, x, hx):
        """The dtypes of (y, hn[, cn]) that torch 1.13's nn.LSTM/GRU/RNN return under CPU
        bfloat16 autocast: its cell math promotes to the dtype of the state it carries (c_0's
        for an LSTM, h_0's for a GRU, else the input's), except where the last op is an
        autocast linear (bfloat16): RNN's h, and LSTM's h (so y too) with a projection."""
        h = hx[-1] if isinstance(hx, (tuple, list)) and hx else hx
        carried = h.dtype if isinstance(h, torch.Tensor) else x.dtype
        carried = carried if carried in (torch.float32, torch.bfloat16) else torch.bfloat16
        if self.mode.startswith("RNN_"):
            return (torch.bfloat16, torch.bfloat16)
        if self.mode == "GRU":
            return (carried, carried)
        h_dtype = torch.bfloat16 if self.proj_size > 0 else carried
        return (h_dtype, h_dtype, carried)

    def _gpurnn_split_state(self, hx, batch, unbatched, dtype, device):
        """(h0, c0) from hx, checked against the shapes torch's module expects."""
        states = self.num_layers * (2 if self.bidirectional else 1)
        h_out = self.proj_size if getattr(self, "proj_size", 0) > 0 else self.hidden_size
        lead = (states,) if unbatched else (states, batch)
        if hx is None:
            return None, None
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise InvalidArgumentError(
                    f"gpurnn.torch.{type(self).__name__}.forward: argument 'hx' must be a pair "
                    f"(h_0, c_0) for an LSTM, got {_describe(hx)}")
            self._gpurnn_check("hx[0] (h_0)", hx[0], lead + (h_out,), dtype, device)
            self._gpurnn_check("hx[1] (c_0)", hx[1], lead + (self.hidden_size,), dtype, device)
            return hx[0], hx[1]
        self._gpurnn_check("hx", hx, lead + (h_out,), dtype, device)
        return hx, None

    @staticmethod
    def _gpurnn_pack_like(y, lengths, like: PackedSequence) -> PackedSequence:
        """y [T, B, F] in the batch's own order, packed with `like`'s batch_sizes and indices."""
        order = like.sorted_indices
        if order is not None:
            y, lengths = y.index_select(1, order), lengths.index_select(0, order.cpu())
        data = pack_padded_sequence(y, lengths, enforce_sorted=True).data
        return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


class LSTM(_Mixin, torch.nn.LSTM):
    """torch.nn.LSTM computed by libgpurnn (see the gpurnn.torch module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._gpurnn_setup()


class GRU(_Mixin, torch.nn.GRU):
    """torch.nn.GRU computed by libgpurnn (see the gpurnn.torch module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._gpurnn_setup()


class RNN(_Mixin, torch.nn.RNN):
    """torch.nn.RNN (tanh or relu) computed by libgpurnn (see the gpurnn.torch docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._gpurnn_setup()


_PAIRS = ((torch.nn.LSTM, LSTM), (torch.nn.GRU, GRU), (torch.nn.RNN, RNN))


def _config(module) -> dict:
    kw = dict(input_size=module.input_size, hidden_size=module.hidden_size,
              num_layers=module.num_layers, bias=module.bias, batch_first=module.batch_first,
              dropout=module.dropout, bidirectional=module.bidirectional)
    if module.mode == "LSTM":
        kw["proj_size"] = module.proj_size
    if module.mode.startswith("RNN_"):
        kw["nonlinearity"] = module.nonlinearity
    return kw


def _convert(module, pairs_index: int):
    where = "gpurnn.torch.from_torch" if pairs_index == 1 else "gpurnn.torch.to_torch"
    for pair in _PAIRS:
        if isinstance(module, pair[0]):
            target = pair[pairs_index]
            break
    else:
        raise InvalidArgumentError(
            f"{where}: argument 'module' must be a torch.nn.LSTM, GRU or RNN, got "
            f"{type(module).__name__}")
    first = next(module.parameters())
    # Built under a forked RNG: torch's initialisation must not move the caller's stream.
    with torch.random.fork_rng(devices=[]):
        converted = target(**_config(module), dtype=first.dtype, device=first.device)
    converted.load_state_dict(module.state_dict())
    converted.train(module.training)
    return converted


def from_torch(module: torch.nn.RNNBase) -> torch.nn.RNNBase:
    """A gpurnn.torch.LSTM/GRU/RNN with `module`'s configuration, a copy of its parameters and
    its training mode."""
    return _convert(module, 1)


def to_torch(module: torch.nn.RNNBase) -> torch.nn.RNNBase:
    """A plain torch.nn.LSTM/GRU/RNN with `module`'s configuration, parameters and mode."""
    return _convert(module, 0)


# The cell modules (torch.nn.LSTMCell, GRUCell, RNNCell) live in their own file; they use the
# autograd Functions above, so they are imported last.
from ._torch_cells import GRUCell, LSTMCell, RNNCell  # noqa: E402
