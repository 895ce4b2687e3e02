"""libgpurnn for Python: vanilla RNN, LSTM and GRU with torch.nn's semantics on numpy arrays.

    import numpy as np, gpurnn
    rnn = gpurnn.RNN("lstm", input_size=32, hidden_size=64, num_layers=2, seed=1)
    y, (hn, cn) = rnn.forward(np.random.randn(50, 8, 32).astype(np.float32))

See RNN, RNN.load, RNN.forward, RNN.backward, devices() and the Error classes.
"""
from ._core import (  # noqa: F401  (the native module, built from src/)
    BackendError,
    CellKind,
    Error,
    Gradients,
    InternalError,
    InvalidArgumentError,
    IOError,
    OutOfMemoryError,
    RNN,
    RNNDescriptor,
    UnsupportedError,
    __version__,
    _input_copy_count,
    _weight_copy_count,
    backends,
    devices,
)

__all__ = [
    "BackendError", "CellKind", "Error", "Gradients", "InternalError", "InvalidArgumentError",
    "IOError", "OutOfMemoryError", "RNN", "RNNDescriptor", "UnsupportedError", "backends",
    "devices",
]

for _name in ("CellKind", "Gradients", "RNN", "RNNDescriptor", "backends", "devices"):
    globals()[_name].__module__ = __name__  # show gpurnn.RNN, not gpurnn._core.RNN
del _name
