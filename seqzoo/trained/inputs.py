"""Reading `seqzoo predict --input FILE`: texts, a CSV's text column, NumPy frames, or a melody.

Example:

>>> read_inputs("reviews.csv")
(['a wonderful film', 'dull and long'], None)
>>> read_inputs("frames.npz")
([array(...), array(...)], ['frames.npz:a', 'frames.npz:b'])
"""

import csv
import os

import numpy as np

from seqzoo import music
from seqzoo.errors import missing_column

TABLES = (".csv", ".tsv")
ARRAYS = (".npy", ".npz")
MELODIES = (".mid", ".midi", ".musicxml", ".xml", ".mxl")
TEXT_COLUMN = "text"


def input_kind(path):
    """`"table"`, `"arrays"`, `"melody"` or `"lines"` (any other file: one text per line), by the file's suffix."""
    suffix = os.path.splitext(path)[1].lower()
    for kind, suffixes in (("table", TABLES), ("arrays", ARRAYS), ("melody", MELODIES)):
        if suffix in suffixes:
            return kind
    return "lines"


def read_inputs(path):
    """The inputs in a file, and a name for each where the input cannot name itself.

    Args:
        path: a `.csv` / `.tsv` file with a `text` column; a `.npy` file of
            one `(T, features)` array or a batch of them; a `.npz` file of
            such arrays; a melody (`.mid`, `.musicxml`, ...) as MIDI pitches
            per sixteenth note; or any other file, one text per non-empty line.

    Returns:
        `(inputs, names)`: texts or arrays, and `None` (texts name themselves)
        or one name per array, e.g. `"frames.npz:speaker3"` or `"frames.npy[0]"`.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Received --input {path!r}, which is not a file.")
    kind = input_kind(path)
    if kind == "arrays":
        return _arrays(path)
    if kind == "melody":
        return [" ".join(str(pitch) for pitch in music.read_melody(path))], [path]
    with open(path, newline="", encoding="utf-8") as file:
        if kind == "lines":
            texts = [line.rstrip("\n") for line in file if line.strip()]
        else:
            delimiter = "\t" if path.lower().endswith(".tsv") else ","
            rows = csv.DictReader(file, delimiter=delimiter)
            if TEXT_COLUMN not in (rows.fieldnames or []):
                remedy = f"seqzoo predict reads the texts of the column {TEXT_COLUMN!r}."
                raise missing_column(path, "text", TEXT_COLUMN, rows.fieldnames or [], delimiter, remedy)
            texts = [row[TEXT_COLUMN] for row in rows]
    if not texts:
        raise ValueError(f"Received --input {path!r}, which holds no texts.")
    return texts, None


def _arrays(path):
    if path.lower().endswith(".npz"):
        with np.load(path) as archive:
            named = [(f"{path}:{key}", archive[key]) for key in archive.files]
    else:
        named = [(path, np.load(path))]
    inputs, names = [], []
    for name, array in named:
        if array.ndim == 3:
            inputs += list(array)
            names += [f"{name}[{index}]" for index in range(len(array))]
        elif array.ndim == 2:
            inputs.append(array)
            names.append(name)
        else:
            raise ValueError(
                f"Received {name} of shape {array.shape}; frames are (T, features) arrays, or (batch, T, features)."
            )
    if not inputs:
        raise ValueError(f"Received --input {path!r}, which holds no arrays.")
    return inputs, names
