"""Reading a user's labelled texts: a CSV/TSV file, or a folder with one subfolder per class."""

import csv
import hashlib
import io
import os
import re

import numpy as np

from seqzoo.errors import InputError
from seqzoo.errors import closest_names
from seqzoo.errors import missing_column
from seqzoo.reading import read_utf8

SPLITS = ("train", "validation", "test")
SHARES = {"validation": 0.1, "test": 0.1}  # The rest trains: 80/10/10.
TEXT_SUFFIX = ".txt"  # As keras.utils.text_dataset_from_directory reads.


class LabelledTexts:
    """Texts with string labels, each in a split or yet to be split.

    Args:
        source: the file or folder they were read from (for messages).
        texts: the texts.
        labels: one string label per text.
        splits: one of `SPLITS` per text, or `None`: see `by_split`.
        digest: the SHA-256 of what was read, so a run can tell if the data changed.
    """

    def __init__(self, source, texts, labels, splits, digest):
        self.source = source
        self.texts = list(texts)
        self.labels = list(labels)
        self.splits = splits
        self.digest = digest
        if not self.texts:
            raise ValueError(f"{source} has no texts: it needs at least one text of each of two classes.")
        self.class_names = sorted(set(self.labels), key=_label_order)
        if len(self.class_names) < 2:
            count = f"{len(self.texts)} text{'s' * (len(self.texts) > 1)}"
            raise ValueError(
                f"{source} has only one class, {self.class_names[0]!r} ({count}): classification needs at least two."
            )

    def by_split(self, seed=0):
        """`{split: (texts, class ids)}`, the given splits completed by a seeded 80/10/10 draw.

        Texts without a split are shuffled (from `seed`) into train, validation
        and test, 80/10/10. Where splits are given but validation or test is
        missing, that split is drawn the same way from the training texts.

        Args:
            seed: the seed of the shuffle.

        Returns:
            A dict from each of `SPLITS` to a list of texts and a list of int class ids.
        """
        splits = list(self.splits or [None] * len(self.texts))
        given = {split for split in splits if split not in (None, "train")}
        candidates = [i for i, split in enumerate(splits) if split in (None, "train")]
        for i, split in zip(candidates, _shuffled_splits(len(candidates), seed)):
            splits[i] = "train" if split in given else split
        index = {name: i for i, name in enumerate(self.class_names)}
        result = {split: ([], []) for split in SPLITS}
        for text, label, split in zip(self.texts, self.labels, splits):
            result[split][0].append(text)
            result[split][1].append(index[label])
        return result


def _label_order(label):
    """Sorts labels that are whole numbers in ASCII digits as numbers ("2" before "10"), others as strings ("²")."""
    return (0, int(label), "") if re.fullmatch(r"-?[0-9]+", label) else (1, 0, label)


def _csv_rows(path, content, delimiter):
    """The rows of CSV text; a field may be as long as the whole file (Python's csv stops at 131,072 characters)."""
    limit = csv.field_size_limit(max(csv.field_size_limit(), len(content)))
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as error:
        raise InputError(f"{path}, line {reader.line_num}: not valid CSV ({error}).") from error
    finally:
        csv.field_size_limit(limit)


def _shuffled_splits(count, seed):
    """Assigns `count` items to splits, 80/10/10, by a shuffle from `seed`."""
    order = np.random.default_rng(seed).permutation(count)
    sizes = {split: round(count * share) for split, share in SHARES.items()}
    splits = ["train"] * count
    for position, item in enumerate(order):
        if position < sizes["test"]:
            splits[item] = "test"
        elif position < sizes["test"] + sizes["validation"]:
            splits[item] = "validation"
    return splits


