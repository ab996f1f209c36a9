"""A language model: P(y<t> | y<1>, ..., y<t-1>), next-token prediction."""

from seqzoo.architectures.encoders import sequence_input
from seqzoo.architectures.heads import output_head
from seqzoo.architectures.model import SeqzooModel
from seqzoo.layers import RecurrentStack


def language_model(backbone, inputs, name="language_model"):
    """Builds a next-token model: many-to-many with targets shifted by one.

    Fed y<1..T-1> (starting with the start token), it outputs the logits of
    y<2..T> at every step. Sampling from it token by token writes novel
    sequences (see `seqzoo.inference.decoding`).

    Args:
        backbone: the `RecurrentStack` arguments; must be unidirectional.
        inputs: a `"tokens"` or `"one_hot"` input spec with `vocab_size`.
        name: the model's name.

    Returns:
        An uncompiled `SeqzooModel`: ids `(batch, T)` in, logits
        `(batch, T, vocab_size)` out.
    """
    if backbone.get("bidirectional"):
        raise ValueError(
            "A language model predicts each token from the ones before it, so "
            "its backbone cannot be bidirectional (received bidirectional=True)."
        )
    tokens, x, token_encoder = sequence_input(inputs, "inputs")
    stack = RecurrentStack(**backbone, return_sequences=True, name="backbone")
    head = output_head({"type": "classes", "size": inputs["vocab_size"]})
    logits = head(stack(x))
    parts = {"token_encoder": token_encoder, "stack": stack, "head": head}
    return SeqzooModel(tokens, logits, name=name, parts=parts)
