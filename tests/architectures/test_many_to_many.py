"""Many-to-many (Tx = Ty): what each output step may see."""

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.architectures import many_to_many

CELLS = ("rnn", "gru", "lstm", "peephole")
B, T, DIM = 2, 7, 3


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def features(seed):
    return np.random.default_rng(seed).normal(size=(B, T, DIM)).astype("float32")


def tagger(cell, bidirectional, depth=1):
    return many_to_many(
        {"cell": cell, "units": 8, "depth": depth, "bidirectional": bidirectional},
        {"type": "features", "dim": DIM},
        {"type": "classes", "size": 5},
    )


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("depth", [1, 2])
def test_unidirectional_output_at_t_ignores_inputs_after_t(cell, depth):
    model = tagger(cell, bidirectional=False, depth=depth)
    x = features(0)
    t = 3
    changed = x.copy()
    changed[:, t + 1 :] = features(1)[:, t + 1 :]
    before, after = numpy(model(x)), numpy(model(changed))
    assert before.shape == (B, T, 5)
    np.testing.assert_allclose(after[:, : t + 1], before[:, : t + 1], atol=1e-6, rtol=0)
    assert np.abs(after[:, t + 1 :] - before[:, t + 1 :]).min(axis=-1).max() > 1e-5


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_output_at_t_sees_inputs_after_t(cell):
    model = tagger(cell, bidirectional=True)
    x = features(0)
    t = 3
    changed = x.copy()
    changed[:, t + 1 :] = features(1)[:, t + 1 :]
    before, after = numpy(model(x)), numpy(model(changed))
    # Every earlier step changes, the first one included.
    assert (np.abs(after[:, : t + 1] - before[:, : t + 1]).max(axis=-1) > 1e-5).all()


@pytest.mark.parametrize("name,causal", [("gru_uni_tagger", True), ("lstm_bi_tagger", False)])
def test_named_taggers(name, causal):
    model = seqzoo.build(name, backbone={"units": 8})
    x = np.random.default_rng(0).integers(1, 1000, size=(B, T)).astype("int32")
    changed = x.copy()
    changed[:, -1] = (x[:, -1] % 999) + 1
    before, after = numpy(model(x)), numpy(model(changed))
    assert before.shape == (B, T, 9)
    difference = np.abs(after[:, :-1] - before[:, :-1]).max()
    if causal:
        assert difference < 1e-6
    else:
        assert difference > 1e-5


@pytest.mark.parametrize("bidirectional", [False, True])
def test_trailing_padding_changes_no_real_step(bidirectional):
    model = seqzoo.build("lstm_bi_tagger", backbone={"units": 8, "bidirectional": bidirectional})
    x = np.random.default_rng(0).integers(1, 1000, size=(B, T)).astype("int32")
    padded = np.concatenate([x, np.zeros((B, 3), dtype="int32")], axis=1)
    np.testing.assert_allclose(numpy(model(padded))[:, :T], numpy(model(x)), atol=1e-6, rtol=0)