def read_table(path, text_column="text", label_column="label", split_column="split", delimiter=None):
    """Reads labelled texts from a CSV file (or a TSV file, by its `.tsv` suffix).

    Args:
        path: the file; its first row names the columns.
        text_column: the column with the texts.
        label_column: the column with the labels (any strings).
        split_column: the column giving each row's split (`train`,
            `validation` or `test`), if the file has it.
        delimiter: the field separator; `None` for a tab in `.tsv` files and
            a comma otherwise (`"\\t"` and `"tab"` mean a tab).

    Returns:
        A `LabelledTexts`.

    Example:

    >>> read_table("reviews.csv", text_column="review", label_column="stars").class_names
    ['1', '2', '3', '4', '5']
    """
    if not os.path.isfile(path):
        raise ValueError(f"No such file: {path!r} (a CSV or TSV file with a header row was expected).")
    if delimiter is None:
        delimiter = "\t" if path.lower().endswith(".tsv") else ","
    delimiter = "\t" if delimiter in ("\\t", "tab") else delimiter
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"The delimiter must be one character (or 'tab'), received {delimiter!r}.")
    content = read_utf8(path)
    rows = _csv_rows(path, content, delimiter)
    if not rows:
        raise ValueError(f"{path} is empty: a header row naming the columns, then one row per text, was expected.")
    header, rows = rows[0], [row for row in rows[1:] if row]
    for role, column in (("text", text_column), ("label", label_column)):
        if column not in header:
            raise missing_column(path, role, column, header, delimiter, f"Choose one with the option {role}_column.")
    columns = {name: header.index(name) for name in (text_column, label_column, split_column) if name in header}
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}, row {line}: {len(row)} fields where the header has {len(header)}.")
        if not row[columns[label_column]].strip():
            raise ValueError(f"{path}, row {line}: no label in column {label_column!r}.")
    splits = None
    if split_column in columns:
        splits = [row[columns[split_column]].strip().lower() for row in rows]
        unknown = sorted(set(splits) - set(SPLITS))
        if unknown:
            close = closest_names(unknown[0], SPLITS)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"{path}: the column {split_column!r} has {', '.join(map(repr, unknown))}{hint}; "
                f"allowed: {', '.join(SPLITS)}."
            )
    texts = [row[columns[text_column]] for row in rows]
    labels = [row[columns[label_column]].strip() for row in rows]
    return LabelledTexts(path, texts, labels, splits, hashlib.sha256(content.encode("utf-8")).hexdigest())


def read_folder(path):
    """Reads labelled texts from a folder, as `keras.utils.text_dataset_from_directory` does.

    `path/<class>/**/*.txt`: one subfolder per class (the class names are the
    subfolders' names, sorted). If the subfolders are `train/` and any of
    `validation/` and `test/`, each holds one split in that layout; a missing
    split is then drawn from `train/`.

    Args:
        path: the folder.

    Returns:
        A `LabelledTexts`.
    """
    if not os.path.isdir(path):
        raise ValueError(
            f"No such folder: {path!r} (a folder with one subfolder of .txt files per class was expected)."
        )
    subfolders = _subfolders(path)
    if "train" in subfolders and set(subfolders) <= set(SPLITS):
        texts, labels, splits, digest = [], [], [], hashlib.sha256()
        for split in subfolders:
            split_texts, split_labels, split_digest = _read_classes(os.path.join(path, split))
            texts, labels, splits = (
                texts + split_texts,
                labels + split_labels,
                splits + [split] * len(split_texts),
            )
            digest.update(f"{split}\0{split_digest}".encode())
        unknown = sorted(set(labels) - set(label for label, split in zip(labels, splits) if split == "train"))
        if unknown:
            raise ValueError(f"{path}: the classes {', '.join(map(repr, unknown))} have no texts in train/.")
        return LabelledTexts(path, texts, labels, splits, digest.hexdigest())
    texts, labels, digest = _read_classes(path)
    return LabelledTexts(path, texts, labels, None, digest)


def _subfolders(path):
    return sorted(name for name in os.listdir(path) if os.path.isdir(os.path.join(path, name)))


def _read_classes(path):
    """Texts, labels and a digest of `path/<class>/**/*.txt`."""
    classes = _subfolders(path)
    if not classes:
        raise ValueError(f"{path} has no subfolders: it needs one subfolder of {TEXT_SUFFIX} files per class.")
    texts, labels, digest = [], [], hashlib.sha256()
    for label in classes:
        for folder, subfolders, files in sorted(os.walk(os.path.join(path, label))):
            subfolders.sort()
            for name in sorted(files):
                if name.endswith(TEXT_SUFFIX):
                    with open(os.path.join(folder, name), "rb") as file:
                        content = file.read()
                    digest.update(f"{label}/{name}\0".encode() + content)
                    texts.append(content.decode("utf-8", errors="replace"))
                    labels.append(label)
    if not texts:
        raise ValueError(f"{path}: no {TEXT_SUFFIX} files in its subfolders {', '.join(classes)}.")
    return texts, labels, digest.hexdigest()
