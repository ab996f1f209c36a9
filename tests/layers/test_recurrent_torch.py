"""On the PyTorch backend (no seqzoo kernel), `Recurrent` runs the step loop with the numbers of `keras.layers.RNN`."""

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy
from twin_layers import ATOL
from twin_layers import RTOL
from twin_layers import UNITS
from twin_layers import inputs
from twin_layers import padding_mask
from twin_layers import twins

from seqzoo.cells import LSTMCell
from seqzoo.layers.recurrent import Recurrent

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="the PyTorch backend's fallback")


def outputs_and_gradients(layer, x, mask):
    """The layer's outputs and the gradients of a weighted sum of them, by `torch.autograd`."""
    import torch

    x = torch.tensor(x, requires_grad=True)
    results = layer(x, mask=mask)
    rng = np.random.default_rng(2)
    loss = sum((r * torch.tensor(rng.normal(size=tuple(r.shape)).astype("float32"))).sum() for r in results)
    variables = [v.value for v in layer.trainable_variables]
    gradients = torch.autograd.grad(loss, [x, *variables])
    return to_numpy(list(results)), [g.detach().cpu().numpy() for g in gradients]


@pytest.mark.parametrize("case", ["rnn", "gru", "lstm", "peephole"])
def test_auto_runs_the_step_loop_with_the_numbers_of_keras_rnn(case):
    import torch

    x = inputs()
    plain, auto = twins(case, x, fused="auto")
    if not torch.cuda.is_available():
        assert not auto._tries_fused
    expected, expected_gradients = outputs_and_gradients(plain, x, padding_mask())
    got, got_gradients = outputs_and_gradients(auto, x, padding_mask())
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, atol=ATOL)
    assert len(got_gradients) == len(expected_gradients) == 1 + len(plain.trainable_variables)
    for e, g in zip(expected_gradients, got_gradients):
        assert np.abs(e).max() > 1e-3
        np.testing.assert_allclose(g, e, atol=ATOL, rtol=RTOL)


def test_fused_true_says_there_is_no_kernel():
    import torch

    if torch.cuda.is_available():
        pytest.skip("Keras's cuDNN kernel runs on a GPU")
    with pytest.raises(ValueError, match="fused=True.*tensorflow and jax.*torch backend here has no GPU"):
        Recurrent(LSTMCell(UNITS), fused=True)
