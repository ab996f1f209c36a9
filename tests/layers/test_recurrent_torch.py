"""On the PyTorch backend, `Recurrent` hands standard cells to PyTorch's kernels with the numbers of the step loop."""

import keras
import numpy as np
import pytest
from backend_helpers import to_numpy
from twin_layers import ATOL
from twin_layers import RTOL
from twin_layers import UNITS
from twin_layers import B
from twin_layers import T
from twin_layers import copy_random_weights
from twin_layers import inputs
from twin_layers import padding_mask
from twin_layers import twins

from seqzoo.cells import GRUCell
from seqzoo.cells import LSTMCell
from seqzoo.cells import SimpleRNNCell
from seqzoo.layers.recurrent import Recurrent

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="the PyTorch backend's kernels")

KERNEL_CASES = ["rnn", "rnn_no_bias", "gru", "gru_no_bias", "lstm"]
STEP_LOOP_CASES = ["gru_reset_before", "gru_minimal", "lstm_cell_clip", "peephole"]
KERAS_LAYERS = {"rnn": (SimpleRNNCell, "SimpleRNN"), "gru": (GRUCell, "GRU"), "lstm": (LSTMCell, "LSTM")}


def right_padding():
    mask = np.ones((B, T), dtype=bool)
    mask[0, 4:] = False
    mask[2, 1:] = False
    return keras.ops.convert_to_tensor(mask)


def left_padding():
    mask = np.ones((B, T), dtype=bool)
    mask[0, :2] = False
    mask[1, :5] = False
    return keras.ops.convert_to_tensor(mask)


@pytest.fixture
def kernel_calls(monkeypatch):
    """What each call of PyTorch's kernels did: "ran", or why it did not."""
    from seqzoo.fused import torch_kernels

    calls = []
    run = torch_kernels.run

    def spy(*args):
        try:
            result = run(*args)
        except NotImplementedError as error:
            calls.append(str(error))
            raise
        calls.append("ran")
        return result

    monkeypatch.setattr(torch_kernels, "run", spy)
    return calls


def outputs_and_gradients(layer, x, mask=None, **call_kwargs):
    """The layer's results and the gradients of a weighted sum of them, by `torch.autograd`.

    The gradients are those of the input, then of every trainable variable,
    then of each tensor in `initial_state` when it is passed.
    """
    import torch

    x = torch.tensor(x, requires_grad=True)
    states = call_kwargs.get("initial_state", [])
    results = layer(x, mask=mask, **call_kwargs)
    results = list(results) if isinstance(results, (list, tuple)) else [results]
    rng = np.random.default_rng(2)
    loss = sum((r * torch.tensor(rng.normal(size=tuple(r.shape)).astype("float32"))).sum() for r in results)
    variables = [v.value for v in layer.trainable_variables]
    gradients = torch.autograd.grad(loss, [x, *variables, *states])
    return to_numpy(results), [g.detach().cpu().numpy() for g in gradients]


