"""Export for serving: a TensorFlow SavedModel that takes and returns strings.

`export(model, task, out)` writes, with Keras's `ExportArchive`:

- `serve`: the model itself on ids (what `model.export` writes), the
  `serving_default` signature;
- for a generative model, `generate(texts, temperature=..., seed=0,
  beam=0)`: the task's tokenizer and vocabularies (as TensorFlow lookup
  tables) and the whole decoding loop of `seqzoo.inference.loop` in one
  graph. `texts` are a language model's prefixes (`""` for none), a
  translator's source texts, or a one-to-many model's condition names; the
  result is one generated string per text. `temperature` > 0 samples (with
  `seed`), 0 decodes greedily (the default for a translator, 1 otherwise);
  `beam` > 0 runs beam search of that width instead. A negative or
  non-finite temperature, a negative beam, or a prefix (or source) with a
  token not in the vocabulary stops the call with an `InvalidArgumentError`
  that names the argument, as the `seqzoo generate` command refuses them;
- for a classifier of texts, `classify(texts)`: the class probabilities,
  and `class_names()`.

The SavedModel needs only TensorFlow: neither seqzoo nor Keras is imported
to load and run it. `seqzoo.generation.export_run(folder, out)` does the
same from a run folder (the `seqzoo export` command).

Example:

>>> export(model, task, "exported/names")
>>> import tensorflow as tf
>>> tf.saved_model.load("exported/names").generate(tf.constant(["Ma", ""]), seed=1)
<tf.Tensor: shape=(2,), dtype=string, numpy=array([b'Mara', b'Lorine'], dtype=object)>
"""

import os

import keras
import numpy as np
from keras import tree

from seqzoo import atomic
from seqzoo.architectures import GENERATIVE_TOPOLOGIES
from seqzoo.architectures import Stepper
from seqzoo.inference.filters import draw
from seqzoo.inference.filters import filter_logits
from seqzoo.inference.loop import beam_loop
from seqzoo.inference.loop import sampling_loop
from seqzoo.inference.settings import DEFAULT_LENGTH_PENALTY
from seqzoo.inference.settings import DEFAULT_MAX_LENGTH
from seqzoo.inference.settings import forbidden_ids
from seqzoo.tasks.tokenizers import tokenize
from seqzoo.tasks.vocabulary import UNK_ID

# What a SavedModel folder holds; `overwrite` replaces a folder of these and nothing else.
SAVED_MODEL_ENTRIES = ("saved_model.pb", "fingerprint.pb", "variables", "assets")


def _tf():
    import tensorflow as tf

    return tf


def _split(texts, tokenizer):
    """A batch of texts -> a ragged batch of token strings, as the task tokenizes them."""
    tf = _tf()
    if tokenizer in ("chars", "words"):
        return tokenize(texts, tokenizer)
    if tokenizer == "pretokenized":
        return tf.strings.split(tf.strings.lower(texts))
    return tf.strings.split(tf.strings.regex_replace(texts, ",", " "))


class _Vocabulary:
    """A `Vocabulary` as a lookup table (tokens -> ids, unknown -> UNK) and a constant (ids -> tokens)."""

    def __init__(self, vocabulary, tokenizer):
        tf = _tf()
        ids = np.arange(4, 4 + len(vocabulary.tokens), dtype="int64")
        initializer = tf.lookup.KeyValueTensorInitializer(tf.constant(vocabulary.tokens, tf.string), ids)
        self.table = tf.lookup.StaticHashTable(initializer, default_value=UNK_ID)
        self.tokens = vocabulary.inverse
        self.tokenizer = tokenizer

    def encode(self, texts, what=None):
        """`(batch,)` texts -> `(ids, lengths)`: `(batch, max(1, longest))` int32 ids padded with 0.

        With `what` (e.g. `"prefix"`), a token not in the vocabulary is an
        error that names it and the texts that hold one; without, it is UNK.
        """
        tf = _tf()
        ragged = tf.ragged.map_flat_values(self.table.lookup, _split(texts, self.tokenizer))
        if what is not None:
            unknown = tf.reduce_any(tf.equal(ragged, UNK_ID), axis=1)
            known = tf.debugging.Assert(
                tf.logical_not(tf.reduce_any(unknown)),
                [f"Received {what} texts with tokens not in the vocabulary:", tf.boolean_mask(texts, unknown)],
                summarize=10,
            )
            with tf.control_dependencies([known]):
                ragged = tf.identity(ragged)
        ids = tf.cast(ragged.to_tensor(0), tf.int32)
        ids = tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])
        return ids, tf.cast(ragged.row_lengths(), tf.int32)

    def decode(self, ids, lengths):
        """`(batch, T)` ids and lengths -> `(batch,)` texts, joined as the task shows them."""
        tf = _tf()
        tokens = tf.RaggedTensor.from_tensor(tf.gather(tf.constant(self.tokens), ids), lengths=lengths)
        return tf.strings.reduce_join(tokens, axis=1, separator="" if self.tokenizer == "chars" else " ")


