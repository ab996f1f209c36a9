"""Recurrent (input projection hoisted out of the loop) gives the numbers of keras.layers.RNN(cell)."""

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy
from twin_layers import ATOL
from twin_layers import CELL_CASES
from twin_layers import UNITS
from twin_layers import B
from twin_layers import F
from twin_layers import T
from twin_layers import assert_same_outputs_and_gradients
from twin_layers import inputs
from twin_layers import padding_mask
from twin_layers import twins

import seqzoo.cells
from seqzoo.layers.recurrent import Recurrent


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
    state = [keras.ops.convert_to_tensor(rng.normal(size=(B, UNITS)).astype("float32")) for _ in range(2)]
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
    model = keras.Sequential(
        [
            keras.Input((T, F)),
            Recurrent(seqzoo.cells.PeepholeLSTMCell(UNITS), return_sequences=True),
            keras.layers.Bidirectional(Recurrent(seqzoo.cells.GRUCell(UNITS), hoist_inputs=False)),
        ]
    )
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[0]) is Recurrent
    assert loaded.layers[1].forward_layer.hoist_inputs is False
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), atol=1e-6)


def test_stateful_states_are_saved_and_loaded(tmp_path):
    x = inputs()
    model = keras.Sequential(
        [
            keras.Input(batch_shape=(B, None, F)),
            Recurrent(seqzoo.cells.GRUCell(UNITS), stateful=True, return_sequences=True),
        ]
    )
    model.predict_on_batch(x[:, :3])  # leaves a state to carry on from
    path = tmp_path / "stateful.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        to_numpy(loaded.predict_on_batch(x[:, 3:])),
        to_numpy(model.predict_on_batch(x[:, 3:])),
        atol=1e-6,
    )
