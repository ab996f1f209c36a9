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


def _check_folder_exists(path):
    """Raises a `FileNotFoundError` naming `path` (not its temporary file) when its folder is missing."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot write {os.fspath(path)!r}: the folder {folder!r} does not exist.")


def check_can_write(path):
    """Raises an error naming `path` unless a file can be written there (its folder exists, it is no folder)."""
    _check_folder_exists(path)
    if os.path.isdir(path):
        raise ValueError(f"Cannot write {os.fspath(path)!r}: it is a folder; give the path of a file.")


@contextmanager
def replacing(path):
    """Yields a temporary path to write; on success it replaces `path`, on failure it is removed."""
    check_can_write(path)
    temporary = temporary_path(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if os.path.lexists(temporary):
            os.remove(temporary)


@contextmanager
def replacing_folder(path):
    """Yields a temporary folder path beside `path` to write; on success it takes `path`'s place.

    A folder already at `path` is renamed aside, then removed once the new
    one is in place, so nothing of it is mixed into the new folder; on
    failure the temporary folder is removed and `path` is left as it was.
    """
    _check_folder_exists(path)
    temporary = temporary_path(path)
    try:
        yield temporary
        if os.path.isdir(path) and os.listdir(path):
            old = temporary_path(path)
            os.replace(path, old)
            os.replace(temporary, path)
            shutil.rmtree(old)
        else:
            os.replace(temporary, path)  # Over an empty folder, or none.
    finally:
        if os.path.lexists(temporary):
            shutil.rmtree(temporary)


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