def _serve_signature(model):
    return [tree.map_structure(lambda x: keras.InputSpec(shape=x.shape, dtype=x.dtype), model.input)]


def _generate_function(model, task, max_length, length_penalty, forbid):
    tf = _tf()
    topology = model.seqzoo_config["topology"]
    stepper = Stepper(model)
    vocabularies = task.prepare().vocabularies
    target = _Vocabulary(vocabularies["target" if topology == "encoder_decoder" else "inputs"], task.tokenizer)
    resources = [target.table]
    pattern = None
    if topology == "encoder_decoder":
        source = _Vocabulary(vocabularies["source"], task.tokenizer)
        resources.append(source.table)
        pattern = task.decoding_pattern()  # E.g. real ISO dates: the exported loop keeps to it too.
    if topology == "one_to_many":
        names = list(task.condition_names())
        initializer = tf.lookup.KeyValueTensorInitializer(tf.constant(names), np.arange(len(names), dtype="int64"))
        conditions = tf.lookup.StaticHashTable(initializer, default_value=-1)
        resources.append(conditions)

    def start(texts):
        batch = tf.shape(texts)[0]
        empty = tf.zeros((batch, 1), tf.int32), tf.zeros((batch,), tf.int32)
        if topology == "encoder_decoder":
            return stepper.start(source=source.encode(texts, "source")[0]), empty
        if topology == "one_to_many":
            ids = conditions.lookup(texts)
            check = tf.debugging.assert_non_negative(ids, message=f"Unknown condition; the conditions are: {names}")
            with tf.control_dependencies([check]):
                return stepper.start(condition=tf.cast(ids, tf.int32)), empty
        return stepper.start(batch_size=batch), target.encode(texts, "prefix")

    default_temperature = 0.0 if topology == "encoder_decoder" else 1.0

    def generate(texts, temperature=default_temperature, seed=0, beam=0):
        checks = [
            tf.debugging.Assert(
                tf.math.is_finite(temperature) & (temperature >= 0),
                ["Received temperature=", temperature, "; it must be a finite number > 0, or 0 to decode greedily."],
            ),
            tf.debugging.Assert(
                beam >= 0, ["Received beam=", beam, "; it must be an integer >= 1, or 0 for no beam search."]
            ),
        ]
        with tf.control_dependencies(checks):
            cache, (prefix, lengths) = start(texts)

        def pick(logits, t):
            sampled = draw(filter_logits(logits, forbid, tf.maximum(temperature, 1e-6)), seed, t)
            greedy = tf.cast(tf.argmax(filter_logits(logits, forbid), axis=-1), tf.int32)
            return tf.where(temperature > 0, sampled, greedy)

        def searched():
            _, ids, sizes = beam_loop(
                stepper, cache, prefix, lengths, max_length, beam, length_penalty, forbid, pattern
            )
            return ids[:, 0], sizes[:, 0]

        ids, sizes = tf.cond(
            beam > 0, searched, lambda: sampling_loop(stepper, cache, prefix, lengths, max_length, pick, pattern)
        )
        return target.decode(ids, sizes)

    signature = [
        tf.TensorSpec([None], tf.string, name="texts"),
        tf.TensorSpec([], tf.float32, name="temperature"),
        tf.TensorSpec([], tf.int64, name="seed"),
        tf.TensorSpec([], tf.int32, name="beam"),
    ]
    return generate, signature, resources


