"""Many-to-many tasks with Tx = Ty: a label for every step (NER, harmonization)."""

import numpy as np

from seqzoo import metrics
from seqzoo.tasks.task import Task
from seqzoo.tasks.tokenizers import tokenize
from seqzoo.tasks.vocabulary import Vocabulary


class TaggingTask(Task):
    """Labels each token of a sequence.

    Args:
        inputs_feature: the TFDS feature with the input sequence.
        tags_feature: the feature with one tag per step: a `ClassLabel`
            sequence (e.g. NER tags), or values in the inputs' vocabulary
            when `shared_vocabulary=True` (e.g. soprano -> bass pitches).
        tokenizer: how the inputs (and shared-vocabulary tags) become tokens.
        shared_vocabulary: whether the tags are tokens of the inputs' vocabulary.
        max_vocab: the most input tokens to keep.
        **kwargs: those of `Task`.
    """

    topology = "many_to_many"

    def __init__(
        self,
        *args,
        inputs_feature,
        tags_feature,
        tokenizer="pretokenized",
        shared_vocabulary=False,
        max_vocab=20000,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.inputs_feature = inputs_feature
        self.tags_feature = tags_feature
        self.tokenizer = tokenizer
        self.shared_vocabulary = shared_vocabulary
        self.max_vocab = max_vocab

    def build_vocabularies(self):
        sequences = list(self.token_sequences("train", self.inputs_feature, self.tokenizer))
        if self.shared_vocabulary:
            sequences += list(self.token_sequences("train", self.tags_feature, self.tokenizer))
        return {"inputs": Vocabulary.from_sequences(sequences, self.max_vocab)}

    def to_example(self, example):
        vocabulary = self.vocabularies["inputs"]
        x = vocabulary.encode(tokenize(example[self.inputs_feature], self.tokenizer))
        tags = example[self.tags_feature]
        y = vocabulary.encode(tokenize(tags, self.tokenizer)) if self.shared_vocabulary else tags
        return self.truncate(x), self.truncate(y)

    def tag_names(self):
        """The tag strings for `ClassLabel` tags, else `None`."""
        if self.shared_vocabulary:
            return None
        return self.info().features[self.tags_feature].feature.names

    def model_spec(self):
        size = len(self.prepare().vocabularies["inputs"])
        classes = size if self.shared_vocabulary else len(self.tag_names())
        return {
            "topology": self.topology,
            "inputs": {"type": "tokens", "vocab_size": size},
            "outputs": {"type": "classes", "size": classes},
        }

    def evaluate(self, model, split="test", batch_size=64):
        """Loss, token accuracy, the majority-tag baseline, and entity F1 for IOB tags."""
        results = super().evaluate(model, split, batch_size)
        names = self.tag_names()
        truths, guesses = [], []
        for x, y, logits in self.predictions(model, split, batch_size):
            mask = np.asarray(x) != 0
            guess = logits.argmax(-1)
            for row in range(len(y)):
                keep = mask[row]
                truths.append(y[row][keep])
                guesses.append(guess[row][keep])
        flat_truth = np.concatenate(truths)
        results["token_accuracy"] = metrics.masked_accuracy(
            np.concatenate(guesses), flat_truth, np.ones_like(flat_truth, bool)
        )
        results["majority_baseline"] = float(np.bincount(flat_truth).max() / len(flat_truth))
        if names is not None and any(name.startswith("B-") for name in names):
            results.update(
                metrics.entity_f1(
                    [[names[t] for t in sequence] for sequence in truths],
                    [[names[t] for t in sequence] for sequence in guesses],
                )
            )
        return results
