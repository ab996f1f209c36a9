"""Step-wise execution of a generative model: one token in, next-token logits out."""

import keras
from keras import ops

from seqzoo.architectures.encoder_decoder import decoder_initial_state

GENERATIVE_TOPOLOGIES = ("language_model", "one_to_many", "encoder_decoder")


class Stepper:
    """Runs a trained generative `SeqzooModel` one token at a time, in O(1) per token.

    It reuses the model's own layers (token encoder, recurrent stack, attention,
    head), so a step gives exactly the logits that the full teacher-forced
    model gives at that position, without re-reading the prefix.

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
        self.model = model
        names = {layer.name for layer in model.layers}
        prefix = "decoder_inputs" if self.topology == "encoder_decoder" else "inputs"
        self.token_encoder = model.get_layer(
            f"{prefix}_embedding" if f"{prefix}_embedding" in names else f"{prefix}_one_hot"
        )
        self.stack = model.get_layer("decoder" if self.topology == "encoder_decoder" else "backbone")
        self.head = model.get_layer("head")
        self.attention = model.get_layer("attention") if "attention" in names else None

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
            return {"states": self._condition_states(condition)}
        return self._encode(source)

    def _condition_states(self, condition):
        layer_sizes = self.stack.state_sizes_per_layer
        outputs = [
            [self.model.get_layer(f"initial_state_{layer}_{index}").output for index in range(len(sizes))]
            for layer, sizes in enumerate(layer_sizes)
        ]
        if not hasattr(self, "_condition_model"):
            self._condition_model = keras.Model(self.model.input["condition"], outputs)
        # A functional model flattens a single output ([[a0]] comes back as one
        # tensor): regroup its outputs into one list of states per layer.
        flat = iter(keras.tree.flatten(self._condition_model(ops.convert_to_tensor(condition))))
        return [[next(flat) for _ in sizes] for sizes in layer_sizes]

    def _encode(self, source):
        encoder = self.model.get_layer("encoder")
        if not hasattr(self, "_encoder_model"):
            outputs = list(encoder.output)
            if self.attention is not None:
                outputs[0] = self.attention.input[1]
            self._encoder_model = keras.Model(self.model.input["inputs"], outputs)
        memory, *states = self._encoder_model(ops.convert_to_tensor(source))
        cache = {"states": decoder_initial_state(encoder, states)}
        if self.attention is not None:
            names = {layer.name for layer in self.model.layers}
            masker = next(
                self.model.get_layer(name)
                for name in ("inputs_embedding", "inputs_one_hot", "inputs_masking")
                if name in names
            )
            cache["memory"] = memory
            cache["memory_mask"] = masker.compute_mask(ops.convert_to_tensor(source))
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
            combine = self.model.get_layer("attention_combine")
            a = combine(ops.concatenate([query, context], axis=-1))[:, 0]
        return self.head(a), {**cache, "states": states}
