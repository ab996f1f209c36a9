"""Stepper: one token at a time gives exactly the teacher-forced model's logits."""

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.architectures import Stepper

B, T = 3, 6


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def tokens(vocab_size, length=T, seed=0):
    return np.random.default_rng(seed).integers(1, vocab_size, size=(B, length)).astype("int32")


def step_all(stepper, sequence, cache):
    """Feeds `sequence` (B, T) one column at a time; returns the stacked logits."""
    logits = []
    for t in range(sequence.shape[1]):
        step_logits, cache = stepper.next(sequence[:, t], cache)
        logits.append(numpy(step_logits))
    return np.stack(logits, axis=1)


@pytest.mark.parametrize(
    "name,overrides",
    [
        ("gru_char_lm", {"backbone": {"units": 16}}),
        ("rnn_char_lm", {"backbone": {"units": 16}}),  # one-hot inputs
        ("lstm_char_lm_deep", {"backbone": {"units": 16}}),  # residual, dropout
        # units == embedding_dim: the bottom layer has a skip connection too
        ("lstm_char_lm_deep", {"backbone": {"units": 64}}),
        ("gru_char_lm", {"backbone": {"cell": "peephole", "units": 8, "depth": 3}}),
    ],
)
def test_language_model_steps_equal_the_full_model(name, overrides):
    model = seqzoo.build(name, **overrides)
    sequence = tokens(model.seqzoo_config["inputs"]["vocab_size"])
    full = numpy(model(sequence, training=False))
    stepper = Stepper(model)
    stepped = step_all(stepper, sequence, stepper.start(batch_size=B))
    assert stepped.shape == full.shape
    np.testing.assert_allclose(stepped, full, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "name,overrides",
    [
        ("gru_conditioned_char_lm", {"backbone": {"units": 16}}),
        ("lstm_music", {"backbone": {"units": 16}}),  # two layers, two states each
        ("peephole_music", {"backbone": {"units": 16}}),
        ("gru_conditioned_char_lm", {"backbone": {"units": 16}, "condition": {"type": "features", "dim": 3}}),
    ],
)
def test_one_to_many_steps_equal_the_full_model(name, overrides):
    model = seqzoo.build(name, **overrides)
    config = model.seqzoo_config
    sequence = tokens(config["inputs"]["vocab_size"])
    if config["condition"]["type"] == "classes":
        condition = np.arange(B, dtype="int32") % config["condition"]["size"]
    else:
        condition = np.random.default_rng(1).normal(size=(B, config["condition"]["dim"])).astype("float32")
    full = numpy(model({"condition": condition, "inputs": sequence}, training=False))
    stepper = Stepper(model)
    stepped = step_all(stepper, sequence, stepper.start(condition=condition))
    np.testing.assert_allclose(stepped, full, atol=1e-5, rtol=0)
    # The condition matters: another condition gives other logits.
    if config["condition"]["type"] == "classes":
        other_condition = (condition + 1) % config["condition"]["size"]
    else:
        other_condition = -condition
    other = numpy(model({"condition": other_condition, "inputs": sequence}, training=False))
    assert np.abs(other - full).max() > 1e-4


@pytest.mark.parametrize(
    "name,overrides",
    [
        ("lstm_seq2seq", {"backbone": {"units": 16}}),  # no attention
        ("lstm_seq2seq_attention", {"backbone": {"units": 16}}),  # additive, bidirectional encoder
        ("gru_seq2seq_attention", {"backbone": {"units": 16}}),  # dot, bidirectional encoder
        ("lstm_seq2seq", {"backbone": {"units": 8, "depth": 2, "bidirectional": True}}),
        # sum-merged memory is narrower than the decoder: projected before attention
        ("gru_seq2seq_attention", {"backbone": {"units": 8, "depth": 2, "merge_mode": "sum"}}),
        ("lstm_seq2seq_attention", {"backbone": {"units": 8, "depth": 2, "residual": True, "dropout": 0.2}}),
        ("lstm_seq2seq", {"backbone": {"cell": "peephole", "units": 8}, "inputs": {"type": "one_hot"}}),
        ("lstm_seq2seq_attention", {"backbone": {"units": 8}, "targets": {"type": "one_hot"}}),
        ("gru_seq2seq_attention", {"backbone": {"units": 8}, "inputs": {"type": "features", "dim": 3}}),
    ],
)
def test_encoder_decoder_steps_equal_the_full_model(name, overrides):
    model = seqzoo.build(name, **overrides)
    config = model.seqzoo_config
    source = source_batch(config["inputs"])
    decoder_inputs = tokens(config["targets"]["vocab_size"], seed=2)
    full = numpy(model({"inputs": source, "decoder_inputs": decoder_inputs}, training=False))
    stepper = Stepper(model)
    stepped = step_all(stepper, decoder_inputs, stepper.start(source=source))
    np.testing.assert_allclose(stepped, full, atol=1e-5, rtol=0)


