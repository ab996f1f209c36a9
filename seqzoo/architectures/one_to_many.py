"""One-to-many: one input (a class, a style, a key) -> a sequence, as in music generation."""

import keras

from seqzoo.architectures.encoders import sequence_input
from seqzoo.architectures.heads import output_head
from seqzoo.architectures.model import SeqzooModel
from seqzoo.layers import RecurrentStack

CONDITION_TYPES = ("classes", "features")


def one_to_many(backbone, condition, inputs, name="one_to_many"):
    """Builds x -> ŷ<1>, ..., ŷ<Ty>, feeding each ŷ<t-1> back as the next input.

    The condition (e.g. a gender, a key) sets every layer's initial state
    a<0> (and c<0>) through a `Dense` layer with tanh; the sequence is then
    generated autoregressively. In training the true previous token is fed
    instead (teacher forcing).

    Args:
        backbone: the `RecurrentStack` arguments; must be unidirectional.
        condition: `{"type": "classes", "size": n}` (an id in [0, n)) or
            `{"type": "features", "dim": d}`.
        inputs: the token spec of the generated sequence (`vocab_size`, ...).
        name: the model's name.

    Returns:
        An uncompiled `SeqzooModel` with inputs `{"condition", "inputs"}`
        and logits `(batch, T, vocab_size)`.
    """
    if backbone.get("bidirectional"):
        raise ValueError(
            "A one-to-many model generates its sequence one token at a time, so "
            "its backbone cannot be bidirectional (received bidirectional=True)."
        )
    if condition["type"] == "classes":
        condition_input = keras.Input((), dtype="int32", name="condition")
        condition_encoder = keras.layers.Embedding(condition["size"], backbone["units"], name="condition_embedding")
        vector = condition_encoder(condition_input)
    else:
        condition_input = keras.Input((condition["dim"],), name="condition")
        condition_encoder, vector = None, condition_input
    stack = RecurrentStack(**backbone, return_sequences=True, name="backbone")
    initial_layers = [
        [
            keras.layers.Dense(size, activation="tanh", name=f"initial_state_{layer}_{index}")
            for index, size in enumerate(sizes)
        ]
        for layer, sizes in enumerate(stack.state_sizes_per_layer)
    ]
    initial_state = [[dense(vector) for dense in layers] for layers in initial_layers]
    tokens, x, token_encoder = sequence_input(inputs, "inputs")
    head = output_head({"type": "classes", "size": inputs["vocab_size"]})
    logits = head(stack(x, initial_state=initial_state))
    parts = {
        "token_encoder": token_encoder,
        "stack": stack,
        "head": head,
        "condition_encoder": condition_encoder,
        "initial_state": initial_layers,
    }
    return SeqzooModel({"condition": condition_input, "inputs": tokens}, logits, name=name, parts=parts)
