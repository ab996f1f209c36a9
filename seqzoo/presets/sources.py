"""Where a preset comes from: a name shipped with seqzoo, or a run folder or archive of one on this machine.

A preset reference is `preset:HANDLE`. Each source below says which handles
it reads (`claims`), says cheaply whether one names a preset (`check`) and
turns one into a local run folder (`fetch`); the first source that claims a
handle reads it. A remote store (Kaggle or Hugging Face handles such as
`preset:hf://user/repo`, as keras-hub reads them) is one more source: a class
with `claims`, `check` and `fetch` that downloads into `cache_dir()`, placed
in `SOURCES`.

This module loads no Keras, so the command line checks a reference before
TensorFlow is imported.
"""

import os

from seqzoo.errors import unknown_name_error
from seqzoo.presets import archives
from seqzoo.runs.record import check_finished

PREFIX = "preset:"
SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shipped")


class PresetError(ValueError):
    """A preset reference that names no preset, or a preset that cannot be read."""


def cache_dir():
    """Where presets from archives (and, later, remote stores) are unpacked: `$SEQZOO_CACHE` or ~/.cache/seqzoo."""
    return os.environ.get("SEQZOO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "seqzoo")


def is_preset(reference):
    """Whether `reference` (a run folder argument) is a `preset:...` reference."""
    return isinstance(reference, str) and reference.startswith(PREFIX)


class ShippedPresets:
    """The presets in seqzoo's wheel, by name: `preset:names`."""

    def names(self):
        if not os.path.isdir(SHIPPED):
            return []
        return sorted(name for name in os.listdir(SHIPPED) if os.path.isdir(os.path.join(SHIPPED, name)))

    def claims(self, handle):
        return "://" not in handle and not LocalPresets().claims(handle)

    def check(self, handle):
        if handle not in self.names():
            raise PresetError(str(unknown_name_error("preset", handle, self.names())))

    def fetch(self, handle):
        self.check(handle)
        return os.path.join(SHIPPED, handle)


class LocalPresets:
    """A run folder, or a `.zip` / `.tar.gz` / `.tgz` / `.tar` archive of one, by path: `preset:./my_run.zip`."""

    def claims(self, handle):
        return "://" not in handle and (
            os.sep in handle or "/" in handle or handle.startswith(("~", ".")) or archives.is_archive(handle)
        )

    def check(self, handle):
        path = os.path.expanduser(handle)
        if not (os.path.isdir(path) or (os.path.isfile(path) and archives.is_archive(path))):
            raise PresetError(
                f"Received {PREFIX}{handle}: no such folder or archive ({', '.join(archives.SUFFIXES)}) on this "
                "machine."
            )

    def fetch(self, handle):
        self.check(handle)
        path = os.path.expanduser(handle)
        if os.path.isdir(path):
            return path
        try:
            return archives.unpack(path, os.path.join(cache_dir(), "presets"))
        except ValueError as error:
            raise PresetError(f"Received {PREFIX}{handle}: {error}") from error


SOURCES = (LocalPresets(), ShippedPresets())


def _source(reference):
    """`(source, handle)`: the first of `SOURCES` that reads a `preset:...` reference."""
    handle = reference[len(PREFIX) :]
    for source in SOURCES:
        if source.claims(handle):
            return source, handle
    raise PresetError(
        f"Received {reference!r}: no preset source reads {handle.partition('://')[0]!r} handles. A preset is a "
        f"shipped name ({', '.join(ShippedPresets().names())}) or a local run folder or archive path."
    )


def fetch(reference):
    """The local run folder of a `preset:...` reference (unpacked first if it is an archive).

    Raises:
        PresetError: no source reads the reference, or it names no preset
            (the closest shipped names are given).
    """
    source, handle = _source(reference)
    return source.fetch(handle)


def check_reference(reference):
    """Raises for a run argument that names no finished run: a `PresetError` or a `RunFolderError`; else nothing.

    Cheap (no unpacking, no download, no Keras): the command line's early
    check of a run argument. A `preset:` reference must name a preset; any
    other path must be a finished run folder.
    """
    if is_preset(reference):
        source, handle = _source(reference)
        source.check(handle)
    else:
        check_finished(reference)


def run_path(reference):
    """The local folder of a finished run: a run folder, or a `preset:` reference fetched (see `fetch`).

    Raises:
        PresetError: for a reference that names no preset.
        RunFolderError: for a folder that holds no finished run.

    Example:

    >>> run_path("preset:names")
    '.../seqzoo/presets/shipped/names'
    """
    path = fetch(reference) if is_preset(reference) else reference
    check_finished(path)
    return path
