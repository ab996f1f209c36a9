"""One-to-many: a condition sets the initial state of a generator."""

import keras
import numpy as np
import pytest

from seqzoo.architectures import one_to_many


def numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm", "peephole"])
def test_condition_sets_the_state_and_steps_stay_causal(cell):
    model = one_to_many(
        {"cell": cell, "units": 8, "depth": 2},
        {"type": "classes", "size": 2},
        {"type": "tokens", "vocab_size": 6, "embedding_dim": 4},
    )
    x = np.array([[1, 2, 3, 4], [1, 2, 3, 4]], dtype="int32")
    logits = numpy(model({"condition": np.array([0, 1], "int32"), "inputs": x}))
    assert logits.shape == (2, 4, 6)
    # Same tokens, different condition: different logits from the first step on.
    assert np.abs(logits[0, 0] - logits[1, 0]).max() > 1e-5
    changed = x.copy()
    changed[:, 2:] = 5
    later = numpy(model({"condition": np.array([0, 1], "int32"), "inputs": changed}))
    np.testing.assert_allclose(later[:, :2], logits[:, :2], atol=1e-6, rtol=0)


def test_bidirectional_backbone_is_a_value_error():
    with pytest.raises(ValueError, match="bidirectional"):
        one_to_many(
            {"cell": "gru", "units": 4, "bidirectional": True},
            {"type": "classes", "size": 2},
            {"type": "tokens", "vocab_size": 6, "embedding_dim": 4},
        )
