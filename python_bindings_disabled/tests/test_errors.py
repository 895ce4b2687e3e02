"""Bad arguments raise gpurnn.Error subclasses with the library's code and a message that
names the argument and says what was expected."""
import contextlib

import numpy as np
import pytest

import gpurnn
from conftest import small_rnn

T, B, I = 4, 3, 5


def x32(shape=(T, B, I)):
    return np.ones(shape, dtype=np.float32)


@contextlib.contextmanager
def raises(cls, *fragments):
    """Expects `cls` with the library's code and a message containing every fragment."""
    with pytest.raises(cls) as info:
        yield info
    err = info.value
    assert isinstance(err, gpurnn.Error)
    assert err.code == cls.code and err.message == str(err)
    for f in fragments:
        assert f in err.message, (f, err.message)


def test_error_classes():
    assert gpurnn.Error.code is None
    assert issubclass(gpurnn.Error, RuntimeError)  # what torch code and its users catch
    for cls, code, builtin in [(gpurnn.InvalidArgumentError, "invalid_argument", ValueError),
                               (gpurnn.UnsupportedError, "unsupported", NotImplementedError),
                               (gpurnn.OutOfMemoryError, "out_of_memory", MemoryError),
                               (gpurnn.IOError, "io_error", OSError),
                               (gpurnn.BackendError, "backend_error", Exception),
                               (gpurnn.InternalError, "internal", Exception)]:
        assert issubclass(cls, gpurnn.Error) and issubclass(cls, builtin) and cls.code == code
        assert cls.__module__ == "gpurnn"


@pytest.mark.parametrize("bad,what", [
    (np.ones((T, B, I), dtype=np.int64), "int64"),
    (np.ones((T, B, I), dtype=np.int32), "int32"),
    (np.ones((T, B, I), dtype=np.float16), "float16"),
    (np.ones((T, B, I), dtype=np.complex64), "complex64"),
    (np.ones((T, B, I), dtype=bool), "bool"),
    (np.empty((T, B, I), dtype=object), "object"),
    ([["a", "b"]], "<U1"),
])
def test_wrong_dtype_names_the_argument(bad, what):
    with raises(gpurnn.InvalidArgumentError, "argument 'x'", what, "expected float32 or float64"):
        small_rnn().forward(bad)


def test_not_an_array():
    with raises(gpurnn.InvalidArgumentError, "argument 'x'", "required"):
        small_rnn().forward(None)
    with raises(gpurnn.InvalidArgumentError, "argument 'h0'", "dict"):
        small_rnn().forward(x32(), h0={})


@pytest.mark.parametrize("make", [
    lambda: np.ones((T, B, 2 * I), dtype=np.float32)[:, :, ::2],   # strided view
    lambda: np.ones((I, B, T), dtype=np.float32).transpose(2, 1, 0),  # transposed
    lambda: np.asfortranarray(np.ones((T, B, I), dtype=np.float32)),
])
def test_non_contiguous_input_raises(make):
    with raises(gpurnn.InvalidArgumentError, "argument 'x'", "not C-contiguous", "strides",
                "numpy.ascontiguousarray(x)"):
        small_rnn().forward(make())


def test_non_contiguous_state_and_gradient_raise():
    rnn = small_rnn("gru")
    h0 = np.zeros((1, 2 * B, 6), dtype=np.float32)[:, ::2]
    with raises(gpurnn.InvalidArgumentError, "argument 'h0'", "not C-contiguous"):
        rnn.forward(x32(), h0=h0)
    y, _ = rnn.forward(x32(), train=True)
    with raises(gpurnn.InvalidArgumentError, "argument 'dy'", "not C-contiguous"):
        rnn.backward(np.ones(y.shape[::-1], dtype=np.float32).T)


