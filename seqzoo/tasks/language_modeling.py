"""Language modeling: predict each token from the ones before it."""

import tensorflow as tf

from seqzoo import metrics
from seqzoo.tasks.task import Task
from seqzoo.tasks.tokenizers import tokenize
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.tasks.vocabulary import Vocabulary


def frame(ids):
    """[BOS] + ids + [EOS], split into the model's input and its target, shifted by one."""
    sequence = tf.concat([[BOS_ID], tf.cast(ids, tf.int64), [EOS_ID]], axis=0)
    return sequence[:-1], sequence[1:]


class LanguageModelTask(Task):
    """Next-token prediction on short texts (names) or on windows of one long text.

    Args:
        text_feature: the TFDS text feature.
        tokenizer: `"chars"` (character-level, as in the course) or `"words"`.
        window: if set, the split's texts are read as one stream cut into
            windows of this many tokens (for corpora such as tiny_shakespeare);
            else each text is one sequence framed by start and end tokens.
        max_vocab: the most tokens to keep.
        **kwargs: those of `Task`.
    """

    topology = "language_model"

    def __init__(self, *args, text_feature, tokenizer="chars", window=None, max_vocab=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.text_feature = text_feature
        self.tokenizer = tokenizer
        self.window = window
        self.max_vocab = max_vocab

    def build_vocabularies(self):
        sequences = self.token_sequences("train", self.text_feature, self.tokenizer)
        return {"inputs": Vocabulary.from_sequences(sequences, self.max_vocab)}

    def encode(self, example):
        return self.vocabularies["inputs"].encode(tokenize(example[self.text_feature], self.tokenizer))

    def to_example(self, example):
        x, y = frame(self.truncate(self.encode(example)))
        return x, y

    def examples(self, split):
        if self.window is None:
            return super().examples(split)
        self.prepare()
        if split not in self._examples:
            stream = self.raw(split).map(self.encode).unbatch()
            windows = stream.batch(self.window + 1, drop_remainder=True)
            self._examples[split] = windows.map(lambda w: (tf.cast(w[:-1], tf.int64), tf.cast(w[1:], tf.int64))).cache()
        return self._examples[split]

    def model_spec(self):
        return {
            "topology": self.topology,
            "inputs": {"type": "tokens", "vocab_size": len(self.prepare().vocabularies["inputs"])},
        }

    def evaluate(self, model, split="test", batch_size=64):
        """Loss and accuracy, perplexity and bits per token (per character for chars)."""
        results = super().evaluate(model, split, batch_size)
        total, count = 0.0, 0
        for _, y, logits in self.predictions(model, split, batch_size):
            nll, n = metrics.token_nll(logits, y)
            total, count = total + nll, count + n
        results.update(metrics.language_model_metrics(total, count))
        return results
