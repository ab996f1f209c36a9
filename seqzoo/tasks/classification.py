"""Many-to-one tasks: one label for a whole sequence (speaker, sentiment)."""

import tensorflow as tf

from seqzoo.tasks.task import Task
from seqzoo.tasks.tokenizers import tokenize
from seqzoo.tasks.vocabulary import Vocabulary


class ClassificationTask(Task):
    """Labels a sequence: dense features per step, or text tokenized into ids.

    Args:
        inputs_feature: the TFDS feature holding the sequence.
        label_feature: the `ClassLabel` feature to predict.
        tokenizer: `None` for dense features `(T, dim)`, else a tokenizer
            name (see `tokenizers.TOKENIZERS`).
        max_vocab: the most tokens to keep (the rest become UNK).
        **kwargs: those of `Task`.
    """

    topology = "many_to_one"

    def __init__(self, *args, inputs_feature, label_feature, tokenizer=None, max_vocab=20000, **kwargs):
        super().__init__(*args, **kwargs)
        self.inputs_feature = inputs_feature
        self.label_feature = label_feature
        self.tokenizer = tokenizer
        self.max_vocab = max_vocab

    def build_vocabularies(self):
        if self.tokenizer is None:
            return {}
        sequences = self.token_sequences("train", self.inputs_feature, self.tokenizer)
        return {"inputs": Vocabulary.from_sequences(sequences, self.max_vocab)}

    def to_example(self, example):
        values = example[self.inputs_feature]
        if self.tokenizer is None:
            x = tf.cast(values, tf.float32)
        else:
            x = self.vocabularies["inputs"].encode(tokenize(values, self.tokenizer))
        return self.truncate(x), example[self.label_feature]

    def class_names(self):
        """The names of the classes, in the order of their ids."""
        return self.info().features[self.label_feature].names

    def model_spec(self):
        if self.tokenizer is None:
            inputs = {"type": "features", "dim": int(self.info().features[self.inputs_feature].shape[-1])}
        else:
            inputs = {"type": "tokens", "vocab_size": len(self.prepare().vocabularies["inputs"])}
        classes = len(self.class_names())
        return {"topology": self.topology, "inputs": inputs, "outputs": {"type": "classes", "size": classes}}
