"""Recurrent (input projection hoisted out of the loop) gives the numbers of keras.layers.RNN(cell)."""

import keras
import numpy as np
import pytest

import seqzoo.cells
from backend_helpers import to_numpy
from backend_helpers import value_and_gradients
from seqzoo.layers.recurrent import Recurrent

B, T, F, UNITS = 3, 6, 5, 4
ATOL = 1e-5
# Gradients of the kernels sum over batch and time steps in another order
# (one matrix product instead of one per step): float32 rounding grows with
# their size, which reaches ~10 here.
RTOL = 1e-5

CELL_CASES = {
    "rnn": (seqzoo.cells.SimpleRNNCell, {}),
    "rnn_no_bias": (seqzoo.cells.SimpleRNNCell, {"use_bias": False}),
    "gru": (seqzoo.cells.GRUCell, {}),
    "gru_reset_before": (seqzoo.cells.GRUCell, {"reset_after": False}),
    "gru_minimal": (seqzoo.cells.GRUCell, {"minimal": True}),
    "lstm": (seqzoo.cells.LSTMCell, {}),
    "lstm_cell_clip": (seqzoo.cells.LSTMCell, {"cell_clip": 0.3}),
    "peephole": (seqzoo.cells.PeepholeLSTMCell, {}),
}


@pytest.fixture(autouse=True)
def _fixed_seed():
    keras.utils.set_random_seed(0)
    yield


def inputs(seed=0, shape=(B, T, F)):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def padding_mask():
    """Rows of different lengths, plus one masked step inside a sequence."""
    mask = np.ones((B, T), dtype=bool)
    mask[0, 4:] = False
    mask[1, 2] = False
    return keras.ops.convert_to_tensor(mask)


def twins(case, x, cell_kwargs=None, **layer_kwargs):
    """`keras.layers.RNN(cell)` and `Recurrent(cell)` on equal random weights."""
    cls, kwargs = CELL_CASES[case]
    kwargs = {**kwargs, **(cell_kwargs or {})}
    layer_kwargs = {"return_sequences": True, "return_state": True, **layer_kwargs}
    plain = keras.layers.RNN(cls(UNITS, **kwargs), **layer_kwargs)
    fast = Recurrent(cls(UNITS, **kwargs), **layer_kwargs)
    plain(x)
    fast(x)
    rng = np.random.default_rng(1)
    for ours, theirs in zip(fast.trainable_variables, plain.trainable_variables):
        value = rng.normal(scale=0.5, size=theirs.shape).astype("float32")
        theirs.assign(value)
        ours.assign(value)
    return plain, fast


def assert_same_outputs_and_gradients(plain, fast, x, **call_kwargs):
    """Equal outputs and states, and equal gradients of a weighted sum of them."""
    expected = to_numpy(list(plain(x, **call_kwargs)))
    got = to_numpy(list(fast(x, **call_kwargs)))
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, atol=ATOL)

    rng = np.random.default_rng(2)
    cotangents = [rng.normal(size=e.shape).astype("float32") for e in expected]

    def weighted_sum(layer):
        def fn(x):
            results = layer(x, **call_kwargs)
            return sum(keras.ops.sum(r * c) for r, c in zip(results, cotangents))

        return fn

    value_p, grads_p, dx_p = value_and_gradients(weighted_sum(plain), plain.trainable_variables, x)
    value_f, grads_f, dx_f = value_and_gradients(weighted_sum(fast), fast.trainable_variables, x)
    np.testing.assert_allclose(value_f, value_p, atol=ATOL, rtol=1e-6)
    np.testing.assert_allclose(dx_f, dx_p, atol=ATOL, rtol=RTOL)
    assert np.abs(dx_p).max() > 1e-3  # the comparison is not vacuous
    assert len(grads_f) == len(grads_p)
    for variable, g_f, g_p in zip(fast.trainable_variables, grads_f, grads_p):
        assert np.abs(g_p).max() > 1e-3, variable.name
        np.testing.assert_allclose(g_f, g_p, atol=ATOL, rtol=RTOL, err_msg=variable.name)


