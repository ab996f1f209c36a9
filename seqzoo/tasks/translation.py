"""Encoder-decoder tasks: a source sequence -> a target sequence (dates, languages)."""

import tensorflow as tf

from seqzoo import metrics
from seqzoo.errors import unknown_name_error
from seqzoo.tasks.patterns import token_pattern
from seqzoo.tasks.task import Task
from seqzoo.tasks.tokenizers import tokenize
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.tasks.vocabulary import Vocabulary


class TranslationTask(Task):
    """Translates a source sequence into a target sequence.

    The decoder is fed [BOS] + target and predicts target + [EOS].

    Args:
        source_feature, target_feature: the TFDS text features.
        tokenizer: how both sides become tokens (`"chars"` or `"words"`).
        context_feature: optional text feature written before the source,
            e.g. the locale of a date, without which "3/9/24" is ambiguous.
        max_vocab: the most tokens to keep on each side.
        contexts: the contexts the data has (e.g. the dates' locales), so a
            user's context is checked and one written first in a source found.
        default_context: the context of a user's source that names none.
        lowercase: whether the data's sources are lowercased with whitespace
            runs made one space, so a user's source is read the same way.
        target_pattern: the name of a `seqzoo.tasks.patterns` pattern that
            every target follows (e.g. `"iso_date"`); decoders keep to it.
        **kwargs: those of `Task`.
    """

    topology = "encoder_decoder"

    def __init__(
        self,
        *args,
        source_feature,
        target_feature,
        tokenizer="chars",
        context_feature=None,
        max_vocab=None,
        contexts=None,
        default_context=None,
        lowercase=False,
        target_pattern=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.source_feature = source_feature
        self.target_feature = target_feature
        self.tokenizer = tokenizer
        self.context_feature = context_feature
        self.max_vocab = max_vocab
        self.contexts = tuple(contexts) if contexts else None
        self.default_context = default_context
        self.lowercase = lowercase
        self.target_pattern = target_pattern

    def source_text(self, example):
        """The source feature, after the context feature when there is one."""
        if self.context_feature is None:
            return example[self.source_feature]
        return tf.strings.join([example[self.context_feature], example[self.source_feature]], separator=" ")

    def source_input(self, text, context=None):
        """A user's source text as the model reads it: normalized as the data was, after its context.

        Args:
            text: the source, e.g. `"July 4, 2024"`, or with a known context
                first (`"en_GB 4/7/24"`).
            context: the context (e.g. a locale); by default the one written
                first in `text`, else `default_context`.

        Returns:
            The text the source vocabulary encodes, e.g. `"en_US july 4, 2024"`.

        Example:

        >>> seqzoo.load_task("dates").source_input("12/31/99")
        'en_US 12/31/99'
        """
        first, _, rest = text.strip().partition(" ")
        if context is None and self.contexts and first in self.contexts and rest:
            context, text = first, rest
        text = " ".join(text.lower().split()) if self.lowercase else text
        if self.context_feature is None:
            if context is not None:
                raise ValueError(f"Received context={context!r}; task {self.name!r} reads no context.")
            return text
        context = self.default_context if context is None else context
        if self.contexts and context not in self.contexts:
            raise unknown_name_error("context", context, self.contexts)
        if context is None:
            return text  # The user wrote the context into the source.
        return f"{context} {text}"

    def decoding_pattern(self):
        """The `TokenPattern` every target follows over the target vocabulary, or `None`."""
        if self.target_pattern is None:
            return None
        return token_pattern(self.target_pattern, self.prepare().vocabularies["target"])

    def build_vocabularies(self):
        sources = self.raw("train").map(lambda example: tokenize(self.source_text(example), self.tokenizer))
        return {
            "source": Vocabulary.from_sequences(
                ([token.decode("utf-8") for token in sequence] for sequence in sources.as_numpy_iterator()),
                self.max_vocab,
            ),
            "target": Vocabulary.from_sequences(
                self.token_sequences("train", self.target_feature, self.tokenizer), self.max_vocab
            ),
        }

    def to_example(self, example):
        source = self.vocabularies["source"].encode(tokenize(self.source_text(example), self.tokenizer))
        target = tf.cast(
            self.vocabularies["target"].encode(tokenize(example[self.target_feature], self.tokenizer)), tf.int64
        )
        target = self.truncate(target)
        x = {"inputs": self.truncate(source), "decoder_inputs": tf.concat([[BOS_ID], target], 0)}
        return x, tf.concat([target, [EOS_ID]], 0)

    def model_spec(self):
        self.prepare()
        return {
            "topology": self.topology,
            "inputs": {"type": "tokens", "vocab_size": len(self.vocabularies["source"])},
            "targets": {"type": "tokens", "vocab_size": len(self.vocabularies["target"])},
        }

    def evaluate(self, model, split="test", batch_size=64, translate=None):
        """Loss and token accuracy (teacher forced), and with `translate` the exact match of its translations.

        Args:
            model, split, batch_size: as in `Task.evaluate`.
            translate: optional `(model, source_ids, max_length) -> id lists`,
                e.g. `seqzoo.inference.decoding.greedy_translate` (passed down by the
                layer above: tasks do not import decoders).
        """
        results = super().evaluate(model, split, batch_size)
        if translate is None:
            return results
        truths, guesses = [], []
        for x, y, _ in self.batches(split, batch_size):
            max_length = int((y.numpy() != 0).sum(1).max()) + 5  # The longest target (EOS counted), unpadded.
            guesses.extend(translate(model, x["inputs"].numpy(), max_length))
            truths.extend([list(row[: list(row).index(EOS_ID)]) for row in y.numpy()])
        results["exact_match"] = metrics.exact_match(truths, guesses)
        return results
