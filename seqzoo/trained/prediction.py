"""`predict`: a classifier's label and probabilities, or a tagger's tag per token, for raw inputs.

Texts are read as the task reads them (its tokenizer, the run's vocabulary;
an unknown token is UNK, as in training), numeric frames as `(T, features)`
arrays; a batch is padded with 0, which the model masks, so each input gets
the numbers it gets alone.

Example:

>>> predict(seqzoo.load("runs/reviews"), ["a wonderful film", "dull"])
[{'input': 'a wonderful film', 'label': 'pos', 'probabilities': {'neg': 0.08, 'pos': 0.92}}, ...]
"""

import numpy as np

from seqzoo.metrics import log_softmax
from seqzoo.tasks.tokenizers import join
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.trained.text import padded
from seqzoo.trained.text import text_tokens


def _texts(trained, inputs):
    texts = [inputs] if isinstance(inputs, str) else list(inputs)
    bad = [text for text in texts if not isinstance(text, str)]
    if bad:
        raise ValueError(f"{trained.where} reads texts; received {type(bad[0]).__name__} {bad[0]!r}.")
    tokens = [text_tokens(text, trained.tokenizer) for text in texts]
    empty = [text for text, row in zip(texts, tokens) if not row]
    if empty:
        raise ValueError(f"Received the text {empty[0]!r}, which has no tokens; nothing to predict from.")
    vocabulary = trained.vocabularies["inputs"]
    return texts, tokens, [vocabulary.encode(row) for row in tokens]


def _frames(trained, inputs):
    """Numeric inputs -> a list of float32 `(T, features)` arrays, checked against the model's feature count."""
    rows = [inputs] if isinstance(inputs, np.ndarray) and inputs.ndim == 2 else list(inputs)
    dim = trained.config["inputs"].get("dim")
    frames = []
    for index, row in enumerate(rows):
        try:
            array = np.asarray(row, "float32")
        except (TypeError, ValueError):
            raise ValueError(
                f"{trained.where} reads numeric frames (T, {dim}); received {type(row).__name__} {str(row)[:60]!r}."
            ) from None
        if array.ndim != 2 or array.shape[1] != dim or not len(array):
            raise ValueError(
                f"Received input {index} of shape {array.shape}; {trained.where} reads (T, {dim}) frames, T >= 1."
            )
        frames.append(array)
    return frames


def _logits(trained, rows, batch_size, dtype):
    logits = []
    for start in range(0, len(rows), batch_size):
        logits += list(np.asarray(trained.model.predict_on_batch(padded(rows[start : start + batch_size], dtype))))
    return logits


def _probabilities(logits, binary):
    logits = np.asarray(logits, "float64")
    if binary:
        positive = 1 / (1 + np.exp(-logits[..., 0]))
        return np.stack([1 - positive, positive], axis=-1)
    return np.exp(log_softmax(logits))


def predict(trained, inputs, batch_size=64):
    """Predictions of a many-to-one or many-to-many run for raw inputs.

    Args:
        trained: a `TrainedRun` of a classifier or tagger.
        inputs: texts (a list, or one text); for a classifier of numeric
            frames (japanese_vowels), `(T, features)` arrays (a list, or a
            `(batch, T, features)` array).
        batch_size: inputs per call of the model.

    Returns:
        One dict per input. A classifier: `{"input", "label", "probabilities":
        {class name: probability}}` (`"input"` is the text, or the array's
        index). A tagger: `{"input", "tokens", "tags"}`, one tag per token;
        a tagger whose tags are tokens of its own vocabulary (the chorales
        harmonizer: soprano pitches -> bass pitches) also gives `"output"`,
        the tags as one text (e.g. the bass line), and never tags a token
        with padding, UNK, start or end.

    Example:

    >>> predict(seqzoo.from_preset("chorales_harmony"), ["67 67 69 71"])[0]["output"]
    '43 43 42 43'
    """
    task = trained.task
    if trained.topology == "many_to_many":
        return _tags(trained, inputs, batch_size)
    if trained.tokenizer is None:
        frames = _frames(trained, inputs)
        labels, logits = list(range(len(frames))), _logits(trained, frames, batch_size, "float32")
    else:
        labels, _, ids = _texts(trained, inputs)
        logits = _logits(trained, ids, batch_size, "int32")
    names = [str(name) for name in task.class_names()]
    binary = trained.config.get("outputs", {}).get("type") == "binary"
    results = []
    for label, probabilities in zip(labels, _probabilities(logits, binary)):
        results.append(
            {
                "input": label,
                "label": names[int(np.argmax(probabilities))],
                "probabilities": {name: float(p) for name, p in zip(names, probabilities)},
            }
        )
    return results


def _tags(trained, inputs, batch_size):
    texts, tokens, ids = _texts(trained, inputs)
    task = trained.task
    shared = getattr(task, "shared_vocabulary", False)
    names = trained.vocabularies["inputs"].inverse if shared else list(task.tag_names())
    results = []
    for text, row, logits in zip(texts, tokens, _logits(trained, ids, batch_size, "int32")):
        logits = np.array(logits[: len(row)], "float64")
        if shared:
            logits[:, : EOS_ID + 1] = -np.inf  # Padding, UNK, start and end are never a tag.
        tags = [names[index] for index in logits.argmax(-1)]
        result = {"input": text, "tokens": row, "tags": tags}
        if shared:
            result["output"] = join(tags, trained.tokenizer)
        results.append(result)
    return results
