"""PeepholeLSTMCell: Γu, Γf see c<t-1>, Γo sees the new c<t>."""

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy

from seqzoo.cells import LSTMCell
from seqzoo.cells import PeepholeLSTMCell

from .common import ATOL
from .common import UNITS
from .common import assert_bptt_matches_finite_differences
from .common import random_inputs
from .common import randomize
from .common import run
from .common import sequence_layer

PEEPHOLES = [
    "input_gate_peephole_weights",
    "forget_gate_peephole_weights",
    "output_gate_peephole_weights",
]


def test_weight_layout():
    layer = sequence_layer(PeepholeLSTMCell(UNITS), random_inputs(0))
    assert [(w.name, tuple(w.shape)) for w in layer.weights][3:] == [(name, (UNITS,)) for name in PEEPHOLES]
    assert [w.name for w in layer.weights][:3] == ["kernel", "recurrent_kernel", "bias"]


def test_zero_peepholes_equal_lstm_and_keras_lstm():
    x = random_inputs(0)
    keras_lstm = sequence_layer(keras.layers.LSTMCell(UNITS), x)
    weights = randomize(keras_lstm)
    lstm = sequence_layer(LSTMCell(UNITS), x)
    lstm.set_weights(weights)
    peephole = sequence_layer(PeepholeLSTMCell(UNITS, peephole_initializer="zeros"), x)
    assert all(not np.any(w) for w in peephole.get_weights()[3:])
    peephole.set_weights(weights + peephole.get_weights()[3:])

    expected = run(keras_lstm, x)
    for layer in (lstm, peephole):
        for e, g in zip(expected, run(layer, x)):
            np.testing.assert_allclose(g, e, atol=ATOL)


@pytest.mark.parametrize("gate", PEEPHOLES)
def test_each_peephole_changes_the_numbers(gate):
    x = random_inputs(0)
    layer = sequence_layer(PeepholeLSTMCell(UNITS, peephole_initializer="zeros"), x)
    randomize(layer)
    for name in PEEPHOLES:
        getattr(layer.cell, name).assign(np.zeros(UNITS))
    before = run(layer, x)
    getattr(layer.cell, gate).assign(np.full(UNITS, 2.0))
    assert not np.allclose(run(layer, x)[0], before[0], atol=1e-3)


def test_constant_weights_by_hand():
    # 1 unit, 1 input: kernel 1, recurrent kernel 0, biases 0 (no
    # unit_forget_bias), all three peepholes 1, x<1> = x<2> = 1, zero states.
    # Step 1, c<0> = 0:
    #   Γu = Γf = σ(1 + 1 * 0) = 0.7310585786, c̃ = tanh(1) = 0.7615941560
    #   c<1> = Γu c̃ = 0.5567699411
    #   Γo = σ(1 + 1 * c<1>) = σ(1.5567699411) = 0.8258893719   (the new c<1>)
    #   a<1> = Γo tanh(c<1>) = 0.4175506144
    # Step 2, c<1> = 0.5567699411:
    #   Γu = Γf = σ(1 + c<1>) = 0.8258893719                   (the old c<1>)
    #   c<2> = Γf c<1> + Γu c̃ = 0.8258893719 * 1.3183640971 = 1.0888228960
    #   Γo = σ(1 + c<2>) = 0.8898120676;  a<2> = Γo tanh(c<2>) = 0.7086891444
    cell = PeepholeLSTMCell(
        1,
        kernel_initializer="ones",
        recurrent_initializer="zeros",
        bias_initializer="zeros",
        unit_forget_bias=False,
        peephole_initializer="ones",
    )
    x = np.ones((1, 2, 1), "float32")
    outputs, a, c = sequence_layer(cell, x)(x)
    np.testing.assert_allclose(to_numpy(outputs)[0, :, 0], [0.4175506144, 0.7086891444], atol=1e-6)
    np.testing.assert_allclose(to_numpy(c), [[1.0888228960]], atol=1e-6)
    gates = cell.gate_activations(
        np.ones((1, 1), "float32"), [np.zeros((1, 1), "float32"), np.full((1, 1), 0.5567699411, "float32")]
    )
    np.testing.assert_allclose(to_numpy(gates["input"]), [[0.8258893719]], atol=1e-6)
    np.testing.assert_allclose(to_numpy(gates["forget"]), [[0.8258893719]], atol=1e-6)
    np.testing.assert_allclose(to_numpy(gates["output"]), [[0.8898120676]], atol=1e-6)


def test_backprop_through_time_matches_finite_differences():
    assert_bptt_matches_finite_differences(lambda **kw: PeepholeLSTMCell(3, **kw))
