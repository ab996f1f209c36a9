"""Model inputs: token ids, one-hot vectors or dense features per time step."""

import keras

from seqzoo.layers import OneHot

INPUT_TYPES = ("tokens", "one_hot", "features")


def sequence_input(spec, name):
    """Creates a sequence input and what turns it into x<1>, ..., x<T>.

    Args:
        spec: a dict with `type` one of `INPUT_TYPES`; `vocab_size` (and
            `embedding_dim` for `"tokens"`) for ids, where id 0 is padding
            and is masked; `dim` for `"features"`, where all-zero steps are
            padding and are masked. `max_length` optionally fixes T.
        name: the input's name.

    Returns:
        `(input, x, layer)`: the `keras.Input`, the `(batch, T, features)`
        tensor, masked where the sequence is padded, and the layer that made
        it from the input (a generative model records it among its parts).
    """
    length = spec.get("max_length")
    if spec["type"] == "features":
        inputs = keras.Input((length, spec["dim"]), name=name)
        layer = keras.layers.Masking(0.0, name=f"{name}_masking")
    else:
        inputs = keras.Input((length,), dtype="int32", name=name)
        layer = token_encoder(spec, name)
    return inputs, layer(inputs), layer


def token_encoder(spec, name):
    """The layer that maps token ids to vectors: an `Embedding` or `OneHot`."""
    if spec["type"] == "one_hot":
        return OneHot(spec["vocab_size"], name=f"{name}_one_hot")
    return keras.layers.Embedding(spec["vocab_size"], spec["embedding_dim"], mask_zero=True, name=f"{name}_embedding")
