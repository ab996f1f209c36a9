"""A trained run's texts as its task's tokens and ids, the way its task reads them."""

import numpy as np

from seqzoo.tasks.tokenizers import tokenize
from seqzoo.tasks.vocabulary import PAD_ID


def text_tokens(text, tokenizer):
    """A text as the task's tokens (the inverse of `seqzoo.tasks.tokenizers.join`).

    Args:
        text: one text, e.g. `"Maria"` or `"60 62 64"`.
        tokenizer: the task's tokenizer: `"chars"`, `"words"`, `"pretokenized"` or `"integers"`.

    Returns:
        A list of token strings.

    Example:

    >>> text_tokens("60, 62 64", "integers")
    ['60', '62', '64']
    """
    if tokenizer == "chars":
        return list(text)
    if tokenizer == "integers":
        parts = text.replace(",", " ").split()
        bad = [part for part in parts if not part.lstrip("-").isdigit()]
        if bad:
            raise ValueError(f"Received {text!r}; integer tokens (e.g. MIDI pitches '60 62 64') expected, not {bad}.")
        return [str(int(part)) for part in parts]
    if tokenizer == "pretokenized":
        return text.lower().split()
    import tensorflow as tf

    return [token.decode("utf-8") for token in tokenize(tf.constant(text), tokenizer).numpy()]


def encode_text(text, vocabulary, tokenizer, what="prefix"):
    """A text -> ids, with a `ValueError` naming any token the vocabulary lacks.

    Args:
        text: the text.
        vocabulary: the run's `Vocabulary`.
        tokenizer: the task's tokenizer.
        what: what the text is, for the message (`"prefix"`, `"source"`, `"text"`).

    Returns:
        A list of int ids.
    """
    tokens = text_tokens(text, tokenizer)
    known = set(vocabulary.tokens)
    unknown = list(dict.fromkeys(token for token in tokens if token not in known))
    if unknown:
        kind = "characters" if tokenizer == "chars" else "tokens"
        shown = sorted(vocabulary.tokens)
        listing = "".join(shown) if tokenizer == "chars" else " ".join(shown[:80]) + (" ..." if len(shown) > 80 else "")
        hint = ""
        if text != text.lower() and all(token in known for token in text_tokens(text.lower(), tokenizer)):
            hint = f" Lowercased, it is all known: {text.lower()!r}."
        raise ValueError(
            f"Received {what} {text!r} with {kind} not in the vocabulary: "
            f"{', '.join(repr(token) for token in unknown)}. The vocabulary has "
            f"{len(shown)} {kind}: {listing!r}.{hint}"
        )
    return vocabulary.encode(tokens) if tokens else []


def padded(rows, dtype="int32"):
    """Id lists (or `(T, features)` arrays) -> one batch, padded with 0 after each row to the longest.

    Example:

    >>> padded([[5, 6, 7], [8]])
    array([[5, 6, 7], [8, 0, 0]], dtype=int32)
    """
    rows = [np.asarray(row, dtype) for row in rows]
    width = max(len(row) for row in rows)
    batch = np.full((len(rows), width, *rows[0].shape[1:]), PAD_ID, dtype)
    for index, row in enumerate(rows):
        batch[index, : len(row)] = row
    return batch
