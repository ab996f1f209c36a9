"""Truncated BPTT: states carry across chunks, gradients stop at their borders."""

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy

import seqzoo.cells
from seqzoo.layers.recurrent import Recurrent
from seqzoo.tbptt import TimeChunks
from seqzoo.tbptt import fit_truncated

B, T, F, UNITS = 3, 8, 2, 4
ATOL = 1e-5


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, T, F)).astype("float32")
    y = rng.normal(size=(B, T, UNITS)).astype("float32")
    return x, y


def lstm_model(stateful, weights=None, layer=Recurrent):
    model = keras.Sequential(
        [
            keras.Input(batch_shape=(B, None, F)),
            layer(seqzoo.cells.LSTMCell(UNITS), stateful=stateful, return_sequences=True),
        ]
    )
    if weights is not None:
        for variable, value in zip(model.trainable_variables, weights):
            variable.assign(value)
    # Plain SGD with rate 1: each step subtracts exactly the gradient.
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    return model


def trainable_weights(model):
    """The trainable weights only: a stateful model also holds its states."""
    return [to_numpy(v.value) for v in model.trainable_variables]


def test_chunk_forward_passes_equal_the_whole_sequence():
    x, _ = data()
    whole = lstm_model(stateful=False)
    chunked = lstm_model(stateful=True, weights=trainable_weights(whole))
    chunks = [to_numpy(chunked.predict_on_batch(xc)) for (xc,) in TimeChunks(x, None, 2)]
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), to_numpy(whole.predict_on_batch(x)), atol=ATOL)


@pytest.mark.parametrize("layer", [Recurrent, keras.layers.RNN], ids=["recurrent", "keras_rnn"])
def test_one_chunk_of_the_whole_length_is_full_bptt(layer):
    if layer is keras.layers.RNN and keras.backend.backend() == "jax":
        pytest.skip("fit_truncated refuses Keras's own stateful RNNs on JAX")
    x, y = data()
    full = lstm_model(stateful=False, layer=layer)
    start = trainable_weights(full)
    truncated = lstm_model(stateful=True, weights=start, layer=layer)
    full.train_on_batch(x, y)
    fit_truncated(truncated, x, y, chunk_length=T, verbose=0)
    for before, expected, got in zip(start, trainable_weights(full), trainable_weights(truncated)):
        assert np.abs(expected - before).max() > 1e-3  # the gradient is not zero
        np.testing.assert_allclose(got, expected, atol=ATOL)


def test_chunks_carry_the_state_but_not_the_gradient():
    """Each chunk's gradient is that of its own loss, from the state the chunk before left.

    The reference feeds that state in as data (`initial_state` from inputs),
    which no gradient reaches: the definition of truncation.
    """
    x, y = data()
    k = T // 2
    truncated = lstm_model(stateful=True)
    start = trainable_weights(truncated)

    inputs = keras.Input(batch_shape=(B, None, F))
    states = [keras.Input(batch_shape=(B, UNITS)) for _ in range(2)]
    outputs, *final = Recurrent(seqzoo.cells.LSTMCell(UNITS), return_sequences=True, return_state=True)(
        inputs, initial_state=states
    )
    stepper = keras.Model([inputs, *states], outputs)
    stepper.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    stepper.set_weights(start)
    with_states = keras.Model([inputs, *states], [outputs, *final])

    state = [np.zeros((B, UNITS), "float32")] * 2
    for chunk in range(2):
        steps = slice(chunk * k, (chunk + 1) * k)
        # The state the chunk leaves, with the weights it starts from.
        next_state = to_numpy(with_states.predict_on_batch([x[:, steps], *state])[1:])
        stepper.train_on_batch([x[:, steps], *state], y[:, steps])
        state = next_state

    fit_truncated(truncated, x, y, chunk_length=k, verbose=0)
    for before, expected, got in zip(start, trainable_weights(stepper), trainable_weights(truncated)):
        assert np.abs(expected - before).max() > 1e-3
        np.testing.assert_allclose(got, expected, atol=ATOL)


def test_each_epoch_starts_from_zero_states():
    x, y = data()
    model = lstm_model(stateful=True)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    history = fit_truncated(model, x, y, chunk_length=T // 2, epochs=2, verbose=0)
    losses = history.history["loss"]
    assert losses[0] == pytest.approx(losses[1], abs=1e-6)


def test_time_chunks_reads_consecutive_chunks():
    x, y = data()
    chunks = TimeChunks(x, y, chunk_length=2)
    assert len(chunks) == T // 2
    np.testing.assert_array_equal(np.concatenate([c[0] for c in chunks], axis=1), x)
    np.testing.assert_array_equal(chunks[3][1], y[:, 6:8])


@pytest.mark.parametrize("chunk_length", [3, 0, 2.0])
def test_chunk_length_that_does_not_divide_is_a_value_error(chunk_length):
    x, y = data()
    with pytest.raises(ValueError, match=f"chunk_length={chunk_length!r} for {T} time steps"):
        TimeChunks(x, y, chunk_length)


def test_model_without_stateful_layers_is_a_value_error():
    x, y = data()
    with pytest.raises(ValueError, match="stateful=True"):
        fit_truncated(lstm_model(stateful=False), x, y, chunk_length=T)


def test_untracked_states_on_jax_are_a_value_error():
    if keras.backend.backend() != "jax":
        pytest.skip("other backends carry Keras's own RNN states across steps")
    x, y = data()
    model = lstm_model(stateful=True, layer=keras.layers.RNN)
    with pytest.raises(ValueError, match="seqzoo.layers.Recurrent"):
        fit_truncated(model, x, y, chunk_length=T // 2)


def test_shuffle_is_a_value_error():
    x, y = data()
    with pytest.raises(ValueError, match="shuffle=True"):
        fit_truncated(lstm_model(stateful=True), x, y, chunk_length=T, shuffle=True)
