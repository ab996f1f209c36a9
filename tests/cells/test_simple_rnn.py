"""SimpleRNNCell: a<t> = g(Wa [a<t-1>, x<t>] + ba)."""

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy

from seqzoo.cells import SimpleRNNCell

from .common import ATOL
from .common import FEATURES
from .common import UNITS
from .common import assert_bptt_matches_finite_differences
from .common import assert_keras_parity
from .common import random_inputs
from .common import randomize
from .common import sequence_layer


@pytest.mark.parametrize("use_bias", [True, False])
def test_weight_copy_parity_with_keras(use_bias):
    assert_keras_parity(
        keras.layers.SimpleRNNCell(UNITS, use_bias=use_bias),
        SimpleRNNCell(UNITS, use_bias=use_bias),
    )


def test_parity_with_keras_for_another_activation():
    assert_keras_parity(
        keras.layers.SimpleRNNCell(UNITS, activation="relu"),
        SimpleRNNCell(UNITS, activation="relu"),
    )


def test_constant_weights_by_hand():
    # 1 unit, 1 input, Wax = 0.1, Waa = 0.2, ba = 0, x<1> = x<2> = 1, a<0> = 0:
    #   a<1> = tanh(0.1 * 1 + 0.2 * 0)               = tanh(0.1)
    #        = 0.0996679946...
    #   a<2> = tanh(0.1 * 1 + 0.2 * 0.0996679946)    = tanh(0.1199335989)
    #        = 0.1193618440...
    cell = SimpleRNNCell(
        1,
        kernel_initializer=keras.initializers.Constant(0.1),
        recurrent_initializer=keras.initializers.Constant(0.2),
        bias_initializer="zeros",
    )
    outputs, state = sequence_layer(cell, np.ones((1, 2, 1), "float32"))(np.ones((1, 2, 1), "float32"))
    np.testing.assert_allclose(to_numpy(outputs)[0, :, 0], [0.0996679946, 0.1193618440], atol=1e-6)
    np.testing.assert_allclose(to_numpy(state), [[0.1193618440]], atol=1e-6)


def test_stacked_kernel_is_waa_beside_wax():
    layer = sequence_layer(SimpleRNNCell(UNITS), random_inputs(0))
    kernel, recurrent_kernel, _ = randomize(layer)
    wa = to_numpy(layer.cell.stacked_kernel)
    assert wa.shape == (UNITS, UNITS + FEATURES)
    np.testing.assert_allclose(wa[:, :UNITS], recurrent_kernel.T, atol=1e-7)  # Waa
    np.testing.assert_allclose(wa[:, UNITS:], kernel.T, atol=1e-7)  # Wax


def test_stacked_kernel_with_column_vectors_gives_the_output():
    layer = sequence_layer(SimpleRNNCell(UNITS), random_inputs(0))
    _, _, bias = randomize(layer)
    cell = layer.cell
    rng = np.random.default_rng(3)
    a_prev = rng.normal(size=(UNITS, 1))  # column vectors, as in the course
    x = rng.normal(size=(FEATURES, 1))
    wa = to_numpy(cell.stacked_kernel).astype(np.float64)
    expected = np.tanh(wa @ np.vstack([a_prev, x]) + bias[:, None])
    output, _ = cell(x.T.astype("float32"), [a_prev.T.astype("float32")])
    np.testing.assert_allclose(to_numpy(output), expected.T, atol=ATOL)


def test_backprop_through_time_matches_finite_differences():
    assert_bptt_matches_finite_differences(lambda **kw: SimpleRNNCell(3, **kw))
