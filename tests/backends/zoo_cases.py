"""Shared pieces of the backend suite: tiny models, batches for them, and checks.

The backend suite runs once per Keras backend, chosen by `KERAS_BACKEND` in the
environment (nothing here sets it). Every case is a named model from
`seqzoo.list_models()` with small overrides, so a new YAML file in
zoo_configs/ is tested on every backend without touching the suite.

Run as a script, this module is the child process of the cross-backend test:
`python zoo_cases.py FOLDER` loads every `<name>.keras` in FOLDER under its
own backend and writes `<name>.<backend>.npy`, its predictions for the inputs
saved beside it in `<name>.npz`.
"""

import glob
import os
import sys

import keras
import numpy as np

import seqzoo
from seqzoo.architectures import GENERATIVE_TOPOLOGIES
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID

B, T = 4, 5
VOCAB, TARGET_VOCAB, MAX_CLASSES = 20, 12, 10
SECTIONS = ("inputs", "outputs", "targets", "condition")

# Cases beyond the named configs: every input, output and condition type on every topology that takes it.
EXTRA_CASES = {
    "many_to_one-features-classes": (
        "gru_uni",
        {"inputs": {"type": "features", "dim": 3}, "outputs": {"type": "classes", "size": 3}},
    ),
    "many_to_one-regression": ("lstm_bi", {"outputs": {"type": "regression", "size": 2}}),
    "many_to_many-features-binary": (
        "gru_uni_tagger",
        {"inputs": {"type": "features", "dim": 3}, "outputs": {"type": "binary"}},
    ),
    "many_to_many-from-many_to_one": ("rnn_uni_deep", {"topology": "many_to_many"}),
    "one_to_many-features-condition": ("gru_conditioned_char_lm", {"condition": {"type": "features", "dim": 3}}),
    "encoder_decoder-features-source": ("gru_seq2seq_attention", {"inputs": {"type": "features", "dim": 3}}),
    "encoder_decoder-one_hot-peephole": ("lstm_seq2seq", {"backbone.cell": "peephole", "inputs": {"type": "one_hot"}}),
    "language_model-peephole": ("rnn_char_lm", {"backbone.cell": "peephole"}),
}


def backend_features(config):
    """What a case exercises of a backend's code: its cell in its topology, and every option a backend runs apart.

    The fused kernels and the step-by-step generation are per cell and
    topology; bidirectional reading and recurrent dropout per cell; inputs,
    outputs, targets and conditions per topology; attention, depth, residual
    connections and dropout between layers once each.
    """
    backbone, topology = config["backbone"], config["topology"]
    cell = backbone["cell"]
    features = {("cell", cell, topology)}
    if backbone["bidirectional"]:
        features.add(("bidirectional", cell))
    if backbone["recurrent_dropout"]:
        features.add(("recurrent_dropout", cell))
    if backbone["depth"] > 1:
        features.add(("deep", topology))
    features.update((option,) for option in ("residual", "dropout") if backbone[option])
    features.update((section, topology, config[section]["type"]) for section in SECTIONS if config.get(section))
    if "attention" in config:
        features.add(("attention", config["attention"]))
    return features


def covering_cases(configs):
    """The fewest cases, taken greedily, whose `backend_features` are those of all `configs` (`{case: config}`).

    Ties go to the case with fewer recurrent layers, the quicker one to
    compile. TensorFlow runs every case; the other backends run these, so a
    model that only changes sizes or repeats a combination of the others'
    features is not trained again on each backend.
    """
    features = {case: backend_features(config) for case, config in configs.items()}
    layers = {
        case: config["backbone"]["depth"] * (2 if config["backbone"]["bidirectional"] else 1)
        for case, config in configs.items()
    }
    chosen, covered = [], set()
    while len(chosen) < len(features) and covered != set().union(*features.values()):
        case = max(sorted(features), key=lambda case: (len(features[case] - covered), -layers[case]))
        chosen.append(case)
        covered |= features[case]
    return sorted(chosen)


def numpy(x):
    """Any backend tensor (or a dict of them) as NumPy."""
    if isinstance(x, dict):
        return {key: numpy(value) for key, value in x.items()}
    return np.asarray(keras.ops.convert_to_numpy(x))


def tiny_overrides(name, extra=None):
    """Overrides that shrink a named model (8 units, small vocabularies) and keep its shape of network.

    Args:
        name: a name from `seqzoo.list_models()`.
        extra: more overrides (dotted keys or sections), applied first.

    Returns:
        A dict of dotted-key overrides for `seqzoo.build(name, **overrides)`.
    """
    overrides = {}
    for key, value in (extra or {}).items():
        if isinstance(value, dict):
            overrides.update({f"{key}.{inner}": v for inner, v in value.items()})
        else:
            overrides[key] = value
    config = seqzoo.get_config(name, **overrides)
    overrides.update({"backbone.units": 8, "optimizer.learning_rate": 2e-2})
    for section, size in (("inputs", VOCAB), ("targets", TARGET_VOCAB)):
        spec = config.get(section)
        if spec and spec["type"] in ("tokens", "one_hot"):
            overrides[f"{section}.vocab_size"] = size
            if spec["type"] == "tokens":
                overrides[f"{section}.embedding_dim"] = 4
    outputs = config.get("outputs")
    if outputs and outputs["type"] == "classes" and outputs["size"] > MAX_CLASSES:
        overrides["outputs.size"] = MAX_CLASSES
    return overrides


