"""RecurrentStack: depth, direction, residual connections, dropout and stepping, in numbers."""

import re

import keras
import numpy as np
import pytest

from seqzoo.layers import MERGE_MODES
from seqzoo.layers import RecurrentStack

CELLS = ("rnn", "gru", "lstm", "peephole")
B, T, F, UNITS = 3, 5, 3, 4


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def inputs(features=F, seed=0):
    return np.random.default_rng(seed).normal(size=(B, T, features)).astype("float32")


def built(features=F, **kwargs):
    stack = RecurrentStack(**kwargs)
    stack.build((None, None, features))
    return stack


def zero_out(layer):
    for weight in layer.weights:
        weight.assign(np.zeros(weight.shape, dtype="float32"))


# --- output shapes and which step comes out -----------------------------------------------


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("bidirectional,merge_mode", [(False, "concat"), (True, "concat"), (True, "sum")])
def test_return_sequences_at_every_depth(depth, bidirectional, merge_mode):
    """The last-step stack gives exactly the sequence stack's final output, same weights.

    Unidirectional: step T of the sequence. Bidirectional: the forward
    direction's step T merged with the backward direction's step 1 (where
    it ends), taken from a concat twin of the top layer.
    """
    kwargs = dict(cell="gru", units=UNITS, depth=depth, bidirectional=bidirectional, merge_mode=merge_mode)
    sequence_stack = built(**kwargs, return_sequences=True)
    last_stack = built(**kwargs, return_sequences=False)
    last_stack.set_weights(sequence_stack.get_weights())
    x = inputs()
    width = UNITS * (2 if bidirectional and merge_mode == "concat" else 1)
    assert sequence_stack.output_width == width

    sequence = numpy(sequence_stack(x))
    last = numpy(last_stack(x))
    assert sequence.shape == (B, T, width)
    assert last.shape == (B, width)
    assert sequence_stack.compute_output_shape((B, T, F)) == (B, T, width)
    assert last_stack.compute_output_shape((B, T, F)) == (B, width)
    if not bidirectional:
        np.testing.assert_allclose(last, sequence[:, -1], atol=1e-6)
        return
    # What the top layer reads: the output of the layers below it.
    weights = sequence_stack.get_weights()
    below_x = x
    if depth > 1:
        below = built(**{**kwargs, "depth": depth - 1})
        below.set_weights(weights[: len(below.get_weights())])
        below_x = numpy(below(x))
    top = built(below_x.shape[-1], cell="gru", units=UNITS, bidirectional=True, merge_mode="concat")
    top.set_weights(weights[len(weights) - len(top.get_weights()) :])
    both = numpy(top(below_x))
    forward_last, backward_last = both[:, -1, :UNITS], both[:, 0, UNITS:]
    if merge_mode == "concat":
        np.testing.assert_allclose(both, sequence, atol=1e-6)
        np.testing.assert_allclose(last, np.concatenate([forward_last, backward_last], -1), atol=1e-6)
    else:
        np.testing.assert_allclose(both[..., :UNITS] + both[..., UNITS:], sequence, atol=1e-6)
        np.testing.assert_allclose(last, forward_last + backward_last, atol=1e-6)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_return_state_gives_every_layers_final_states(cell, bidirectional):
    depth = 2
    stack = built(cell=cell, units=UNITS, depth=depth, bidirectional=bidirectional, return_state=True)
    output, *states = stack(inputs())
    per_cell = 2 if cell in ("lstm", "peephole") else 1
    directions = 2 if bidirectional else 1
    assert stack.state_count == len(states) == depth * per_cell * directions
    assert all(tuple(s.shape) == (B, UNITS) for s in states)
    output = numpy(output)
    top = [numpy(s) for s in states[-per_cell * directions :]]
    # The first state of every cell is its output a<t>: forward ends at T, backward at 1.
    np.testing.assert_allclose(top[0], output[:, -1, :UNITS], atol=1e-6)
    if bidirectional:
        np.testing.assert_allclose(top[per_cell], output[:, 0, UNITS:], atol=1e-6)


