"""Encoder-decoder: what the decoder sees, and that it learns a sequence task."""

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.architectures import Stepper
from seqzoo.architectures import encoder_decoder

START = 1


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def small(name, **overrides):
    return seqzoo.build(name, backbone={"units": 8}, **overrides)


@pytest.mark.parametrize("name", ["lstm_seq2seq", "lstm_seq2seq_attention", "gru_seq2seq_attention"])
def test_decoder_is_causal_and_reads_the_whole_source(name):
    model = small(name)
    rng = np.random.default_rng(0)
    source = rng.integers(1, 64, size=(2, 7)).astype("int32")
    decoder_inputs = rng.integers(1, 16, size=(2, 5)).astype("int32")
    logits = numpy(model({"inputs": source, "decoder_inputs": decoder_inputs}))
    assert logits.shape == (2, 5, 16)

    later = decoder_inputs.copy()
    later[:, 3:] = (later[:, 3:] % 15) + 1
    changed = numpy(model({"inputs": source, "decoder_inputs": later}))
    np.testing.assert_allclose(changed[:, :3], logits[:, :3], atol=1e-6, rtol=0)

    # The last source token changes even the first output.
    other_source = source.copy()
    other_source[:, -1] = (other_source[:, -1] % 63) + 1
    other = numpy(model({"inputs": other_source, "decoder_inputs": decoder_inputs}))
    assert np.abs(other[:, 0] - logits[:, 0]).max() > 1e-6


@pytest.mark.parametrize("name", ["lstm_seq2seq", "lstm_seq2seq_attention", "gru_seq2seq_attention"])
def test_source_padding_is_ignored(name):
    """Padded source steps change neither the encoder's states nor the attention."""
    model = small(name, **{"backbone.depth": 2})
    rng = np.random.default_rng(0)
    source = rng.integers(1, 64, size=(2, 5)).astype("int32")
    padded = np.concatenate([source, np.zeros((2, 3), "int32")], axis=1)
    decoder_inputs = rng.integers(1, 16, size=(2, 4)).astype("int32")
    expected = numpy(model({"inputs": source, "decoder_inputs": decoder_inputs}))
    result = numpy(model({"inputs": padded, "decoder_inputs": decoder_inputs}))
    np.testing.assert_allclose(result, expected, atol=1e-6, rtol=0)


def test_attention_layers_match_the_config():
    assert "attention" not in {layer.name for layer in small("lstm_seq2seq").layers}
    dot = small("gru_seq2seq_attention").get_layer("attention")
    additive = small("lstm_seq2seq_attention").get_layer("attention")
    assert type(dot) is keras.layers.Attention
    assert type(additive) is keras.layers.AdditiveAttention


def test_decoder_width_matches_both_encoder_directions():
    model = small("lstm_seq2seq_attention", **{"backbone.depth": 2})
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert encoder.bidirectional and not decoder.bidirectional
    assert decoder.units == 2 * encoder.units and decoder.depth == encoder.depth


def test_bidirectional_decoder_is_a_value_error():
    with pytest.raises(ValueError, match="bidirectional") as info:
        seqzoo.build("lstm_seq2seq", decoder={"bidirectional": True})
    assert "decoder" in str(info.value) and "bidirectional=True" in str(info.value)
    with pytest.raises(ValueError, match="bidirectional"):
        encoder_decoder(
            {"cell": "gru", "units": 4},
            {"type": "tokens", "vocab_size": 5, "embedding_dim": 3},
            {"type": "tokens", "vocab_size": 5, "embedding_dim": 3},
            decoder={"bidirectional": True},
        )


def test_unknown_attention_is_a_value_error():
    with pytest.raises(ValueError, match="'luong'") as info:
        seqzoo.build("lstm_seq2seq", attention="luong")
    assert "additive" in str(info.value) and "dot" in str(info.value)


def reversal_data(rng, count, vocab_size=8, length=5):
    """Sources of tokens 2..7; targets reversed; decoder inputs start with START."""
    source = rng.integers(2, vocab_size, size=(count, length)).astype("int32")
    target = source[:, ::-1].copy()
    decoder_inputs = np.concatenate([np.full((count, 1), START, "int32"), target[:, :-1]], axis=1)
    return source, decoder_inputs, target


def test_learns_to_reverse_sequences_and_decodes_them_greedily():
    rng = np.random.default_rng(0)
    source, decoder_inputs, target = reversal_data(rng, 400)
    held_source, held_decoder_inputs, held_target = reversal_data(rng, 200)
    seen = {tuple(row) for row in source}
    unseen = np.array([tuple(row) not in seen for row in held_source])
    held_source, held_decoder_inputs, held_target = (
        held_source[unseen],
        held_decoder_inputs[unseen],
        held_target[unseen],
    )
    assert len(held_source) > 150

    model = seqzoo.build(
        "gru_seq2seq_attention",
        inputs={"vocab_size": 8, "embedding_dim": 8},
        targets={"vocab_size": 8, "embedding_dim": 8},
        backbone={"units": 16},
        optimizer={"learning_rate": 1e-2},
    )
    history = model.fit(
        {"inputs": source, "decoder_inputs": decoder_inputs}, target, batch_size=32, epochs=16, verbose=0
    )
    losses = history.history["loss"]
    assert losses[-1] < 0.25 * losses[0]

    teacher_forced = numpy(model({"inputs": held_source, "decoder_inputs": held_decoder_inputs}))
    assert (teacher_forced.argmax(-1) == held_target).mean() >= 0.9

    # Greedy decoding: each step is fed the model's own previous output.
    stepper = Stepper(model)
    cache = stepper.start(source=held_source)
    token = np.full((len(held_source),), START, "int32")
    decoded = []
    for _ in range(held_target.shape[1]):
        logits, cache = stepper.next(token, cache)
        token = numpy(logits).argmax(-1).astype("int32")
        decoded.append(token)
    accuracy = (np.stack(decoded, axis=1) == held_target).mean()
    assert accuracy >= 0.9, accuracy
