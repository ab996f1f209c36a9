"""LSTMCell: Keras's LSTM, plus cell_clip."""

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy

from seqzoo.cells import LSTMCell

from .common import FEATURES
from .common import UNITS
from .common import assert_bptt_matches_finite_differences
from .common import assert_keras_parity
from .common import random_inputs
from .common import sequence_layer

ONE_STEP = np.ones((1, 2, 1), "float32")


def _constant_lstm(**kwargs):
    # 1 unit, 1 input: every kernel entry 1, recurrent kernel 0, biases 0.
    return LSTMCell(
        1,
        kernel_initializer="ones",
        recurrent_initializer="zeros",
        bias_initializer="zeros",
        **kwargs,
    )


@pytest.mark.parametrize("use_bias", [True, False])
def test_weight_copy_parity_with_keras(use_bias):
    assert_keras_parity(
        keras.layers.LSTMCell(UNITS, use_bias=use_bias),
        LSTMCell(UNITS, use_bias=use_bias),
    )


def test_unit_forget_bias_initializes_like_keras():
    x = random_inputs(0)
    ours = sequence_layer(LSTMCell(UNITS, bias_initializer="ones"), x)
    theirs = sequence_layer(keras.layers.LSTMCell(UNITS, bias_initializer="ones"), x)
    # i, f, c, o: bias_initializer everywhere but the forget gate, which is 1.
    expected = np.concatenate([np.ones(UNITS), np.ones(UNITS), np.ones(2 * UNITS)])
    np.testing.assert_array_equal(to_numpy(ours.cell.bias), expected)
    np.testing.assert_array_equal(to_numpy(theirs.cell.bias), expected)
    zeros = sequence_layer(LSTMCell(UNITS), x)
    expected = np.concatenate([np.zeros(UNITS), np.ones(UNITS), np.zeros(2 * UNITS)])
    np.testing.assert_array_equal(to_numpy(zeros.cell.bias), expected)
    plain = sequence_layer(LSTMCell(UNITS, unit_forget_bias=False), x)
    np.testing.assert_array_equal(to_numpy(plain.cell.bias), np.zeros(4 * UNITS))
    assert tuple(ours.cell.kernel.shape) == (FEATURES, 4 * UNITS)


def test_all_zero_weights_stay_at_zero():
    # Every weight 0 (bf = 1 from unit_forget_bias): Γu = σ(0) = 0.5,
    # Γf = σ(1) = 0.7310585786, Γo = 0.5, c̃ = tanh(0) = 0, so from zero states
    #   c<1> = Γf * 0 + Γu * 0 = 0,   a<1> = Γo * tanh(0) = 0,
    # and so on for every step, whatever the inputs.
    cell = LSTMCell(2, kernel_initializer="zeros", recurrent_initializer="zeros", unit_forget_bias=True)
    x = random_inputs(0, shape=(2, 3, 3))
    outputs, a, c = sequence_layer(cell, x)(x)
    np.testing.assert_array_equal(to_numpy(outputs), np.zeros((2, 3, 2)))
    np.testing.assert_array_equal(to_numpy(c), np.zeros((2, 2)))
    gates = cell.gate_activations(x[:, 0], [np.zeros((2, 2), "float32")] * 2)
    np.testing.assert_allclose(to_numpy(gates["input"]), np.full((2, 2), 0.5), atol=1e-7)
    np.testing.assert_allclose(to_numpy(gates["forget"]), np.full((2, 2), 0.7310585786), atol=1e-6)
    np.testing.assert_allclose(to_numpy(gates["output"]), np.full((2, 2), 0.5), atol=1e-7)
    np.testing.assert_allclose(to_numpy(gates["candidate"]), np.zeros((2, 2)), atol=1e-7)


@pytest.mark.parametrize(
    "unit_forget_bias, expected_a, expected_c",
    [
        # Kernel 1, recurrent 0, biases 0, x<1> = x<2> = 1, zero states:
        # every gate pre-activation is 1, so Γu = Γf = Γo = σ(1) = 0.7310585786,
        # c̃ = tanh(1) = 0.7615941560 at both steps.
        #   c<1> = Γu c̃ = 0.5567699411;   a<1> = Γo tanh(c<1>) = 0.3696063529
        #   c<2> = Γf c<1> + Γu c̃ = 0.9638013829;   a<2> = 0.5453460789
        (False, [0.3696063529, 0.5453460789], 0.9638013829),
        # unit_forget_bias: bf = 1, so Γf = σ(2) = 0.8807970780; c<1>, a<1> as above,
        #   c<2> = 0.8807970780 * 0.5567699411 + 0.5567699411 = 1.0471712784
        #   a<2> = 0.7310585786 * tanh(1.0471712784) = 0.5707404853
        (True, [0.3696063529, 0.5707404853], 1.0471712784),
    ],
)
def test_constant_weights_by_hand(unit_forget_bias, expected_a, expected_c):
    cell = _constant_lstm(unit_forget_bias=unit_forget_bias)
    outputs, a, c = sequence_layer(cell, ONE_STEP)(ONE_STEP)
    np.testing.assert_allclose(to_numpy(outputs)[0, :, 0], expected_a, atol=1e-6)
    np.testing.assert_allclose(to_numpy(c), [[expected_c]], atol=1e-6)


def test_cell_clip_by_hand():
    # As above without unit_forget_bias, with cell_clip = 0.5:
    #   c<1> = 0.5567699411 -> clipped to 0.5;  a<1> = σ(1) tanh(0.5) = 0.3378347121
    #   c<2> = σ(1) * 0.5 + σ(1) * tanh(1) = 0.9223 -> 0.5;  a<2> = 0.3378347121
    cell = _constant_lstm(unit_forget_bias=False, cell_clip=0.5)
    outputs, a, c = sequence_layer(cell, ONE_STEP)(ONE_STEP)
    np.testing.assert_allclose(to_numpy(outputs)[0, :, 0], [0.3378347121] * 2, atol=1e-6)
    np.testing.assert_allclose(to_numpy(c), [[0.5]], atol=1e-7)
    # Negative side: x = -1 gives c<1> = σ(-1) tanh(-1) = -0.2048 (unclipped),
    # then c<2> = σ(-1) (-0.2048) - 0.2048 = -0.2599, inside the clip too; a
    # larger clip never changes the numbers:
    wide = _constant_lstm(unit_forget_bias=False, cell_clip=100.0)
    plain = _constant_lstm(unit_forget_bias=False)
    x = -ONE_STEP
    np.testing.assert_allclose(
        to_numpy(sequence_layer(wide, x)(x)[0]), to_numpy(sequence_layer(plain, x)(x)[0]), atol=0
    )


@pytest.mark.parametrize("use_bias", [True, False])
def test_backprop_through_time_matches_finite_differences(use_bias):
    assert_bptt_matches_finite_differences(lambda **kw: LSTMCell(3, use_bias=use_bias, **kw))
