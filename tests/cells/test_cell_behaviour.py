"""Checks that apply to every cell, parameterized over the cell cases.

NumPy references written from the course's equations (every cell, with
random weights and random initial states), `gate_activations`, masking,
dropout, `project_inputs` + `step` on a whole sequence, and mixed precision.
"""

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy

from . import numpy_reference as ref
from .common import ATOL
from .common import BATCH
from .common import CASE_IDS
from .common import CASES
from .common import FEATURES
from .common import TIME
from .common import UNITS
from .common import UNROLL
from .common import initial_states
from .common import random_inputs
from .common import randomize
from .common import run
from .common import sequence_layer

# One case per cell class, for the checks that do not depend on the variant.
FAMILIES = [c for c in CASES if c.name in ("rnn", "gru_reset_after", "lstm", "peephole")]
FAMILY_IDS = [c.name for c in FAMILIES]


def _random_states(cell, seed=5):
    rng = np.random.default_rng(seed)
    return [rng.normal(scale=0.5, size=s.shape).astype("float32") for s in initial_states(cell)]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_sequence_matches_numpy_reference(case):
    x = random_inputs(0)
    layer = sequence_layer(case.make(), x, unroll=False)
    weights = randomize(layer)
    start = _random_states(layer.cell)

    got = run(layer, x, initial_state=start)
    outputs, states = ref.run_sequence(lambda xt, s: case.reference(xt, s, weights), x, start)

    np.testing.assert_allclose(got[0], outputs, atol=ATOL)
    assert len(got) - 1 == len(states)
    for g, e in zip(got[1:], states):
        np.testing.assert_allclose(g, e, atol=ATOL)
    if "cell_clip" in case.name:
        # The clip bites: some |c<t>| sits at cell_clip, and none beyond it.
        assert np.isclose(np.abs(states[1]).max(), 0.3)
        assert np.abs(got[2]).max() <= 0.3 + 1e-7


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gate_activations_match_numpy_reference(case):
    cell = case.make()
    cell.build((BATCH, FEATURES))
    weights = randomize(cell)
    step_input = random_inputs(1, shape=(BATCH, FEATURES))
    states = _random_states(cell)

    gates = {k: to_numpy(v) for k, v in cell.gate_activations(step_input, states).items()}
    expected_output, expected_states, expected = case.reference(
        step_input, [s.astype(np.float64) for s in states], weights
    )

    assert tuple(gates) == case.gates
    assert set(expected) == set(case.gates)
    for name in case.gates:
        np.testing.assert_allclose(gates[name], expected[name], atol=ATOL, err_msg=name)
    # One step through `call` agrees with the same reference.
    output, new_states = cell(step_input, states)
    np.testing.assert_allclose(to_numpy(output), expected_output, atol=ATOL)
    for g, e in zip(to_numpy(list(new_states)), expected_states):
        np.testing.assert_allclose(g, e, atol=ATOL)


@pytest.mark.parametrize("case", FAMILIES, ids=FAMILY_IDS)
def test_masked_steps_carry_the_state_through(case):
    x = random_inputs(0)
    layer = sequence_layer(case.make(), x, unroll=False)
    randomize(layer)
    lengths = [TIME, 4, 1]
    mask = np.arange(TIME)[None, :] < np.array(lengths)[:, None]

    got = run(layer, x, mask=mask)

    for b, length in enumerate(lengths):
        alone = run(layer, x[b : b + 1, :length])
        # Final states equal those after the last unmasked step ...
        for g, a in zip(got[1:], alone[1:]):
            np.testing.assert_allclose(g[b], a[0], atol=ATOL)
        # ... and each masked step repeats the last unmasked output.
        np.testing.assert_allclose(got[0][b, :length], alone[0][0], atol=ATOL)
        for t in range(length, TIME):
            np.testing.assert_allclose(got[0][b, t], got[0][b, length - 1], atol=0)


@pytest.mark.parametrize("case", FAMILIES, ids=FAMILY_IDS)
def test_mask_with_a_gap_matches_numpy_reference(case):
    x = random_inputs(0)
    layer = sequence_layer(case.make(), x, unroll=False)
    weights = randomize(layer)
    mask = np.ones((BATCH, TIME), dtype=bool)
    mask[0, 2:4] = False  # a gap in the middle
    mask[1, 0] = False  # the first step masked
    mask[2, -1] = False

    got = run(layer, x, mask=mask)
    outputs, states = ref.run_sequence(
        lambda xt, s: case.reference(xt, s, weights), x, initial_states(layer.cell), mask
    )

    np.testing.assert_allclose(got[0], outputs, atol=ATOL)
    for g, e in zip(got[1:], states):
        np.testing.assert_allclose(g, e, atol=ATOL)
    # Over the gap the state does not move.
    np.testing.assert_allclose(got[0][0, 3], got[0][0, 1], atol=0)


@pytest.mark.parametrize("case", FAMILIES, ids=FAMILY_IDS)
def test_embedding_mask_zero_ignores_padding(case):
    tokens = np.array([[3, 1, 4, 1, 5, 0, 0], [9, 2, 6, 0, 0, 0, 0]])
    model = keras.Sequential(
        [
            keras.Input((TIME,), dtype="int32"),
            keras.layers.Embedding(10, FEATURES, mask_zero=True),
            keras.layers.RNN(case.make(), unroll=UNROLL),
        ]
    )
    padded = to_numpy(model(tokens))
    for b, length in enumerate([5, 3]):
        unpadded = to_numpy(model(tokens[b : b + 1, :length]))
        np.testing.assert_allclose(padded[b], unpadded[0], atol=ATOL)
    # Without the mask the padding would change the result.
    embedding, rnn = model.layers
    unmasked = to_numpy(rnn(to_numpy(embedding(tokens))))  # NumPy carries no mask
    assert not np.allclose(unmasked, padded, atol=1e-3)