def assert_same(expected, got):
    (expected, expected_gradients), (got, got_gradients) = expected, got
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, atol=ATOL)
    assert len(got_gradients) == len(expected_gradients)
    for e, g in zip(expected_gradients, got_gradients):
        assert np.abs(e).max() > 1e-3  # the comparison is not vacuous
        np.testing.assert_allclose(g, e, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("case", KERNEL_CASES)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("mask", [None, right_padding, left_padding])
def test_kernels_give_the_numbers_of_keras_rnn(case, go_backwards, mask, kernel_calls):
    x = inputs()
    plain, fused = twins(case, x, fused=True, go_backwards=go_backwards)
    mask = mask() if mask else None
    expected = outputs_and_gradients(plain, x, mask)
    kernel_calls.clear()
    assert_same(expected, outputs_and_gradients(fused, x, mask))
    assert kernel_calls == ["ran"]


@pytest.mark.parametrize("case", ["gru", "lstm"])
def test_zero_output_for_mask_and_last_output(case, kernel_calls):
    x = inputs()
    for return_sequences in (True, False):
        plain, fused = twins(case, x, fused=True, zero_output_for_mask=True, return_sequences=return_sequences)
        kernel_calls.clear()
        assert_same(outputs_and_gradients(plain, x, right_padding()), outputs_and_gradients(fused, x, right_padding()))
        assert kernel_calls == ["ran"]


@pytest.mark.parametrize("case", ["rnn", "gru", "lstm"])
def test_kernels_give_the_numbers_of_keras_own_layers(case, kernel_calls):
    cell, name = KERAS_LAYERS[case]
    x = inputs()
    theirs = getattr(keras.layers, name)(UNITS, return_sequences=True, return_state=True)
    ours = Recurrent(cell(UNITS), fused=True, return_sequences=True, return_state=True)
    copy_random_weights(theirs, ours, x)
    kernel_calls.clear()
    assert_same(outputs_and_gradients(theirs, x, right_padding()), outputs_and_gradients(ours, x, right_padding()))
    assert kernel_calls == ["ran"]


@pytest.mark.parametrize("case", ["gru", "lstm"])
def test_initial_state_and_its_gradient(case, kernel_calls):
    import torch

    x = inputs()
    plain, fused = twins(case, x, fused=True)
    count = 2 if case == "lstm" else 1
    states = [np.random.default_rng(3 + i).normal(size=(B, UNITS)).astype("float32") for i in range(count)]

    def run(layer):
        initial_state = [torch.tensor(s, requires_grad=True) for s in states]
        return outputs_and_gradients(layer, x, right_padding(), initial_state=initial_state)

    kernel_calls.clear()
    assert_same(run(plain), run(fused))
    assert kernel_calls == ["ran"]


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_with_right_padding(merge_mode, kernel_calls):
    x = inputs()
    plain, fused = twins("lstm", x, fused=True)
    plain = keras.layers.Bidirectional(plain, merge_mode=merge_mode)
    fused = keras.layers.Bidirectional(fused, merge_mode=merge_mode)
    plain(x)
    fused(x)
    fused.set_weights(plain.get_weights())
    kernel_calls.clear()
    assert_same(outputs_and_gradients(plain, x, right_padding()), outputs_and_gradients(fused, x, right_padding()))
    assert kernel_calls == ["ran", "ran"]


def test_stateful_carries_the_state_and_trains(kernel_calls):
    x = inputs()
    plain, fused = twins("lstm", x, fused=True, stateful=True)
    for layer in (plain, fused):
        layer.reset_state()
    kernel_calls.clear()
    for _ in range(2):  # the second call starts from the first's final states
        assert_same(outputs_and_gradients(plain, x), outputs_and_gradients(fused, x))
    for a, b in zip(fused.states, plain.states):
        np.testing.assert_allclose(to_numpy(a.value), to_numpy(b.value), atol=ATOL)
    assert kernel_calls == ["ran", "ran"]


def test_a_mask_with_holes_falls_back_to_the_step_loop(kernel_calls):
    x = inputs()
    plain, auto = twins("lstm", x, fused="auto")
    kernel_calls.clear()
    assert_same(outputs_and_gradients(plain, x, padding_mask()), outputs_and_gradients(auto, x, padding_mask()))
    assert len(kernel_calls) == 1 and "masked steps inside a sequence" in kernel_calls[0]
    _, insisting = twins("lstm", x, fused=True)
    with pytest.raises(ValueError, match="fused=True, but PyTorch's kernels take a mask.*inside a sequence"):
        insisting(x, mask=padding_mask())
    empty = np.ones((B, T), dtype=bool)
    empty[1] = False
    empty = keras.ops.convert_to_tensor(empty)
    assert_same(outputs_and_gradients(plain, x, empty), outputs_and_gradients(auto, x, empty))
    assert "masks a whole sequence" in kernel_calls[-1]


def test_recurrent_dropout_in_training_falls_back(kernel_calls):
    x = inputs()
    options = {"cell_kwargs": {"recurrent_dropout": 0.3, "seed": 1}, "return_state": False}
    step_loop = twins("gru", x, fused=False, **options)[1]
    auto = twins("gru", x, fused="auto", **options)[1]
    auto.set_weights(step_loop.get_weights())
    expected = to_numpy(step_loop(x, training=True))
    np.testing.assert_allclose(to_numpy(auto(x, training=True)), expected, atol=ATOL)
    assert "no recurrent dropout" in kernel_calls[-1]
    auto(x)  # inference has no recurrent dropout
    assert kernel_calls[-1] == "ran"


@pytest.mark.parametrize("case", STEP_LOOP_CASES)
def test_other_cells_run_the_step_loop_with_the_numbers_of_keras_rnn(case, kernel_calls):
    x = inputs()
    plain, auto = twins(case, x, fused="auto")
    assert not auto._tries_fused
    assert_same(outputs_and_gradients(plain, x, padding_mask()), outputs_and_gradients(auto, x, padding_mask()))
    assert kernel_calls == []


@pytest.mark.parametrize(
    "cell",
    [GRUCell(UNITS, reset_after=False), GRUCell(UNITS, minimal=True), LSTMCell(UNITS, cell_clip=1.0)],
    ids=["reset_before", "minimal", "cell_clip"],
)
def test_fused_true_says_there_is_no_kernel(cell):
    with pytest.raises(ValueError, match="fused=True, but on the torch backend only a SimpleRNNCell"):
        Recurrent(cell, fused=True)