@pytest.mark.parametrize("case", CELL_CASES)
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_outputs_and_gradients_equal_the_plain_rnn(case, masked):
    x = inputs()
    plain, fast = twins(case, x)
    kwargs = {"mask": padding_mask()} if masked else {}
    assert_same_outputs_and_gradients(plain, fast, x, **kwargs)


@pytest.mark.parametrize("case", ["gru", "lstm"])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_backwards_last_step_only_equals_the_plain_rnn(case, masked):
    x = inputs()
    plain, fast = twins(case, x, go_backwards=True, return_sequences=False)
    kwargs = {"mask": padding_mask()} if masked else {}
    assert_same_outputs_and_gradients(plain, fast, x, **kwargs)


@pytest.mark.parametrize("case", ["rnn", "gru", "peephole"])
def test_dropout_in_training_uses_the_plain_rnns_masks(case):
    x = inputs()
    cell_kwargs = {"dropout": 0.3, "recurrent_dropout": 0.4, "seed": 7}
    plain, fast = twins(case, x, cell_kwargs)
    assert_same_outputs_and_gradients(plain, fast, x, training=True, mask=padding_mask())
    dropped = to_numpy(fast(x, training=True)[0])
    assert not np.allclose(dropped, to_numpy(fast(x)[0]), atol=1e-3)


def test_initial_state_equals_the_plain_rnn():
    x = inputs()
    plain, fast = twins("lstm", x)
    rng = np.random.default_rng(3)
    state = [keras.ops.convert_to_tensor(rng.normal(size=(B, UNITS)).astype("float32"))
             for _ in range(2)]
    assert_same_outputs_and_gradients(plain, fast, x, initial_state=state)


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_equals_the_plain_rnn(merge_mode):
    x = inputs()
    plain_rnn, fast_rnn = twins("gru", x)
    plain = keras.layers.Bidirectional(plain_rnn, merge_mode=merge_mode)
    fast = keras.layers.Bidirectional(fast_rnn, merge_mode=merge_mode)
    plain(x)
    fast(x)
    assert isinstance(fast.backward_layer, Recurrent)
    fast.set_weights(plain.get_weights())
    assert_same_outputs_and_gradients(plain, fast, x, mask=padding_mask())


def test_stateful_carries_the_state_between_calls():
    x = inputs()
    plain, fast = twins("lstm", x, stateful=True, return_state=False)
    plain.reset_state()
    fast.reset_state()
    for half in (x[:, :3], x[:, 3:]):
        np.testing.assert_allclose(to_numpy(fast(half)), to_numpy(plain(half)), atol=ATOL)
    fast.reset_state()
    whole = to_numpy(fast(x))
    np.testing.assert_allclose(to_numpy(fast.states[0]), whole[:, -1], atol=ATOL)
    # The states are the layer's (non-trainable) variables, so compiled steps carry them.
    assert {id(s) for s in fast.states} <= {id(v) for v in fast.non_trainable_variables}


def test_keras_file_round_trip_gives_the_same_numbers(tmp_path):
    x = inputs()
    model = keras.Sequential([
        keras.Input((T, F)),
        Recurrent(seqzoo.cells.PeepholeLSTMCell(UNITS), return_sequences=True),
        keras.layers.Bidirectional(Recurrent(seqzoo.cells.GRUCell(UNITS), hoist_inputs=False)),
    ])
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[0]) is Recurrent
    assert loaded.layers[1].forward_layer.hoist_inputs is False
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), atol=1e-6)


def test_stateful_states_are_saved_and_loaded(tmp_path):
    x = inputs()
    model = keras.Sequential([
        keras.Input(batch_shape=(B, None, F)),
        Recurrent(seqzoo.cells.GRUCell(UNITS), stateful=True, return_sequences=True),
    ])
    model.predict_on_batch(x[:, :3])  # leaves a state to carry on from
    path = tmp_path / "stateful.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        to_numpy(loaded.predict_on_batch(x[:, 3:])), to_numpy(model.predict_on_batch(x[:, 3:])),
        atol=1e-6,
    )
