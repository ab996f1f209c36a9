"""The base of every task: a TFDS dataset, its preprocessing, and the model it needs."""

import os

import numpy as np
import tensorflow as tf

from seqzoo.tasks.bucketing import bucketed_batches
from seqzoo.tasks.loading import PACKAGE_VERSIONS
from seqzoo.tasks.loading import dataset_info
from seqzoo.tasks.loading import load_split
from seqzoo.tasks.shuffling import shuffle_each_epoch
from seqzoo.tasks.tokenizers import tokenize
from seqzoo.tasks.vocabulary import Vocabulary

SPLITS = ("train", "validation", "test")


class Task:
    """A ready-made task: data, preprocessing, topology, head, loss and metrics.

    Subclasses (one per kind of problem) say how a raw TFDS example becomes
    `(x, y)`, which vocabularies it needs and which metrics judge it.

    Args:
        name: the task's name, e.g. `"names"`.
        dataset: the TFDS dataset name, e.g. `"seqzoo_names"`.
        description: one line for `seqzoo tasks`.
        splits: TFDS split strings for `"train"`, `"validation"`, `"test"`.
        data_dir: the TFDS data folder (`None`: TFDS's default).
        max_length: sequences longer than this are cut (`None`: keep all).
    """

    topology = None
    offline_tasks = ()
    options = {}  # The `load_task` options it was made with (JSON), e.g. a generic task's features.

    def __init__(self, name, dataset, description, splits=None, data_dir=None, max_length=None):
        self.name = name
        self.dataset = dataset
        self.description = description
        self.splits = dict(splits or {split: split for split in SPLITS})
        self.data_dir = data_dir
        self.max_length = max_length
        self.vocabularies = {}
        self._examples = {}
        self._batch_counts = {}

    # -- data ---------------------------------------------------------------

    def raw(self, split):
        """The raw TFDS examples of `"train"`, `"validation"` or `"test"`."""
        if split not in self.splits:
            raise ValueError(f"Unknown split {split!r}; this task has {', '.join(self.splits)}.")
        return load_split(self.dataset, self.splits[split], self.data_dir, self.offline_tasks)

    def info(self):
        """The TFDS `DatasetInfo`: features, class names, split sizes."""
        return dataset_info(self.dataset, self.data_dir, self.offline_tasks)

    def data_versions(self):
        """What built the data, for a run to record.

        Returns:
            `{"dataset": TFDS full name, "packages": {name: version}}`, e.g.
            `{"dataset": "seqzoo_names/1.1.0", "packages": {"names": "0.3.0",
            "tensorflow-datasets": "4.9.10"}}`. `packages` is what seqzoo's own
            datasets record when they are generated; it is empty for TFDS's
            downloaded datasets.
        """
        self.raw("train")  # Prepares the dataset (once), which records the packages.
        info = self.info()
        return {"dataset": info.full_name, "packages": dict((info.metadata or {}).get(PACKAGE_VERSIONS, {}))}

    def prepare(self):
        """Builds the vocabularies from the training split (once)."""
        if not self.vocabularies:
            self.vocabularies = self.build_vocabularies()
        return self

    def build_vocabularies(self):
        """Returns `{name: Vocabulary}`; tasks with token inputs override it."""
        return {}

    def token_sequences(self, split, feature, tokenizer):
        """Yields each example's tokens as a list of Python strings (to count them)."""
        tokens = self.raw(split).map(lambda example: tokenize(example[feature], tokenizer))
        for sequence in tokens.as_numpy_iterator():
            yield [token.decode("utf-8") for token in sequence]

    def to_example(self, example):
        """Maps one raw TFDS example to `(x, y)`, inside `tf.data`."""
        raise NotImplementedError

    def examples(self, split):
        """The `(x, y)` pairs of a split, unbatched and cached."""
        self.prepare()
        if split not in self._examples:
            self._examples[split] = self.raw(split).map(self.to_example, num_parallel_calls=tf.data.AUTOTUNE).cache()
        return self._examples[split]

    def batches(self, split, batch_size=32, shuffle=False, seed=0, first_epoch=0):
        """Batches of a split, bucketed by length and padded with 0 to their bucket's boundary.

        A split's batches have a few fixed shapes (see `bucketing`), so a
        compiled step is made once per shape, not once per batch.

        Args:
            split: `"train"`, `"validation"` or `"test"`.
            batch_size: examples per batch.
            shuffle: whether to shuffle: each pass is the next epoch, in an
                order that depends only on `seed` and the epoch's number (see
                `seqzoo.tasks.shuffling`); a bucket's last batch is then
                filled up to `batch_size` with rows of weight 0, as the
                examples left over in a bucket change from epoch to epoch.
            seed: the shuffle's seed.
            first_epoch: the number of the epoch the first pass is (a resumed run's).

        Returns:
            A `tf.data.Dataset` of `(x, y, sample_weight)` (see
            `bucketing.bucketed_batches`).
        """
        data = self.examples(split)
        if shuffle:
            data = shuffle_each_epoch(data, seed, first_epoch)
        data = bucketed_batches(data, self.sequence_length, batch_size, fill_rows=shuffle)
        return data.prefetch(tf.data.AUTOTUNE)

    def sized_batches(self, split, batch_size=32, shuffle=False, seed=0, first_epoch=0):
        """`batches`, with their number known to Keras, so an epoch ends by count, not by running out of data.

        Bucketing hides the number of batches from `tf.data`; it is counted
        once per split and batch size, on the unshuffled batches (the order
        does not change it: each bucket ends with its own partial batch).
        """
        key = (split, batch_size)
        if key not in self._batch_counts:
            self._batch_counts[key] = int(self.batches(split, batch_size).reduce(0, lambda count, _: count + 1))
        batches = self.batches(split, batch_size, shuffle, seed, first_epoch)
        return batches.apply(tf.data.experimental.assert_cardinality(self._batch_counts[key]))

    @staticmethod
    def sequence_length(x, y):
        """The length that batches are bucketed by: the longest sequence in `x`."""
        sequences = [value for value in tf.nest.flatten(x) if value.shape.rank >= 1]
        return tf.reduce_max([tf.shape(value)[0] for value in sequences])

    def truncate(self, ids):
        return ids if self.max_length is None else ids[: self.max_length]

    # -- model --------------------------------------------------------------

    def model_spec(self):
        """The topology and the input/output sections the model must have."""
        raise NotImplementedError

    # -- judging ------------------------------------------------------------

    def evaluate(self, model, split="test", batch_size=64):
        """The task's metrics on a split, as a dict of floats."""
        values = model.evaluate(self.sized_batches(split, batch_size), verbose=0, return_dict=True)
        return {key: float(value) for key, value in values.items()}

    def predictions(self, model, split="test", batch_size=64):
        """Yields `(x, y, logits)` as NumPy, batch by batch."""
        for x, y, _ in self.batches(split, batch_size):
            # NumPy in: the JAX backend's compiled predict step does not take TensorFlow tensors.
            x = tf.nest.map_structure(lambda value: value.numpy(), x)
            yield (x, y.numpy() if hasattr(y, "numpy") else y, np.asarray(model.predict_on_batch(x)))

    # -- run folders ---------------------------------------------------------

    def save_vocabularies(self, folder):
        """Writes `vocabulary_<name>.json` files into `folder`."""
        for key, vocabulary in self.prepare().vocabularies.items():
            vocabulary.save(os.path.join(folder, f"vocabulary_{key}.json"))

    def load_vocabularies(self, folder):
        """Uses the vocabularies saved in a run folder instead of rebuilding them."""
        return self.use_vocabularies(
            {
                file[len("vocabulary_") : -len(".json")]: Vocabulary.load(os.path.join(folder, file))
                for file in sorted(os.listdir(folder))
                if file.startswith("vocabulary_") and file.endswith(".json")
            }
        )

    def use_vocabularies(self, vocabularies):
        """Uses `vocabularies` (`{name: Vocabulary}`) instead of building them from the data."""
        self.vocabularies = dict(vocabularies)
        self._examples = {}
        self._batch_counts = {}
        return self
