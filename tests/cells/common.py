"""Shared pieces of the cell tests: the cell cases, sequence runners and checks."""

import dataclasses
import functools
from collections.abc import Callable

import keras
import numpy as np
from backend_helpers import float64_enabled
from backend_helpers import scalar_function
from backend_helpers import to_numpy
from backend_helpers import value_and_gradients

import seqzoo.cells

from . import numpy_reference as ref

BATCH, TIME, FEATURES, UNITS = 3, 7, 5, 4
ATOL = 1e-5


@dataclasses.dataclass(frozen=True)
class CellCase:
    """One cell configuration: how to make it and its NumPy reference step."""

    name: str
    make: Callable  # (**kwargs) -> seqzoo cell with `UNITS` units
    reference: Callable  # step(x, states, weights) -> (output, states, gates)
    keras_make: Callable | None = None  # the Keras cell with equal numbers
    gates: tuple = ()

    def __repr__(self):
        return self.name


def _case(name, cls, reference, keras_cls=None, gates=(), **cell_kwargs):
    keras_kwargs = {k: v for k, v in cell_kwargs.items() if k in ("reset_after", "use_bias")}
    return CellCase(
        name=name,
        make=lambda **kw: cls(UNITS, **{**cell_kwargs, **kw}),
        reference=functools.partial(reference, **_reference_kwargs(cell_kwargs)),
        keras_make=(lambda **kw: keras_cls(UNITS, **{**keras_kwargs, **kw})) if keras_cls else None,
        gates=gates,
    )


def _reference_kwargs(cell_kwargs):
    return {k: v for k, v in cell_kwargs.items() if k in ("reset_after", "minimal", "cell_clip")}


GRU_GATES = ("update", "reset", "candidate")
LSTM_GATES = ("input", "forget", "candidate", "output")

CASES = [
    _case("rnn", seqzoo.cells.SimpleRNNCell, ref.simple_rnn_step, keras.layers.SimpleRNNCell, ("candidate",)),
    _case(
        "rnn_no_bias",
        seqzoo.cells.SimpleRNNCell,
        ref.simple_rnn_step,
        keras.layers.SimpleRNNCell,
        ("candidate",),
        use_bias=False,
    ),
    _case("gru_reset_after", seqzoo.cells.GRUCell, ref.gru_step, keras.layers.GRUCell, GRU_GATES, reset_after=True),
    _case("gru_reset_before", seqzoo.cells.GRUCell, ref.gru_step, keras.layers.GRUCell, GRU_GATES, reset_after=False),
    _case(
        "gru_reset_after_no_bias",
        seqzoo.cells.GRUCell,
        ref.gru_step,
        keras.layers.GRUCell,
        GRU_GATES,
        reset_after=True,
        use_bias=False,
    ),
    _case(
        "gru_minimal", seqzoo.cells.GRUCell, ref.gru_step, None, ("update", "candidate"), minimal=True, reset_after=True
    ),
    _case(
        "gru_minimal_reset_before",
        seqzoo.cells.GRUCell,
        ref.gru_step,
        None,
        ("update", "candidate"),
        minimal=True,
        reset_after=False,
    ),
    _case("lstm", seqzoo.cells.LSTMCell, ref.lstm_step, keras.layers.LSTMCell, LSTM_GATES),
    _case("lstm_cell_clip", seqzoo.cells.LSTMCell, ref.lstm_step, None, LSTM_GATES, cell_clip=0.3),
    _case("peephole", seqzoo.cells.PeepholeLSTMCell, ref.peephole_lstm_step, None, LSTM_GATES),
    _case("peephole_cell_clip", seqzoo.cells.PeepholeLSTMCell, ref.peephole_lstm_step, None, LSTM_GATES, cell_clip=0.3),
    _case("mingru", seqzoo.cells.MinGRUCell, ref.mingru_step, None, ("update", "candidate")),
    _case("minlstm", seqzoo.cells.MinLSTMCell, ref.minlstm_step, None, ("input", "forget", "candidate")),
]
CASE_IDS = [case.name for case in CASES]
KERAS_CASES = [case for case in CASES if case.keras_make is not None]


def random_inputs(seed=0, shape=(BATCH, TIME, FEATURES), dtype="float32"):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


# Called eagerly on JAX, `keras.layers.RNN` compiles a fresh `lax.scan` on
# every call (~0.3 s each on a busy 2-core machine, against ~5 ms unrolled),
# which would make the JAX run several times slower than TensorFlow's. So on
# JAX the layers here unroll by default: the cell's own step code is the same
# either way. The tests that pass `unroll=False` (the NumPy references over
# every cell case, masking) keep the scan path covered on JAX, including its
# check that the cell's states keep their structure and dtype from step to
# step; so does the last layer of the stacked `.keras` round trip.
UNROLL = keras.backend.backend() == "jax"


def sequence_layer(cell, x, unroll=None, **kwargs):
    """`keras.layers.RNN(cell)` returning all outputs and the final states, built on `x`."""
    layer = keras.layers.RNN(
        cell,
        return_sequences=True,
        return_state=True,
        unroll=UNROLL if unroll is None else unroll,
        **kwargs,
    )
    layer(x)
    return layer


