"""Language model: next-token logits that see only the tokens before."""

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.architectures import language_model


def numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("name", ["rnn_char_lm", "gru_char_lm", "lstm_char_lm_deep"])
def test_logits_at_t_ignore_later_tokens(name):
    model = seqzoo.build(name, backbone={"units": 16})
    vocab = model.seqzoo_config["inputs"]["vocab_size"]
    x = np.random.default_rng(0).integers(1, vocab, size=(2, 6)).astype("int32")
    changed = x.copy()
    changed[:, 3:] = (x[:, 3:] % (vocab - 1)) + 1
    before, after = numpy(model(x)), numpy(model(changed))
    assert before.shape == (2, 6, vocab)
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-6, rtol=0)
    assert np.abs(after[:, 3:] - before[:, 3:]).max() > 1e-5


def test_bidirectional_backbone_is_a_value_error():
    with pytest.raises(ValueError, match="bidirectional"):
        language_model(
            {"cell": "lstm", "units": 4, "bidirectional": True}, {"type": "tokens", "vocab_size": 5, "embedding_dim": 3}
        )
