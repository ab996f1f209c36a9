"""Unpacking an archived run folder once, atomically, into a cache keyed by the archive's contents."""

import hashlib
import os
import shutil
import tarfile
import zipfile

from seqzoo import atomic

SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
RECORD = "run.json"


def is_archive(path):
    return path.endswith(SUFFIXES)


def _digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _extract(path, folder):
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            archive.extractall(folder)  # zipfile drops absolute paths and `..` from member names
    else:
        with tarfile.open(path) as archive:
            archive.extractall(folder, filter="data")  # no links out, no absolute paths, no devices


def _run_root(folder, path):
    """The folder that holds `run.json`: the archive's root, or its one top-level folder."""
    if os.path.exists(os.path.join(folder, RECORD)):
        return folder
    entries = [os.path.join(folder, name) for name in os.listdir(folder)]
    if len(entries) == 1 and os.path.exists(os.path.join(entries[0], RECORD)):
        return entries[0]
    raise ValueError(f"Archive {path!r} holds no run folder: no {RECORD} at its root or in its one top-level folder.")


def unpack(path, cache):
    """The run folder inside archive `path`, unpacked under `cache` on first use.

    The folder's name carries a hash of the archive, so a changed archive is
    unpacked anew. It is unpacked into a temporary folder that is renamed into
    place, so a killed process or a second one never leaves a half folder.

    Args:
        path: a `.zip`, `.tar.gz`, `.tgz` or `.tar` file of a run folder.
        cache: the folder that holds unpacked archives.
    """
    stem = os.path.basename(path)
    for suffix in SUFFIXES:
        stem = stem.removesuffix(suffix)
    target = os.path.join(cache, f"{stem}-{_digest(path)}")
    if not os.path.isdir(target):
        os.makedirs(cache, exist_ok=True)
        staging = atomic.temporary_path(target)
        os.mkdir(staging)  # with the user's umask, unlike tempfile.mkdtemp's 0700
        try:
            _extract(path, staging)
            _run_root(staging, path)
            try:
                os.rename(staging, target)
            except OSError:  # Another process unpacked it first: use theirs.
                if not os.path.isdir(target):
                    raise
        except (tarfile.TarError, zipfile.BadZipFile) as error:
            raise ValueError(f"Archive {path!r} cannot be read: {error}") from error
        finally:
            if os.path.exists(staging):
                shutil.rmtree(staging)
    return _run_root(target, path)