def _classify_functions(model, task):
    tf = _tf()
    inputs = _Vocabulary(task.prepare().vocabularies["inputs"], task.tokenizer)
    binary = model.seqzoo_config.get("outputs", {}).get("type") == "binary"
    names = list(task.class_names())

    def classify(texts):
        logits = model(inputs.encode(texts)[0], training=False)
        return tf.sigmoid(logits) if binary else tf.nn.softmax(logits, axis=-1)

    def class_names():
        return tf.constant(names)

    return classify, class_names, [inputs.table]


def check_out(out, overwrite=False):
    """Raises a `ValueError` unless `export` may write `out`.

    `out` may be new or an empty folder, or, with `overwrite`, a SavedModel
    folder (which `export` replaces whole). A file, or a folder that holds
    anything else, is refused: nothing of the user's is mixed in or lost.
    """
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"Received out={out!r}, which is a file; give a folder for the SavedModel.")
    names = sorted(os.listdir(out)) if os.path.isdir(out) else []
    others = [name for name in names if name not in SAVED_MODEL_ENTRIES]
    if others:
        raise ValueError(
            f"Received out={out!r}, a folder that holds other files than a SavedModel ({', '.join(others[:5])}); "
            "give a new or empty folder (overwrite replaces only a SavedModel)."
        )
    if names and not overwrite:
        raise ValueError(
            f"Received out={out!r}, which holds a SavedModel already; pass overwrite=True (seqzoo export "
            "--overwrite) to replace it, or give a new folder."
        )


def export(
    model,
    task,
    out,
    max_length=DEFAULT_MAX_LENGTH,
    length_penalty=DEFAULT_LENGTH_PENALTY,
    forbid_unk=True,
    overwrite=False,
):
    """Writes a SavedModel that serves `model` on strings (see the module's docstring).

    Args:
        model: a seqzoo model (TensorFlow backend).
        task: its `Task`, with the vocabularies it was trained with (and
            `condition_names()` for one-to-many, `class_names()` for a
            classifier).
        out: the SavedModel folder to write.
        max_length: the most tokens `generate` writes after the prefix.
        length_penalty: beam search's length-normalization exponent.
        forbid_unk: whether `generate` never writes UNK.
        overwrite: whether to replace a SavedModel already in `out` (see
            `check_out`). The SavedModel is written beside `out`, then
            renamed into place.

    Returns:
        The endpoint names written, e.g. `["serve", "generate"]`.

    Example:

    >>> export(seqzoo.build("gru_char_lm", task=task), task, "exported/names")
    ['serve', 'generate']
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"Exporting a SavedModel needs the TensorFlow backend (received backend {keras.backend.backend()!r}); "
            "run with KERAS_BACKEND=tensorflow."
        )
    check_out(out, overwrite)
    topology = (getattr(model, "seqzoo_config", None) or {}).get("topology")
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", lambda inputs: model(inputs, training=False), input_signature=_serve_signature(model))
    endpoints = ["serve"]
    if topology in GENERATIVE_TOPOLOGIES:
        generate, signature, resources = _generate_function(
            model, task, max_length, length_penalty, forbidden_ids(forbid_unk)
        )
        for resource in resources:
            archive.track(resource)
        archive.add_endpoint("generate", generate, input_signature=signature)
        endpoints.append("generate")
    elif topology == "many_to_one" and getattr(task, "tokenizer", None):
        classify, class_names, resources = _classify_functions(model, task)
        for resource in resources:
            archive.track(resource)
        archive.add_endpoint(
            "classify", classify, input_signature=[_tf().TensorSpec([None], _tf().string, name="texts")]
        )
        archive.add_endpoint("class_names", class_names, input_signature=[])
        endpoints += ["classify", "class_names"]
    with atomic.replacing_folder(out) as temporary:
        archive.write_out(temporary, verbose=False)
    return endpoints