def test_wrong_shapes_name_the_argument():
    rnn = small_rnn("lstm")
    with raises(gpurnn.InvalidArgumentError, "argument 'x'", "[0, 3, 5]", "at least one step"):
        rnn.forward(x32((0, B, I)))
    with raises(gpurnn.InvalidArgumentError, "argument 'x'", "has shape []"):
        rnn.forward(np.float32(1.0))
    with raises(gpurnn.InvalidArgumentError, "argument 'x'", "[4, 3, 5, 1]"):
        rnn.forward(x32((T, B, I, 1)))
    with raises(gpurnn.InvalidArgumentError, "argument 'x'", "input_size = 5"):
        rnn.forward(x32((T, B, I + 1)))
    with raises(gpurnn.InvalidArgumentError, "argument 'h0'", "[2, 3, 6]", "expected [1, 3, 6]"):
        rnn.forward(x32(), h0=np.zeros((2, B, 6), np.float32))
    with raises(gpurnn.InvalidArgumentError, "argument 'c0'", "[1, 3, 5]"):
        rnn.forward(x32(), c0=np.zeros((1, B, 5), np.float32))
    with raises(gpurnn.InvalidArgumentError, "argument 'h0'", "unbatched"):
        rnn.forward(x32((T, I)), h0=np.zeros((1, 1, 6), np.float32))


def test_cell_state_only_for_lstm():
    with raises(gpurnn.InvalidArgumentError, "argument 'c0'", "only an LSTM"):
        small_rnn("gru").forward(x32(), c0=np.zeros((1, B, 6), np.float32))


@pytest.mark.parametrize("lengths,fragments", [
    (np.array([1.0, 2.0, 3.0]), ["float64", "integers"]),
    (np.array([0, 2, 3]), ["lengths[0] = 0", "[1, 4]"]),
    (np.array([5, 2, 3]), ["lengths[0] = 5"]),
    (np.array([-1, 2, 3]), ["-1"]),
    (np.array([2**40, 2, 3]), ["outside"]),
    (np.array([1, 2]), ["[2]", "expected [3]"]),
    ("abc", ["<U3"]),
])
def test_bad_lengths(lengths, fragments):
    with raises(gpurnn.InvalidArgumentError, "argument 'lengths'", *fragments):
        small_rnn().forward(x32(), lengths)


def test_lengths_with_unbatched_input():
    with raises(gpurnn.InvalidArgumentError, "argument 'lengths'", "unbatched"):
        small_rnn().forward(x32((T, I)), [2])


def test_backward_misuse():
    rnn = small_rnn("gru")
    with raises(gpurnn.InvalidArgumentError, "no saved forward pass", "train=True"):
        rnn.backward(np.zeros((T, B, 6), np.float32))
    rnn.forward(x32())  # inference saves nothing
    with raises(gpurnn.InvalidArgumentError, "no saved forward pass"):
        rnn.backward(np.zeros((T, B, 6), np.float32))
    rnn.forward(x32(), train=True)
    with raises(gpurnn.InvalidArgumentError, "argument 'dy'", "[4, 3, 7]"):
        rnn.backward(np.zeros((T, B, 7), np.float32))
    with raises(gpurnn.InvalidArgumentError, "argument 'dcn'", "only an LSTM"):
        rnn.backward(np.zeros((T, B, 6), np.float32), dcn=np.zeros((1, B, 6), np.float32))
    rnn.backward(np.zeros((T, B, 6), np.float32))  # the failed calls did not consume the pass
    with raises(gpurnn.InvalidArgumentError, "no saved forward pass"):
        rnn.backward(np.zeros((T, B, 6), np.float32))


@pytest.mark.parametrize("kwargs,fragments", [
    (dict(cell="lstmm"), ["argument 'cell'", "lstmm", "rnn_tanh"]),
    (dict(cell=3), ["argument 'cell'", "int"]),
    (dict(hidden_size=0), ["argument 'hidden_size'", "positive"]),
    (dict(num_layers=0), ["argument 'num_layers'"]),
    (dict(cell="gru", proj_size=2), ["argument 'proj_size'", "lstm"]),
    (dict(proj_size=6), ["argument 'proj_size'", "smaller than hidden_size"]),
    (dict(dropout=1.0), ["argument 'dropout'", "[0, 1)"]),
    (dict(dtype="int32"), ["argument 'dtype'", "int32", "float32, float64, float16 or bfloat16"]),
    (dict(dtype="nonsense"), ["argument 'dtype'", "nonsense"]),
])
def test_bad_construction(kwargs, fragments):
    with raises(gpurnn.InvalidArgumentError, *fragments):
        small_rnn(**kwargs)