def source_batch(spec):
    """A source batch whose first two rows are padded: attention must not look at the padding."""
    if spec["type"] == "features":
        source = np.random.default_rng(1).normal(size=(B, T + 1, spec["dim"])).astype("float32")
    else:
        source = tokens(spec["vocab_size"], length=T + 1, seed=1)
    source[0, 4:] = 0
    source[1, 6:] = 0
    return source


@pytest.mark.parametrize("name", ["lstm_seq2seq_attention", "lstm_seq2seq", "lstm_music", "lstm_char_lm_deep"])
def test_a_loaded_model_steps_like_the_saved_one(name, tmp_path):
    model = seqzoo.build(name, backbone={"units": 8})
    config = model.seqzoo_config
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    if config["topology"] == "encoder_decoder":
        sequence = tokens(config["targets"]["vocab_size"], seed=2)
        source = source_batch(config["inputs"])
        inputs = {"inputs": source, "decoder_inputs": sequence}
        start = {"source": source}
    elif config["topology"] == "one_to_many":
        sequence = tokens(config["inputs"]["vocab_size"])
        condition = np.arange(B, dtype="int32") % 2
        inputs, start = ({"condition": condition, "inputs": sequence}, {"condition": condition})
    else:
        sequence = tokens(config["inputs"]["vocab_size"])
        inputs, start = sequence, {"batch_size": B}
    full = numpy(model(inputs, training=False))
    stepper = Stepper(loaded)
    np.testing.assert_allclose(step_all(stepper, sequence, stepper.start(**start)), full, atol=1e-5, rtol=0)


def test_stepper_on_a_many_to_one_model_is_a_value_error():
    model = seqzoo.build("lstm_uni", backbone={"units": 4})
    with pytest.raises(ValueError, match="many_to_one") as info:
        Stepper(model)
    for allowed in ("language_model", "one_to_many", "encoder_decoder"):
        assert allowed in str(info.value)


def test_stepper_on_a_plain_keras_model_is_a_value_error():
    inputs = keras.Input((None,), dtype="int32")
    model = keras.Model(inputs, keras.layers.Embedding(4, 2)(inputs))
    with pytest.raises(ValueError, match="language_model"):
        Stepper(model)


@pytest.mark.parametrize("name", ["lstm_seq2seq_attention", "gru_seq2seq_attention", "lstm_music", "gru_char_lm"])
def test_factories_record_the_parts_a_step_needs_and_they_survive_a_save(name, tmp_path):
    model = seqzoo.build(name, backbone={"units": 8})
    parts = model.parts
    topology = model.seqzoo_config["topology"]
    assert parts["stack"] is not None and parts["head"] is not None and parts["token_encoder"] is not None
    assert (parts["encoder"] is not None) == (parts["source_encoder"] is not None) == (topology == "encoder_decoder")
    assert (parts["initial_state"] is not None) == (topology == "one_to_many")
    if "attention" in name:
        assert parts["attention"] is not None and parts["attention_combine"] is not None
    for role, part in parts.items():  # Each part is a layer of the model itself.
        for layer in keras.tree.flatten(part) if part is not None else []:
            assert any(layer is own for own in model.layers), role

    def names(part):
        return [names(item) for item in part] if isinstance(part, list) else getattr(part, "name", None)

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert {role: names(part) for role, part in loaded.parts.items()} == {
        role: names(part) for role, part in parts.items()
    }
