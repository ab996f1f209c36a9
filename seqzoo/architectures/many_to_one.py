"""Many-to-one: a whole sequence in, one output (sentiment, speaker, ...)."""

from seqzoo.architectures.encoders import sequence_input
from seqzoo.architectures.heads import output_head
from seqzoo.architectures.model import SeqzooModel
from seqzoo.layers import RecurrentStack


def many_to_one(backbone, inputs, outputs, name="many_to_one"):
    """Builds x<1>, ..., x<T> -> ŷ, read off the final a<T> (Tx > Ty = 1).

    Args:
        backbone: the `RecurrentStack` arguments, e.g.
            `{"cell": "lstm", "units": 64, "bidirectional": True}`.
        inputs: the input spec (see `encoders.sequence_input`).
        outputs: `{"type": "classes", "size": n}`, `{"type": "binary"}` or
            `{"type": "regression", "size": n}`.
        name: the model's name.

    Returns:
        An uncompiled `SeqzooModel` with input `"inputs"`.

    Example:

    >>> model = many_to_one({"cell": "gru", "units": 8},
    ...     {"type": "features", "dim": 12}, {"type": "classes", "size": 9})
    """
    sequence, x, _ = sequence_input(inputs, "inputs")
    a = RecurrentStack(**backbone, return_sequences=False, name="backbone")(x)
    return SeqzooModel(sequence, output_head(outputs)(a), name=name)
