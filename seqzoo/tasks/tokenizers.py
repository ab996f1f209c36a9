"""How raw TFDS features become token strings, inside a `tf.data` pipeline."""

import tensorflow as tf

TOKENIZERS = ("chars", "words", "pretokenized", "integers")


def tokenize(values, tokenizer):
    """Splits one feature into a 1-D string tensor of tokens.

    Args:
        values: a text scalar (`"chars"`, `"words"`), a sequence of words
            (`"pretokenized"`) or a sequence of integers such as MIDI
            pitches (`"integers"`).
        tokenizer: one of `TOKENIZERS`.
    """
    if tokenizer == "chars":
        return tf.strings.unicode_split(values, "UTF-8")
    if tokenizer == "words":
        text = tf.strings.regex_replace(tf.strings.lower(values), r"<br\s*/?>|[^\w']+", " ")
        return tf.strings.split(text)
    if tokenizer == "pretokenized":
        return tf.strings.lower(values)
    return tf.strings.as_string(values)


def join(tokens, tokenizer):
    """The inverse of `tokenize` for display: tokens back to one string."""
    return "".join(tokens) if tokenizer == "chars" else " ".join(tokens)