def build(name, extra=None):
    """The named model with `tiny_overrides`, compiled; its config says its shape."""
    return seqzoo.build(name, **tiny_overrides(name, extra))


def _sequence(spec, length, rng):
    """A batch for an input spec: row i has its last i steps padded (masked)."""
    if spec["type"] == "features":
        x = rng.normal(size=(B, length, spec["dim"])).astype("float32")
    else:
        x = rng.integers(4, spec["vocab_size"], size=(B, length)).astype("int32")
    for row in range(1, B):
        x[row, length - row :] = 0
    return x


def batch_for(config, seed=0):
    """A small fixed `(x, y)` batch for a resolved config.

    Language models and decoders learn the next token of their own input
    (teacher forcing), the other topologies a fixed random target.
    """
    rng = np.random.default_rng(seed)
    topology = config["topology"]
    if topology == "encoder_decoder":
        target = _sequence(config["targets"], T + 1, rng)
        return {"inputs": _sequence(config["inputs"], T, rng), "decoder_inputs": target[:, :-1]}, target[:, 1:]
    if topology in ("language_model", "one_to_many"):
        tokens = _sequence(config["inputs"], T + 1, rng)
        if topology == "language_model":
            return tokens[:, :-1], tokens[:, 1:]
        return {"condition": condition_for(config, rng), "inputs": tokens[:, :-1]}, tokens[:, 1:]
    x = _sequence(config["inputs"], T, rng)
    outputs = config["outputs"]
    shape = (B,) if topology == "many_to_one" else (B, T)
    if outputs["type"] == "binary":
        y = rng.integers(0, 2, size=shape + (1,)).astype("float32")
    elif outputs["type"] == "classes":
        y = rng.integers(0, outputs["size"], size=shape).astype("int32")
    else:
        y = rng.normal(size=shape + (outputs["size"],)).astype("float32")
    return x, y


def condition_for(config, rng):
    condition = config["condition"]
    if condition["type"] == "classes":
        return (np.arange(B) % condition["size"]).astype("int32")
    return rng.normal(size=(B, condition["dim"])).astype("float32")


def inference_loss(model, x, y):
    """The compiled loss in inference mode (no dropout), with masks applied as in training."""
    y_pred = model(x, training=False)
    return float(numpy(model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)))


def predict(model, x):
    return numpy(model(x, training=False))


# -- generation ----------------------------------------------------------------


def greedy_and_teacher_forced(model, max_length=T):
    """Greedy ids from the model's compiled decoder, and the full model's argmax on them.

    Args:
        model: a generative `SeqzooModel`.
        max_length: the most tokens to generate per row.

    Returns:
        `(generated, forced)`: per row, the greedy ids (then `EOS_ID` if the
        row stopped early), and the teacher-forced model's argmax at the same
        positions (padding and BOS excluded, as the decoder excludes them).
    """
    from seqzoo.architectures import Stepper
    from seqzoo.inference import decoding

    config = model.seqzoo_config
    assert config["topology"] in GENERATIVE_TOPOLOGIES
    rng = np.random.default_rng(3)
    stepper = Stepper(model)
    x = {}
    if config["topology"] == "language_model":
        cache = stepper.start(batch_size=B)
    elif config["topology"] == "one_to_many":
        x["condition"] = condition_for(config, rng)
        cache = stepper.start(condition=x["condition"])
    else:
        x["inputs"] = _sequence(config["inputs"], T, rng)
        cache = stepper.start(source=x["inputs"])
    rows = decoding.greedy(stepper, cache, B, max_length)
    generated = [row + [EOS_ID] if len(row) < max_length else row for row in rows]
    width = max(len(row) for row in generated)
    decoder_inputs = np.zeros((B, width), "int32")
    for i, row in enumerate(generated):
        decoder_inputs[i, : len(row)] = [BOS_ID] + row[:-1]
    key = "decoder_inputs" if config["topology"] == "encoder_decoder" else "inputs"
    logits = predict(model, {**x, key: decoder_inputs} if x else decoder_inputs)
    logits[..., list(decoding.forbidden_ids())] = -np.inf
    forced = [logits[i, : len(row)].argmax(-1).tolist() for i, row in enumerate(generated)]
    return generated, forced


# -- the cross-backend child process ---------------------------------------------------


def save_case(model, x, folder, name):
    """Saves `model` and its inputs and predictions for `predict_saved` in another process."""
    model.save(os.path.join(folder, f"{name}.keras"))
    inputs = x if isinstance(x, dict) else {"": x}
    np.savez(os.path.join(folder, f"{name}.npz"), **inputs)
    return predict(model, x)


def predict_saved(folder):
    """Loads every `.keras` file in `folder` on this backend and writes its predictions."""
    backend = keras.backend.backend()
    for path in sorted(glob.glob(os.path.join(folder, "*.keras"))):
        stem = path[: -len(".keras")]
        with np.load(stem + ".npz") as saved:
            inputs = {key: saved[key] for key in saved.files}
        x = inputs.pop("") if "" in inputs else inputs
        model = keras.saving.load_model(path)
        np.save(f"{stem}.{backend}.npy", predict(model, x))


if __name__ == "__main__":
    predict_saved(sys.argv[1])
