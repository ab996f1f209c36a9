"""Encoder-decoder (Tx != Ty), as in machine translation, with optional attention."""

import keras
from keras import ops

from seqzoo.architectures.encoders import sequence_input
from seqzoo.architectures.heads import output_head
from seqzoo.architectures.model import SeqzooModel
from seqzoo.layers import RecurrentStack

ATTENTION_TYPES = ("dot", "additive")
DECODER_KEYS = ("bidirectional", "dropout", "recurrent_dropout", "residual", "cell_options")


def decoder_backbone(backbone, decoder=None):
    """The decoder's `RecurrentStack` arguments, derived from the encoder's.

    The decoder has the encoder's cell and depth, reads left to right, and is
    as wide as the encoder's two directions together, so that each encoder
    layer's final states (concatenated across directions) start the decoder
    layer above it.

    Args:
        backbone: the encoder's arguments.
        decoder: optional overrides, keys among `DECODER_KEYS`.
    """
    decoder = dict(decoder or {})
    unknown = sorted(set(decoder) - set(DECODER_KEYS))
    if unknown:
        raise ValueError(f"Unknown decoder keys {unknown}; allowed: {', '.join(DECODER_KEYS)}.")
    if decoder.get("bidirectional"):
        raise ValueError(
            "A decoder writes its output left to right, one token after the "
            "other, so it cannot be bidirectional (received decoder "
            "bidirectional=True). Make the encoder bidirectional instead."
        )
    width = backbone["units"] * (2 if backbone.get("bidirectional") else 1)
    return {**backbone, **decoder, "units": width, "bidirectional": False}


def decoder_initial_state(encoder, states):
    """Regroups the encoder's flat final states into the decoder's, layer by layer."""
    per_cell = len(encoder.state_sizes_per_layer[0])
    directions = 2 if encoder.bidirectional else 1
    grouped = []
    for layer in range(encoder.depth):
        start = layer * per_cell * directions
        forward = states[start : start + per_cell]
        if directions == 2:
            backward = states[start + per_cell : start + 2 * per_cell]
            forward = [ops.concatenate([f, b], axis=-1) for f, b in zip(forward, backward)]
        grouped.append(list(forward))
    return grouped


def encoder_decoder(backbone, inputs, targets, attention=None, decoder=None, name="encoder_decoder"):
    """Builds x<1..Tx> -> encoder -> decoder -> ŷ<1..Ty>, trained with teacher forcing.

    The encoder (possibly bidirectional and deep) reads the source; its final
    states start the decoder, which is fed the previous target token
    (`decoder_inputs`: the start token, then y<1..Ty-1>) and predicts y<t>.
    With `attention`, each decoder step also looks at every encoder output
    through Keras's `Attention` (`"dot"`, Luong) or `AdditiveAttention`
    (`"additive"`, Bahdanau) layer, and the context joins a<t> before the
    head.

    Args:
        backbone: the encoder's `RecurrentStack` arguments.
        inputs: the source input spec (see `encoders.sequence_input`).
        targets: the target token spec (`type` `"tokens"` or `"one_hot"`,
            `vocab_size`, ...).
        attention: `None`, `"dot"` or `"additive"`.
        decoder: optional decoder overrides (see `decoder_backbone`).
        name: the model's name.

    Returns:
        An uncompiled `SeqzooModel` with inputs `{"inputs",
        "decoder_inputs"}` and logits `(batch, Ty, vocab_size)`.
    """
    if attention not in (None,) + ATTENTION_TYPES:
        raise ValueError(f"Received attention={attention!r}; allowed: None, {', '.join(ATTENTION_TYPES)}.")
    decoder_args = decoder_backbone(backbone, decoder)
    source, x, source_encoder = sequence_input(inputs, "inputs")
    encoder = RecurrentStack(**backbone, return_sequences=True, return_state=True, name="encoder")
    memory, *states = encoder(x)
    target_tokens, y, token_encoder = sequence_input(targets, "decoder_inputs")
    stack = RecurrentStack(**decoder_args, return_sequences=True, name="decoder")
    a = stack(y, initial_state=decoder_initial_state(encoder, states))
    parts = {"token_encoder": token_encoder, "stack": stack, "source_encoder": source_encoder, "encoder": encoder}
    if attention:
        a, attention_parts = attend(a, memory, attention, decoder_args["units"])
        parts.update(attention_parts)
    head = output_head({"type": "classes", "size": targets["vocab_size"]})
    logits = head(a)
    parts["head"] = head
    return SeqzooModel({"inputs": source, "decoder_inputs": target_tokens}, logits, name=name, parts=parts)


def attend(a, memory, attention, width):
    """Joins each decoder output a<t> with its attention context over `memory`.

    Returns:
        `(a, parts)`: the combined outputs, and the layers by role
        (`memory_projection` or `None`, `attention`, `attention_combine`).
    """
    projection = None
    if memory.shape[-1] != width:
        projection = keras.layers.Dense(width, use_bias=False, name="memory_projection")
        memory = projection(memory)
    layer = (keras.layers.Attention if attention == "dot" else keras.layers.AdditiveAttention)(name="attention")
    context = layer([a, memory])
    combine = keras.layers.Dense(width, activation="tanh", name="attention_combine")
    a = combine(keras.layers.Concatenate()([a, context]))
    return a, {"memory_projection": projection, "attention": layer, "attention_combine": combine}
