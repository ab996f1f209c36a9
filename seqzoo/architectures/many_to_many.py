"""Many-to-many with Tx = Ty: one output per input step (tagging, NER)."""

from seqzoo.architectures.encoders import sequence_input
from seqzoo.architectures.heads import output_head
from seqzoo.architectures.model import SeqzooModel
from seqzoo.layers import RecurrentStack


def many_to_many(backbone, inputs, outputs, name="many_to_many"):
    """Builds x<t> -> ŷ<t> for every t, as in the course's name tagger.

    A unidirectional backbone's ŷ<t> depends on x<1..t> only; a
    bidirectional one's on the whole sequence.

    Args:
        backbone: the `RecurrentStack` arguments.
        inputs: the input spec (see `encoders.sequence_input`).
        outputs: the per-step output spec (see `many_to_one`).
        name: the model's name.

    Returns:
        An uncompiled `SeqzooModel`: `(batch, T)` or `(batch, T, dim)` in,
        `(batch, T, size)` out.
    """
    sequence, x, _ = sequence_input(inputs, "inputs")
    a = RecurrentStack(**backbone, return_sequences=True, name="backbone")(x)
    return SeqzooModel(sequence, output_head(outputs)(a), name=name)
