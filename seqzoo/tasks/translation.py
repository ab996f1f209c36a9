"""Encoder-decoder tasks: a source sequence -> a target sequence (dates, languages)."""

import tensorflow as tf

from seqzoo import metrics
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
        **kwargs: those of `Task`.
    """

    topology = "encoder_decoder"

    def __init__(
        self, *args, source_feature, target_feature, tokenizer="chars", context_feature=None, max_vocab=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.source_feature = source_feature
        self.target_feature = target_feature
        self.tokenizer = tokenizer
        self.context_feature = context_feature
        self.max_vocab = max_vocab

    def source_text(self, example):
        """The source feature, after the context feature when there is one."""
        if self.context_feature is None:
            return example[self.source_feature]
        return tf.strings.join([example[self.context_feature], example[self.source_feature]], separator=" ")

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