def randomize(layer, seed=0, scale=0.5):
    """Gives every weight of `layer` random non-trivial values; returns them (float64)."""
    rng = np.random.default_rng(seed + 1000)
    layer.set_weights([rng.normal(scale=scale, size=w.shape) for w in layer.get_weights()])
    return [w.astype(np.float64) for w in layer.get_weights()]


def run(layer, x, **kwargs):
    """`[outputs, *final_states]` of a `sequence_layer`, as NumPy."""
    return to_numpy(list(layer(x, **kwargs)))


def initial_states(cell, batch=BATCH):
    sizes = cell.state_size if isinstance(cell.state_size, list) else [cell.state_size]
    return [np.zeros((batch, size)) for size in sizes]


def weighted_sum(layer, cotangents):
    """A scalar of all outputs and states of `layer`, weighted by fixed arrays."""

    def fn(x):
        results = layer(x)
        return sum(
            keras.ops.sum(r * keras.ops.convert_to_tensor(c, dtype=r.dtype)) for r, c in zip(results, cotangents)
        )

    return fn


def assert_keras_parity(keras_cell, seqzoo_cell, seed=0):
    """Copies random weights from a Keras cell into a seqzoo cell and compares.

    Asserts equal weight names and shapes, equal outputs and final states, and
    equal gradients of a weighted sum of them with respect to the inputs and
    every weight, all within `ATOL`.
    """
    x = random_inputs(seed)
    theirs = sequence_layer(keras_cell, x)
    randomize(theirs, seed)
    ours = sequence_layer(seqzoo_cell, x)
    assert [(w.name, tuple(w.shape)) for w in ours.weights if w.trainable] == [
        (w.name, tuple(w.shape)) for w in theirs.weights if w.trainable
    ]
    ours.set_weights(theirs.get_weights())

    expected, got = run(theirs, x), run(ours, x)
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, atol=ATOL)

    rng = np.random.default_rng(seed + 1)
    cotangents = [rng.normal(size=e.shape) for e in expected]
    value_t, grads_t, dx_t = value_and_gradients(weighted_sum(theirs, cotangents), theirs.trainable_variables, x)
    value_o, grads_o, dx_o = value_and_gradients(weighted_sum(ours, cotangents), ours.trainable_variables, x)
    np.testing.assert_allclose(value_o, value_t, atol=ATOL)
    np.testing.assert_allclose(dx_o, dx_t, atol=ATOL)
    assert np.abs(dx_t).max() > 1e-3  # the check is not vacuous
    assert len(grads_o) == len(grads_t)
    for variable, g_o, g_t in zip(ours.trainable_variables, grads_o, grads_t):
        assert np.abs(g_t).max() > 1e-3, variable.name
        np.testing.assert_allclose(g_o, g_t, atol=ATOL, err_msg=variable.name)


def assert_bptt_matches_finite_differences(make_cell, seed=0, entries_per_weight=3, eps=1e-5, rtol=1e-4):
    """Central differences in float64 against the backend's gradients.

    Builds `keras.layers.RNN(make_cell(dtype="float64"))` on a short sequence,
    gives it random weights and compares, for a few entries of every weight
    and of the input, (L(w + eps) - L(w - eps)) / 2 eps with the autodiff
    gradient of the same scalar L (a fixed weighting of outputs and states).
    """
    with float64_enabled():
        x = random_inputs(seed, shape=(2, 4, 3), dtype="float64")
        layer = sequence_layer(make_cell(dtype="float64"), x, dtype="float64")
        randomize(layer, seed)
        rng = np.random.default_rng(seed + 2)
        cotangents = [rng.normal(size=r.shape) for r in run(layer, x)]
        loss = weighted_sum(layer, cotangents)
        variables = layer.trainable_variables
        _, grads, dx = value_and_gradients(loss, variables, x)
        evaluate = scalar_function(loss, variables)
        values = [to_numpy(v.value) for v in variables]

        def central_difference(which, index):
            """(L(+eps) - L(-eps)) / 2 eps for one entry of a weight (or of x)."""
            results = []
            for delta in (eps, -eps):
                moved = [v.copy() for v in values] + [x.copy()]
                moved[which][index] += delta
                results.append(evaluate(moved[:-1], moved[-1]))
            return (results[0] - results[1]) / (2 * eps)

        checked = 0
        for which, (variable, grad) in enumerate(zip(variables, grads)):
            assert grad.dtype == np.float64
            for flat in rng.choice(grad.size, entries_per_weight, replace=False):
                index = np.unravel_index(flat, grad.shape)
                np.testing.assert_allclose(
                    grad[index],
                    central_difference(which, index),
                    rtol=rtol,
                    atol=1e-8,
                    err_msg=f"{variable.name}{index}",
                )
                checked += 1
        for index in [(0, 0, 0), (1, 2, 1), (0, 3, 2)]:
            np.testing.assert_allclose(
                dx[index],
                central_difference(len(values), index),
                rtol=rtol,
                atol=1e-8,
                err_msg=f"input{index}",
            )
        assert checked == entries_per_weight * len(variables) >= 2 * entries_per_weight
