"""GRUCell: Keras's GRU (reset_after both ways) and the course's minimal GRU."""

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy

from seqzoo.cells import GRUCell

from .common import FEATURES
from .common import UNITS
from .common import assert_bptt_matches_finite_differences
from .common import assert_keras_parity
from .common import random_inputs
from .common import sequence_layer


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("reset_after", [True, False])
def test_weight_copy_parity_with_keras(reset_after, use_bias):
    assert_keras_parity(
        keras.layers.GRUCell(UNITS, reset_after=reset_after, use_bias=use_bias),
        GRUCell(UNITS, reset_after=reset_after, use_bias=use_bias),
    )


@pytest.mark.parametrize(
    "reset_after, minimal, bias_shape",
    [
        (True, False, (2, 3 * UNITS)),
        (False, False, (3 * UNITS,)),
        (True, True, (2, 2 * UNITS)),
        (False, True, (2 * UNITS,)),
    ],
)
def test_weight_layout(reset_after, minimal, bias_shape):
    # Gates side by side in Keras's order z, r, h; the minimal GRU keeps z, h.
    layer = sequence_layer(GRUCell(UNITS, reset_after=reset_after, minimal=minimal), random_inputs(0))
    gates = 2 if minimal else 3
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [
        ("kernel", (FEATURES, gates * UNITS)),
        ("recurrent_kernel", (UNITS, gates * UNITS)),
        ("bias", bias_shape),
    ]


@pytest.mark.parametrize("minimal", [False, True])
@pytest.mark.parametrize("reset_after", [True, False])
def test_constant_weights_by_hand(reset_after, minimal):
    # 1 unit, 1 input, every kernel entry 1, recurrent kernel 0, biases 0,
    # x<1> = x<2> = 1, c<0> = 0. Every gate sees 1 * x = 1, so
    #   z = σ(1) = 0.7310585786 (and r = σ(1) where there is one; it multiplies
    #   a zero recurrent term, so the three forms agree here)
    #   c̃ = tanh(1) = 0.7615941560
    #   c<1> = z * 0 + (1 - z) * c̃ = 0.2689414214 * 0.7615941560 = 0.2048242148
    #   c<2> = z * c<1> + (1 - z) * c̃ = 0.7310585786 * 0.2048242148
    #                                    + 0.2048242148       = 0.3545627142
    cell = GRUCell(
        1,
        reset_after=reset_after,
        minimal=minimal,
        kernel_initializer="ones",
        recurrent_initializer="zeros",
        bias_initializer="zeros",
    )
    x = np.ones((1, 2, 1), "float32")
    layer = sequence_layer(cell, x)
    outputs, state = layer(x)
    np.testing.assert_allclose(to_numpy(outputs)[0, :, 0], [0.2048242148, 0.3545627142], atol=1e-6)
    gates = cell.gate_activations(np.ones((1, 1), "float32"), [np.zeros((1, 1), "float32")])
    np.testing.assert_allclose(to_numpy(gates["update"]), [[0.7310585786]], atol=1e-6)
    np.testing.assert_allclose(to_numpy(gates["candidate"]), [[0.7615941560]], atol=1e-6)
    assert ("reset" in gates) is not minimal


def test_reset_gate_placement_by_hand():
    # 1 unit, 1 input. kernel (z, r, h) = (0, 0, 0), recurrent kernel = (0, 0, 1),
    # biases 0 except, with reset_after, the recurrent candidate bias bcc = 1.
    # From c<0> = 2 with x = 0: z = r = σ(0) = 0.5.
    #   reset_after=False: c̃ = tanh(Wcc (r * c<0>)) = tanh(0.5 * 2) = tanh(1)
    #                    = 0.7615941560; c<1> = 0.5 * 2 + 0.5 * c̃ = 1.3807970780
    #   reset_after=True:  c̃ = tanh(r * (Wcc c<0> + bcc)) = tanh(0.5 * 3) = tanh(1.5)
    #                    = 0.9051482536; c<1> = 1 + 0.5 * c̃ = 1.4525741268
    expected = {False: 1.3807970780, True: 1.4525741268}
    for reset_after, value in expected.items():
        cell = GRUCell(1, reset_after=reset_after)
        x = np.zeros((1, 1, 1), "float32")
        layer = sequence_layer(cell, x)
        bias = np.zeros((2, 3)) if reset_after else np.zeros(3)
        if reset_after:
            bias[1, 2] = 1.0
        layer.set_weights([np.zeros((1, 3)), np.array([[0.0, 0.0, 1.0]]), bias])
        _, state = layer(x, initial_state=[np.full((1, 1), 2.0, "float32")])
        np.testing.assert_allclose(to_numpy(state), [[value]], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [dict(reset_after=True), dict(reset_after=False), dict(minimal=True)],
    ids=["reset_after", "reset_before", "minimal"],
)
def test_backprop_through_time_matches_finite_differences(kwargs):
    assert_bptt_matches_finite_differences(lambda **kw: GRUCell(3, **kwargs, **kw))
