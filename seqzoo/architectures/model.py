"""The functional model seqzoo builds, which remembers its own config and its generative parts."""

import keras

PART_ROLES = (
    "token_encoder",  # ids -> x<t> of the generated sequence (Embedding or OneHot)
    "stack",  # the RecurrentStack that is stepped
    "head",  # a<t> -> logits
    "condition_encoder",  # one-to-many: class id -> vector (None for feature conditions)
    "initial_state",  # one-to-many: one list of Dense layers per stack layer, vector -> a<0> (and c<0>)
    "source_encoder",  # encoder-decoder: source ids or features -> x<t>, and the source mask
    "encoder",  # encoder-decoder: the encoder RecurrentStack
    "memory_projection",  # encoder-decoder with attention: encoder outputs -> the decoder's width
    "attention",  # encoder-decoder with attention: the Attention layer
    "attention_combine",  # encoder-decoder with attention: [a<t>, context] -> a<t>
)


def _names(part):
    if part is None:
        return None
    if isinstance(part, (list, tuple)):
        return [_names(item) for item in part]
    return part.name


@keras.saving.register_keras_serializable(package="seqzoo")
class SeqzooModel(keras.Model):
    """A functional `keras.Model` that carries the resolved seqzoo config and its parts.

    The config travels with the model through `get_config` and a `.keras`
    save, so a model on disk says exactly how it was built. A generative
    factory also records the layers a step needs (`parts`, by role, see
    `PART_ROLES`), as keras-hub models expose `call_with_cache`; they are
    saved by layer name and found again after loading.

    Args:
        *args, **kwargs: those of a functional `keras.Model`
            (`inputs`, `outputs`, `name`).
        seqzoo_config: the resolved config, a plain dict.
        parts: optional dict role -> layer (or nested lists of layers) of
            this model, or the same with layer names.

    Example:

    >>> model = seqzoo.build("gru_char_lm")
    >>> model.parts["head"]
    <Dense name=head, built=True>
    """

    def __init__(self, *args, seqzoo_config=None, parts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.seqzoo_config = seqzoo_config
        unknown = sorted(set(parts or {}) - set(PART_ROLES))
        if unknown:
            raise ValueError(f"Received parts {unknown}; the roles are: {', '.join(PART_ROLES)}.")
        object.__setattr__(self, "_part_names", {role: _names(part) for role, part in (parts or {}).items()})

    @property
    def parts(self):
        """The recorded generative parts: a dict role -> layer (missing roles are `None`)."""

        def resolve(names):
            if names is None:
                return None
            if isinstance(names, list):
                return [resolve(name) for name in names]
            return self.get_layer(names)

        return {role: resolve(self._part_names.get(role)) for role in PART_ROLES}

    def get_config(self):
        return {**super().get_config(), "seqzoo_config": self.seqzoo_config, "parts": self._part_names}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        seqzoo_config = config.pop("seqzoo_config", None)
        part_names = config.pop("parts", None) or {}
        model = super().from_config(config, custom_objects=custom_objects)
        model.seqzoo_config = seqzoo_config
        object.__setattr__(model, "_part_names", dict(part_names))
        return model