def test_masked_steps_carry_the_state_through():
    """A padded sequence ends where its last real step ends."""
    stack = built(cell="lstm", units=UNITS, depth=2, return_sequences=False)
    x = inputs()
    mask = np.ones((B, T), dtype=bool)
    mask[0, 3:] = False
    padded = numpy(stack(x, mask=keras.ops.convert_to_tensor(mask)))
    short = numpy(stack(x[:1, :3]))
    np.testing.assert_allclose(padded[0], short[0], atol=1e-6)
    np.testing.assert_allclose(padded[1:], numpy(stack(x[1:])), atol=1e-6)


# --- residual connections -----------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("same_width_input", [False, True])
def test_residual_stack_with_zeroed_branch_equals_its_plain_twin(cell, bidirectional, same_width_input):
    """Zero weights make an RNN, GRU or LSTM output 0, so only the skip remains.

    A depth-2 residual stack whose second layer is all zeros outputs exactly
    what a depth-1 stack with the same first layer outputs.
    """
    width = UNITS * (2 if bidirectional else 1)
    features = width if same_width_input else F
    deep = built(features, cell=cell, units=UNITS, depth=2, bidirectional=bidirectional, residual=True)
    shallow = built(features, cell=cell, units=UNITS, depth=1, bidirectional=bidirectional, residual=True)
    for source, target in zip(deep.recurrent_layers[0].weights, shallow.recurrent_layers[0].weights):
        target.assign(source)
    zero_out(deep.recurrent_layers[1])
    x = inputs(features)
    expected = numpy(shallow(x))
    np.testing.assert_array_equal(numpy(deep(x)), expected)
    # The branch itself outputs zeros.
    assert not np.allclose(expected, 0.0)
    # A plain (non-residual) twin of the zeroed stack outputs zeros instead.
    plain = built(features, cell=cell, units=UNITS, depth=2, bidirectional=bidirectional, residual=False)
    plain.set_weights(deep.get_weights())
    np.testing.assert_array_equal(numpy(plain(x)), np.zeros_like(expected))


@pytest.mark.parametrize("cell", CELLS)
def test_residual_adds_each_layers_input_to_its_output(cell):
    """residual=True minus residual=False, same weights = what the top layer reads."""
    residual = built(cell=cell, units=UNITS, depth=2, residual=True)
    plain = built(cell=cell, units=UNITS, depth=2, residual=False)
    plain.set_weights(residual.get_weights())
    first = built(cell=cell, units=UNITS, depth=1)
    first.set_weights(residual.get_weights()[: len(first.get_weights())])
    x = inputs()  # F != UNITS: the bottom layer has no skip
    top = built(UNITS, cell=cell, units=UNITS, depth=1)
    top.set_weights(residual.get_weights()[len(first.get_weights()) :])
    a1 = numpy(first(x))
    np.testing.assert_allclose(numpy(plain(x)), numpy(top(a1)), atol=1e-6)
    np.testing.assert_allclose(numpy(residual(x)), numpy(top(a1)) + a1, atol=1e-6)


# --- dropout ------------------------------------------------------------------------------


def test_dropout_between_layers_is_active_only_in_training():
    stack = built(cell="lstm", units=16, depth=2, dropout=0.5)
    twin = built(cell="lstm", units=16, depth=2, dropout=0.0)
    twin.set_weights(stack.get_weights())
    x = inputs()
    inference = numpy(stack(x, training=False))
    np.testing.assert_array_equal(numpy(stack(x, training=False)), inference)
    np.testing.assert_allclose(inference, numpy(twin(x, training=False)), atol=1e-6)
    np.testing.assert_allclose(numpy(stack(x)), inference, atol=1e-6)  # default: inference
    training = numpy(stack(x, training=True))
    assert np.abs(training - inference).max() > 1e-3
    # Dropout sits between layers, not before the first: a depth-1 stack ignores it.
    single = built(cell="lstm", units=16, depth=1, dropout=0.5)
    np.testing.assert_allclose(numpy(single(x, training=True)), numpy(single(x, training=False)), atol=1e-6)


def test_recurrent_dropout_is_active_only_in_training():
    stack = built(cell="gru", units=16, depth=1, recurrent_dropout=0.5)
    x = inputs()
    inference = numpy(stack(x, training=False))
    np.testing.assert_array_equal(numpy(stack(x, training=False)), inference)
    assert np.abs(numpy(stack(x, training=True)) - inference).max() > 1e-3