def _dropout_layers(case, x, **dropout):
    """A plain layer with random weights and dropout layers with its weights."""
    plain = sequence_layer(case.make(), x)
    randomize(plain)

    def dropped():
        layer = sequence_layer(case.make(**dropout), x)
        layer.set_weights(plain.get_weights())
        return layer

    return plain, dropped


@pytest.mark.parametrize("case", FAMILIES, ids=FAMILY_IDS)
def test_dropout_changes_outputs_in_training_only(case):
    x = random_inputs(0)
    plain, dropped = _dropout_layers(case, x, dropout=0.3, recurrent_dropout=0.3, seed=3)
    expected = run(plain, x)
    first, twin = dropped(), dropped()

    inference = run(first, x, training=False)
    training = run(first, x, training=True)
    again = run(first, x, training=True)

    for e, g in zip(expected, inference):
        np.testing.assert_allclose(g, e, atol=ATOL)
    assert not np.allclose(training[0], expected[0], atol=1e-3)
    # A new sequence (call) draws new masks from the cell's SeedGenerator.
    assert not np.allclose(again[0], training[0], atol=1e-3)
    # A fresh cell with the same `seed` gives the same training outputs when
    # called the same way. Keras's RNN draws the masks from the cell's own
    # SeedGenerator(seed) on every call, inference calls included, so the
    # twin repeats the same sequence of calls. This holds on TensorFlow and
    # JAX alike; the global seed plays no part once `seed` is given.
    keras.utils.set_random_seed(123)
    twin_runs = [run(twin, x, training=t) for t in (False, True, True)]
    for ours, theirs in zip(twin_runs, [inference, training, again]):
        for g, e in zip(theirs, ours):
            np.testing.assert_allclose(g, e, atol=0)


@pytest.mark.parametrize("rate", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("case", FAMILIES, ids=FAMILY_IDS)
def test_each_dropout_rate_alone_acts_in_training(case, rate):
    x = random_inputs(0)
    plain, dropped = _dropout_layers(case, x, **{rate: 0.5, "seed": 1})
    expected = run(plain, x)
    layer = dropped()
    np.testing.assert_allclose(run(layer, x)[0], expected[0], atol=ATOL)
    assert not np.allclose(run(layer, x, training=True)[0], expected[0], atol=1e-3)


def test_input_dropout_mask_is_one_per_sequence_and_scaled():
    # A linear SimpleRNN with kernel = I, recurrent kernel = 0, no bias
    # outputs a<t> = x<t> * m, so the output divided by x<t> is the mask m:
    # the same at every step, and each entry 0 or 1 / (1 - rate) (inverted
    # dropout).
    from seqzoo.cells import SimpleRNNCell

    rate = 0.5
    x = random_inputs(0, shape=(BATCH, TIME, UNITS))
    cell = SimpleRNNCell(
        UNITS,
        activation="linear",
        use_bias=False,
        kernel_initializer="identity",
        recurrent_initializer="zeros",
        dropout=rate,
        seed=7,
    )
    layer = sequence_layer(cell, x)
    mask = run(layer, x, training=True)[0] / x
    np.testing.assert_allclose(mask, np.broadcast_to(mask[:, :1], mask.shape), atol=1e-5)
    assert np.all(np.isclose(mask, 0.0) | np.isclose(mask, 1.0 / (1.0 - rate)))
    assert np.isclose(mask, 0.0).any() and not np.isclose(mask, 0.0).all()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_projecting_the_whole_sequence_then_stepping_equals_the_rnn(case):
    # `project_inputs` takes a whole sequence at once (x<t> Wx + b for every
    # t in one product); `step` then does the state-dependent rest.
    x = random_inputs(0)
    layer = sequence_layer(case.make(), x)
    randomize(layer)
    cell = layer.cell
    expected = run(layer, x)

    projected = cell.project_inputs(x)
    for t in range(TIME):
        np.testing.assert_allclose(to_numpy(projected[:, t]), to_numpy(cell.project_inputs(x[:, t])), atol=ATOL)
    states = [keras.ops.convert_to_tensor(s, "float32") for s in initial_states(cell)]
    outputs = []
    for t in range(TIME):
        output, states = cell.step(projected[:, t], states)
        outputs.append(to_numpy(output))
    np.testing.assert_allclose(np.stack(outputs, axis=1), expected[0], atol=ATOL)
    for g, e in zip(to_numpy(list(states)), expected[1:]):
        np.testing.assert_allclose(g, e, atol=ATOL)


@pytest.mark.parametrize("case", FAMILIES, ids=FAMILY_IDS)
def test_mixed_precision_is_close_to_float32(case):
    x = random_inputs(0)
    full = sequence_layer(case.make(), x)
    randomize(full)
    half = sequence_layer(case.make(dtype="mixed_float16"), x, dtype="mixed_float16")
    half.set_weights(full.get_weights())
    got = run(half, x)
    assert got[0].dtype == np.float16
    for g, e in zip(got, run(full, x)):
        np.testing.assert_allclose(g.astype(np.float32), e, atol=5e-3)
