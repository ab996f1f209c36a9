"""Many-to-one tasks on a user's own labelled texts: `csv:PATH` and `folder:PATH`."""

import os

import numpy as np
import tensorflow as tf

from seqzoo.errors import InputError
from seqzoo.tasks.classification import ClassificationTask
from seqzoo.tasks.loading import without_autotune_thread
from seqzoo.tasks.options import choice
from seqzoo.tasks.options import typed_options
from seqzoo.tasks.text_files import SPLITS
from seqzoo.tasks.text_files import read_folder
from seqzoo.tasks.text_files import read_table
from seqzoo.tasks.tokenizers import tokenize

TEXT_TOKENIZERS = ("words", "chars")
COMMON_OPTIONS = ("seed", "tokenizer", "max_vocab", "max_length")
KIND_OPTIONS = {
    "csv": COMMON_OPTIONS + ("text_column", "label_column", "split_column", "delimiter"),
    "folder": COMMON_OPTIONS,
}


class FileClassificationTask(ClassificationTask):
    """Classifies the texts of a CSV/TSV file or of a folder of text files.

    The texts are read once, into memory, and served by `tf.data` in place of
    a TFDS dataset; everything else (tokenizers, vocabularies, batches,
    evaluation, run folders) is `ClassificationTask`'s. The classes are the
    labels (or subfolders), sorted.

    Args:
        name: `"csv:<absolute path>"` or `"folder:<absolute path>"`.
        texts: a `text_files.LabelledTexts`.
        seed: the seed of the 80/10/10 split of texts without a given split.
        tokenizer: `"words"` or `"chars"`.
        **kwargs: those of `ClassificationTask` (`max_vocab`, `max_length`).

    Example:

    >>> task = seqzoo.load_task("csv:reviews.csv", text_column="review", label_column="stars")
    >>> model = seqzoo.build("gru_bi", task=task)
    """

    def __init__(self, name, texts, seed=0, tokenizer="words", **kwargs):
        choice(name, "tokenizer", tokenizer, TEXT_TOKENIZERS)
        _check_every_text_has_tokens(texts, tokenizer)
        split_texts = texts.by_split(seed)
        empty = [split for split in SPLITS if not split_texts[split][0]]
        if empty:
            raise ValueError(
                f"{texts.source}: no texts in {' or '.join(empty)} ({len(texts.texts)} texts in all): give at least "
                "10 texts for the 80/10/10 split, or say each text's split."
            )
        sizes = ", ".join(f"{len(split_texts[split][0])} {split}" for split in SPLITS)
        super().__init__(
            name,
            dataset=name,
            description=f"Your texts in {texts.source}: {len(texts.class_names)} classes; {sizes} (many-to-one).",
            inputs_feature="text",
            label_feature="label",
            tokenizer=tokenizer,
            **kwargs,
        )
        self.texts = texts
        self.seed = seed
        self._split_texts = split_texts

    def raw(self, split):
        """The split's examples, `{"text": string, "label": int64}`, as TFDS would give them."""
        if split not in self.splits:
            raise ValueError(f"Unknown split {split!r}; this task has {', '.join(self.splits)}.")
        texts, labels = self._split_texts[split]
        data = tf.data.Dataset.from_tensor_slices(
            {
                "text": tf.constant(texts, tf.string, shape=[len(texts)]),
                "label": tf.constant(labels, tf.int64, shape=[len(labels)]),
            }
        )
        return without_autotune_thread(data)  # As every TFDS split seqzoo loads.

    def class_names(self):
        return list(self.texts.class_names)

    def info(self):
        raise ValueError(f"Task {self.name!r} reads your texts, not a TFDS dataset: it has no TFDS DatasetInfo.")

    def data_versions(self):
        return {"dataset": self.name, "sha256": self.texts.digest, "packages": {}}


def _check_every_text_has_tokens(texts, tokenizer):
    """Raises an `InputError` for texts that the tokenizer turns into nothing: a model cannot read an empty sequence."""
    lengths = tokenize(tf.constant(texts.texts, tf.string), tokenizer).row_lengths().numpy()
    empty = np.flatnonzero(lengths == 0)
    if len(empty):
        first = texts.texts[empty[0]]
        raise InputError(
            f"{texts.source}: {len(empty)} of its {len(texts.texts)} texts have no {tokenizer} once tokenized "
            f"(the first, text {empty[0] + 1} of label {texts.labels[empty[0]]!r}: {first!r:.40}); a recurrent model "
            "cannot read an empty sequence: remove them or give them text."
        )


def file_task(kind, path, **options):
    """Creates the task of `csv:PATH` or `folder:PATH` (see `load_task`).

    Args:
        kind: `"csv"` or `"folder"`.
        path: the file or folder; recorded as an absolute path, so a run
            reloads it from any working directory.
        **options: `seed` (0), `tokenizer` (`"words"`), `max_vocab` (20000),
            `max_length` (`None`); for CSV also `text_column` (`"text"`),
            `label_column` (`"label"`), `split_column` (`"split"`) and
            `delimiter` (`","`, or a tab for `.tsv`).

    Returns:
        A `FileClassificationTask`.
    """
    name = f"{kind}:{os.path.abspath(os.path.expanduser(path))}"
    options = typed_options(name, options, KIND_OPTIONS[kind])
    task_options = {key: options.pop(key) for key in COMMON_OPTIONS if key in options}
    choice(name, "tokenizer", task_options.get("tokenizer", "words"), TEXT_TOKENIZERS)  # Before reading the data.
    texts = read_table(name[len("csv:") :], **options) if kind == "csv" else read_folder(name[len("folder:") :])
    return FileClassificationTask(name, texts, **task_options)