# --- stepping -----------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("residual", [False, True])
def test_step_by_step_equals_the_whole_sequence(cell, residual):
    stack = built(UNITS, cell=cell, units=UNITS, depth=2, residual=residual, dropout=0.3)
    x = inputs(UNITS)
    full = numpy(stack(x, training=False))
    states = stack.get_initial_state(B)
    for t in range(T):
        a, states = stack.step(keras.ops.convert_to_tensor(x[:, t]), states)
        np.testing.assert_allclose(numpy(a), full[:, t], atol=1e-5)
    assert len(states) == 2


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_step_from_an_initial_state_equals_the_sequence_from_it(cell):
    stack = built(cell=cell, units=UNITS, depth=2)
    rng = np.random.default_rng(1)
    initial = [
        [keras.ops.convert_to_tensor(rng.normal(size=(B, s)).astype("float32")) for s in sizes]
        for sizes in stack.state_sizes_per_layer
    ]
    x = inputs()
    full = numpy(stack(x, initial_state=initial))
    assert not np.allclose(full, numpy(stack(x)))
    states = initial
    for t in range(T):
        a, states = stack.step(keras.ops.convert_to_tensor(x[:, t]), states)
        np.testing.assert_allclose(numpy(a), full[:, t], atol=1e-5)


def test_step_on_a_bidirectional_stack_is_a_value_error():
    stack = built(cell="lstm", units=UNITS, bidirectional=True)
    with pytest.raises(ValueError, match="bidirectional"):
        stack.step(keras.ops.zeros((B, F)), stack.get_initial_state(B))


# --- arguments and serialization ----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,received,allowed",
    [
        ({"depth": 0}, "depth=0", ">= 1"),
        ({"merge_mode": "avg"}, "'avg'", "ave"),
        ({"dropout": 1.5}, "1.5", r"\[0, 1\)"),
        ({"cell": "lstn"}, "'lstn'", "'lstm'"),
        ({"units": 0}, "units=0", "positive"),
    ],
)
def test_bad_arguments_are_value_errors(kwargs, received, allowed):
    with pytest.raises(ValueError, match=received) as info:
        RecurrentStack(**kwargs)
    assert re.search(allowed, str(info.value))


def test_merge_modes_are_the_bidirectional_ones():
    assert set(MERGE_MODES) <= {"concat", "sum", "mul", "ave"}
    for mode in MERGE_MODES:
        stack = built(cell="rnn", units=UNITS, bidirectional=True, merge_mode=mode)
        assert numpy(stack(inputs())).shape == (B, T, stack.output_width)


def test_config_round_trip_gives_the_same_numbers():
    stack = built(
        cell="peephole",
        units=UNITS,
        depth=2,
        bidirectional=True,
        residual=True,
        dropout=0.1,
        cell_options={"use_bias": False},
        return_sequences=False,
    )
    restored = keras.layers.deserialize(keras.layers.serialize(stack))
    assert restored.get_config() == stack.get_config()
    restored.build((None, None, F))
    restored.set_weights(stack.get_weights())
    x = inputs()
    np.testing.assert_array_equal(numpy(restored(x)), numpy(stack(x)))


def test_bidirectional_copies_stay_independent_when_addresses_are_reused(monkeypatch):
    """Keras's load-time object sharing keys objects by `id()`; a freed layer's address can be reused.

    `serialization_lib.id` made constant stands in for the worst case of that
    reuse: every object serialized while a `.keras` file loads looks like the
    first. Without `_compat.independent_copies`, the second layer's copies are
    the first layer's (a `ValueError`, or shared weights), as happened on some
    `PYTHONHASHSEED`s.
    """
    from keras.src.saving import serialization_lib

    monkeypatch.setattr(serialization_lib, "id", lambda obj: 1, raising=False)
    with serialization_lib.ObjectSharingScope():
        stack = RecurrentStack(cell="gru", units=UNITS, depth=3, bidirectional=True)
    stack.build((None, None, F))
    copies = [copy for layer in stack.recurrent_layers for copy in (layer.forward_layer, layer.backward_layer)]
    assert len({id(copy) for copy in copies}) == 6
    assert len({id(copy.cell) for copy in copies}) == 6
    assert [copy.go_backwards for copy in copies] == [False, True] * 3
    assert len(stack.weights) == 6 * 3
