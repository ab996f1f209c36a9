"""Step-wise execution of a generative model: one token in, next-token logits out."""

from keras import ops

from seqzoo.architectures.encoder_decoder import decoder_initial_state

GENERATIVE_TOPOLOGIES = ("language_model", "one_to_many", "encoder_decoder")


class Stepper:
    """Runs a trained generative `SeqzooModel` one token at a time, in O(1) per token.

    It reuses the parts its factory recorded on the model (`model.parts`: the
    token encoder, recurrent stack, attention, head, and the layers that
    turn a condition or a source into the first state), so a step gives
    exactly the logits that the full teacher-forced model gives at that
    position, without re-reading the prefix. Everything here is `keras.ops`
    on tensors, so `start` and `next` also run inside a compiled loop
    (`seqzoo.inference.loop`).

    Args:
        model: a `SeqzooModel` built by `language_model`, `one_to_many` or
            `encoder_decoder`.

    Example:

    >>> stepper = Stepper(model)
    >>> cache = stepper.start(batch_size=2)
    >>> logits, cache = stepper.next(np.array([1, 1]), cache)
    """

    def __init__(self, model):
        config = getattr(model, "seqzoo_config", None) or {}
        self.topology = config.get("topology")
        if self.topology not in GENERATIVE_TOPOLOGIES:
            raise ValueError(
                f"Received a {self.topology or 'non-seqzoo'} model; step-wise "
                f"generation needs one of: {', '.join(GENERATIVE_TOPOLOGIES)}."
            )
        parts = getattr(model, "parts", {})
        if parts.get("stack") is None:
            raise ValueError(
                f"Received model {model.name!r} without recorded generative parts (model.parts); "
                "build it with a seqzoo factory (seqzoo.build) to generate with it."
            )
        self.model = model
        self.parts = parts
        self.token_encoder, self.stack, self.head = (parts["token_encoder"], parts["stack"], parts["head"])
        self.attention, self.combine = parts["attention"], parts["attention_combine"]

    def start(self, batch_size=None, condition=None, source=None):
        """The cache before the first token.

        Args:
            batch_size: for a language model, how many sequences to write.
            condition: for a one-to-many model, the condition batch.
            source: for an encoder-decoder, the source batch.

        Returns:
            A dict: `"states"` (one list per layer), and for attention models
            the encoder's `"memory"` and `"memory_mask"`.
        """
        if self.topology == "language_model":
            return {"states": self.stack.get_initial_state(batch_size)}
        if self.topology == "one_to_many":
            return {"states": self.condition_states(condition)}
        return self.encode(source)

    def condition_states(self, condition):
        """A one-to-many model's a<0> (and c<0>) per layer, from the condition batch."""
        encoder = self.parts["condition_encoder"]
        if encoder is not None:
            vector = encoder(ops.convert_to_tensor(condition, "int32"))
        else:
            vector = ops.convert_to_tensor(condition, "float32")
        return [[dense(vector) for dense in layer] for layer in self.parts["initial_state"]]

    def encode(self, source):
        """An encoder-decoder's cache: the decoder's first states and, with attention, the memory and its mask."""
        source = ops.convert_to_tensor(source)
        source_encoder, encoder = self.parts["source_encoder"], self.parts["encoder"]
        mask = source_encoder.compute_mask(source)
        memory, *states = encoder(source_encoder(source), mask=mask)
        cache = {"states": decoder_initial_state(encoder, states)}
        if self.attention is not None:
            projection = self.parts["memory_projection"]
            cache["memory"] = memory if projection is None else projection(memory)
            cache["memory_mask"] = mask
        return cache

    def next(self, tokens, cache):
        """Feeds one token per sequence; returns `(logits, new_cache)`.

        Args:
            tokens: ids `(batch,)`, the previous output (or the start token).
            cache: from `start` or the previous `next`.
        """
        x = self.token_encoder(ops.expand_dims(ops.convert_to_tensor(tokens, "int32"), 1))[:, 0]
        a, states = self.stack.step(x, cache["states"])
        if self.attention is not None:
            query = ops.expand_dims(a, 1)
            context = self.attention([query, cache["memory"]], mask=[None, cache["memory_mask"]])
            a = self.combine(ops.concatenate([query, context], axis=-1))[:, 0]
        return self.head(a), {**cache, "states": states}