def test_devices():
    rnn = small_rnn()
    with raises(gpurnn.InvalidArgumentError, "argument 'device'", "gpu"):
        rnn.forward(x32(), device="gpu")
    if "cuda:7" not in gpurnn.devices():
        with raises(gpurnn.UnsupportedError, "argument 'device'", "cuda:7", "cpu"):
            rnn.forward(x32(), device="cuda:7")


def test_files(tmp_path):
    with raises(gpurnn.IOError, "no_such_file.safetensors"):
        gpurnn.RNN.load(tmp_path / "no_such_file.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    with raises(gpurnn.IOError, "junk.safetensors"):
        gpurnn.RNN.load(tmp_path / "junk.safetensors")
    with raises(gpurnn.IOError, "missing_dir"):
        small_rnn().save(tmp_path / "missing_dir" / "m.safetensors")


def test_load_state_dict_checks_everything_before_copying():
    rnn = small_rnn("gru")
    before = rnn.state_dict()
    state = dict(before)
    state["weight_ih_l0"] = np.zeros_like(state["weight_ih_l0"])
    state["bias_hh_l0"] = np.zeros((5,), np.float32)
    with raises(gpurnn.InvalidArgumentError, "argument 'bias_hh_l0'", "[5]", "expected [18]"):
        rnn.load_state_dict(state)
    np.testing.assert_array_equal(rnn.state_dict()["weight_ih_l0"], before["weight_ih_l0"])
    del state["bias_hh_l0"]
    state["weight_hr_l0"] = np.zeros((2, 6), np.float32)
    with raises(gpurnn.InvalidArgumentError, "missing: bias_hh_l0", "unexpected: weight_hr_l0"):
        rnn.load_state_dict(state)
    with raises(gpurnn.InvalidArgumentError, "argument 'weight_ih_l0'", "int64"):
        rnn.load_state_dict({**before, "weight_ih_l0": np.zeros((18, 5), np.int64)})
    with raises(gpurnn.InvalidArgumentError, "argument 'state'", "mapping"):
        rnn.load_state_dict([1, 2])


def test_cell_names_need_a_one_layer_unidirectional_unprojected_rnn(tmp_path):
    """Issue 32 item 3: a cell module's names (weight_ih, ...) only for what a cell module is."""
    cell = gpurnn.RNN("gru", I, 6, seed=1)
    state = cell.state_dict(cell_names=True)
    assert sorted(state) == ["bias_hh", "bias_ih", "weight_hh", "weight_ih"]
    two = gpurnn.RNN("gru", I, 6, num_layers=2)
    for rnn, why in ((two, "has 2 layers"), (gpurnn.RNN("gru", I, 6, bidirectional=True), "is bidirectional"),
                     (gpurnn.RNN("lstm", I, 6, proj_size=2), "has a projection")):
        with raises(gpurnn.InvalidArgumentError, "argument 'cell_names'", "one layer, one direction", why):
            rnn.state_dict(cell_names=True)
        with raises(gpurnn.InvalidArgumentError, "argument 'cell_names'", why):
            rnn.save(tmp_path / "m.safetensors", cell_names=True)
    assert not (tmp_path / "m.safetensors").exists()
    with raises(gpurnn.InvalidArgumentError, "unexpected: weight_ih", "fit only a one-layer", "has 2 layers"):
        two.load_state_dict(state)
    bad = dict(state, bias_hh=np.zeros((5,), np.float32))
    with raises(gpurnn.InvalidArgumentError, "argument 'bias_hh'", "expected [18]"):
        gpurnn.RNN("gru", I, 6).load_state_dict(bad)
