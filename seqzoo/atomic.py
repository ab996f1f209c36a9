"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Each writer writes a temporary file beside its target, named
`.<name>.<random>.tmp<suffix>`, then renames it over the target. The
temporary file is created like any other file (so it gets the user's umask,
not `mkstemp`'s 0600), and a process killed mid-write leaves only such a
temporary file behind, which `remove_temporaries` cleans up.
"""

import json
import os
import secrets
import shutil
from contextlib import contextmanager

TEMPORARY_MARK = ".tmp"


def temporary_path(path):
    """A new path beside `path`, hidden, with the same suffix (Keras reads the format from it)."""
    folder, name = os.path.split(os.path.abspath(path))
    stem, suffix = _split_suffix(name)
    return os.path.join(folder, f".{stem}.{secrets.token_hex(4)}{TEMPORARY_MARK}{suffix}")


def _split_suffix(name):
    for double in (".weights.h5",):
        if name.endswith(double):
            return name[: -len(double)], double
    stem, suffix = os.path.splitext(name)
    return stem, suffix


def is_temporary(name):
    """Whether a file name is one of `temporary_path`'s."""
    return name.startswith(".") and TEMPORARY_MARK in name


@contextmanager
def replacing(path):
    """Yields a temporary path to write; on success it replaces `path`, on failure it is removed."""
    temporary = temporary_path(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if os.path.lexists(temporary):
            os.remove(temporary)


def write_text(path, text):
    """Writes `text` to `path` atomically."""
    with replacing(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)


def write_json(path, value):
    """Writes `value` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def copy_file(source, path):
    """Copies `source` to `path` atomically."""
    with replacing(path) as temporary:
        shutil.copyfile(source, temporary)


def save_model(model, path):
    """`model.save(path)`, atomically."""
    with replacing(path) as temporary:
        model.save(temporary)


def save_figure(figure, path):
    """Saves a `matplotlib.figure.Figure` as a PNG, atomically."""
    with replacing(path) as temporary:
        figure.savefig(temporary, format="png")


def read_json(path):
    """The JSON value in `path`."""
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def remove_temporaries(folder):
    """Removes the temporary files a killed writer left anywhere under `folder`; returns their paths."""
    removed = []
    for root, _, files in os.walk(folder):
        for name in files:
            if is_temporary(name):
                os.remove(os.path.join(root, name))
                removed.append(os.path.join(root, name))
    return removed
