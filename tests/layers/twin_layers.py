"""Twin layers for tests: `keras.layers.RNN(cell)` and `Recurrent(cell)` on equal weights."""

import keras
import numpy as np
from backend_helpers import outputs_and_pullback

import seqzoo.cells
from seqzoo.layers.recurrent import Recurrent

B, T, F, UNITS = 3, 6, 5, 4
ATOL = 1e-5
# Gradients of the kernels sum over batch and time steps in another order
# (one matrix product instead of one per step): float32 rounding grows with
# their size, which reaches ~10 here.
RTOL = 1e-5
# Small enough that c<t> reaches it with these weights and inputs.
CELL_CLIP = 0.3

CELL_CASES = {
    "rnn": (seqzoo.cells.SimpleRNNCell, {}),
    "rnn_no_bias": (seqzoo.cells.SimpleRNNCell, {"use_bias": False}),
    "gru": (seqzoo.cells.GRUCell, {}),
    "gru_reset_before": (seqzoo.cells.GRUCell, {"reset_after": False}),
    "gru_no_bias": (seqzoo.cells.GRUCell, {"use_bias": False}),
    "gru_minimal": (seqzoo.cells.GRUCell, {"minimal": True}),
    "gru_minimal_reset_before": (
        seqzoo.cells.GRUCell,
        {"minimal": True, "reset_after": False},
    ),
    "lstm": (seqzoo.cells.LSTMCell, {}),
    "lstm_cell_clip": (seqzoo.cells.LSTMCell, {"cell_clip": CELL_CLIP}),
    "peephole": (seqzoo.cells.PeepholeLSTMCell, {}),
    "peephole_cell_clip": (seqzoo.cells.PeepholeLSTMCell, {"cell_clip": CELL_CLIP}),
    "mingru": (seqzoo.cells.MinGRUCell, {}),
    "minlstm": (seqzoo.cells.MinLSTMCell, {}),
}


def inputs(seed=0, shape=(B, T, F)):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def padding_mask():
    """Rows of different lengths, plus one masked step inside a sequence."""
    mask = np.ones((B, T), dtype=bool)
    mask[0, 4:] = False
    mask[1, 2] = False
    return keras.ops.convert_to_tensor(mask)


def leading_padding_mask():
    """Rows that start with masked steps (where Keras outputs zeros, not a<0>), and one masked inside."""
    mask = np.ones((B, T), dtype=bool)
    mask[0, :2] = False
    mask[2, :1] = False
    mask[1, 3] = False
    return keras.ops.convert_to_tensor(mask)


def twins(case, x, cell_kwargs=None, fused=False, **layer_kwargs):
    """`keras.layers.RNN(cell)` and `Recurrent(cell, fused=fused)` on equal random weights."""
    cls, kwargs = CELL_CASES[case]
    kwargs = {**kwargs, **(cell_kwargs or {})}
    layer_kwargs = {"return_sequences": True, "return_state": True, **layer_kwargs}
    plain = keras.layers.RNN(cls(UNITS, **kwargs), **layer_kwargs)
    fast = Recurrent(cls(UNITS, **kwargs), fused=fused, **layer_kwargs)
    copy_random_weights(plain, fast, x)
    return plain, fast


def copy_random_weights(plain, fast, x):
    """Builds both layers for `x` and gives them the same random weights, variable by variable."""
    plain.build(x.shape)
    fast.build(x.shape)
    rng = np.random.default_rng(1)
    for ours, theirs in zip(fast.trainable_variables, plain.trainable_variables):
        value = rng.normal(scale=0.5, size=theirs.shape).astype("float32")
        theirs.assign(value)
        ours.assign(value)


def assert_same_outputs_and_gradients(plain, fast, x, **call_kwargs):
    """Equal outputs and states, and equal gradients of a weighted sum of them."""
    expected, plain_pullback = outputs_and_pullback(lambda x: plain(x, **call_kwargs), plain.trainable_variables, x)
    got, fast_pullback = outputs_and_pullback(lambda x: fast(x, **call_kwargs), fast.trainable_variables, x)
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, atol=ATOL)

    rng = np.random.default_rng(2)
    cotangents = [rng.normal(size=e.shape).astype("float32") for e in expected]
    grads_p, dx_p = plain_pullback(cotangents)
    grads_f, dx_f = fast_pullback(cotangents)
    np.testing.assert_allclose(dx_f, dx_p, atol=ATOL, rtol=RTOL)
    assert np.abs(dx_p).max() > 1e-3  # the comparison is not vacuous
    assert len(grads_f) == len(grads_p)
    for variable, g_f, g_p in zip(fast.trainable_variables, grads_f, grads_p):
        assert np.abs(g_p).max() > 1e-3, variable.name
        np.testing.assert_allclose(g_f, g_p, atol=ATOL, rtol=RTOL, err_msg=variable.name)
