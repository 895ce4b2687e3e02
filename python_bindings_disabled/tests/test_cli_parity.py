"""gpurnn.RNN.forward equals the C++ command `gpurnn run` bit for bit: the same safetensors
model and .npy inputs, every cell kind, float32 and float64, ragged lengths, initial states
and batch-first. CTest passes the built command in GPURNN_CLI."""
import os
import subprocess

import numpy as np
import pytest

import gpurnn
from conftest import CELLS, state_shapes

CLI = os.environ.get("GPURNN_CLI")
if not CLI:
    pytest.skip("GPURNN_CLI (the path of the built `gpurnn` command) is not set; CTest sets it",
                allow_module_level=True)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["tbi", "bti"])
def test_forward_equals_gpurnn_run(tmp_path, rng, cell, dtype, batch_first):
    T, B = 9, 5
    rnn = gpurnn.RNN(cell, 4, 7, num_layers=2, bidirectional=True,
                     proj_size=3 if cell == "lstm" else 0, dtype=dtype, seed=21)
    model = tmp_path / "model.safetensors"
    rnn.save(model, prefix="net.rnn.")
    x = rng.standard_normal((B, T, 4) if batch_first else (T, B, 4)).astype(dtype)
    lengths = np.array([T, 1, 5, T - 1, 3], dtype=np.int32)
    h_shape, c_shape = state_shapes(rnn, B)
    inputs = {"input": x, "lengths": lengths, "h0": rng.standard_normal(h_shape).astype(dtype)}
    if c_shape:
        inputs["c0"] = rng.standard_normal(c_shape).astype(dtype)
    cmd = [CLI, "run", "--weights", str(model), "--prefix", "net.rnn.",
           "--dtype", "f32" if dtype == "float32" else "f64",
           "--output", str(tmp_path / "y.npy"), "--hn", str(tmp_path / "hn.npy")]
    if c_shape:
        cmd += ["--cn", str(tmp_path / "cn.npy")]
    if batch_first:
        cmd.append("--batch-first")
    for name, array in inputs.items():
        np.save(tmp_path / f"{name}.npy", array)
        cmd += [f"--{name}", str(tmp_path / f"{name}.npy")]
    subprocess.run(cmd, check=True, capture_output=True)

    out = rnn.forward(x, lengths, inputs["h0"], inputs.get("c0"), batch_first=batch_first)
    y, hn = out[0], out[1][0] if c_shape else out[1]
    np.testing.assert_array_equal(y, np.load(tmp_path / "y.npy"))
    np.testing.assert_array_equal(hn, np.load(tmp_path / "hn.npy"))
    if c_shape:
        np.testing.assert_array_equal(out[1][1], np.load(tmp_path / "cn.npy"))
    assert y.dtype == np.dtype(dtype)


def test_loaded_model_equals_gpurnn_run(tmp_path, rng):
    """RNN.load reads the file as `gpurnn run` does (cell from metadata, sizes from shapes)."""
    gpurnn.RNN("gru", 3, 5, num_layers=3, seed=4).save(tmp_path / "m.safetensors")
    rnn = gpurnn.RNN.load(tmp_path / "m.safetensors")
    assert (rnn.cell, rnn.input_size, rnn.hidden_size, rnn.num_layers) == ("gru", 3, 5, 3)
    x = rng.standard_normal((6, 2, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    subprocess.run([CLI, "run", "--weights", str(tmp_path / "m.safetensors"), "--input",
                    str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")],
                   check=True, capture_output=True)
    np.testing.assert_array_equal(rnn.forward(x)[0], np.load(tmp_path / "y.npy"))
