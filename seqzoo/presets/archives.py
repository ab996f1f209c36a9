"""Unpacking an archived run folder once, atomically, into a cache keyed by the archive's contents.

An archive is checked from its headers before anything is written: at most
`MAX_MEMBERS` members and `MAX_UNPACKED_BYTES` unpacked, each member a file or
folder whose path stays inside (no absolute path, no `..`, no link, no
device). The bytes are counted again while they are written, since headers
can lie. A damaged archive (cut short, a corrupted stream) is one error that
names the archive.
"""

import gzip
import hashlib
import lzma
import os
import shutil
import tarfile
import zipfile
import zlib

from seqzoo import atomic
from seqzoo.errors import InputError
from seqzoo.errors import one_line

SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
RECORD = "run.json"
MAX_MEMBERS = 1_000  # A run folder holds about ten files; with checkpoints and logs, a few dozen.
MAX_UNPACKED_BYTES = 1 << 30  # 1 GiB: a model of 250 million float32 parameters.
CHUNK = 1 << 20
# What a damaged archive raises while it is read: cut short, a corrupted stream, an unknown method.
READ_ERRORS = (
    tarfile.TarError,
    zipfile.BadZipFile,
    EOFError,
    zlib.error,
    gzip.BadGzipFile,
    lzma.LZMAError,
    NotImplementedError,
)


def is_archive(path):
    return path.endswith(SUFFIXES)


def _digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


class _Member:
    """One entry of an archive as its header describes it, and how to read its bytes."""

    def __init__(self, name, size, kind, open_bytes):
        self.name, self.size, self.kind, self.open_bytes = name, size, kind, open_bytes


def _zip_members(archive):
    for info in archive.infolist():
        if info.flag_bits & 0x1:
            raise InputError(f"its member {info.filename!r} is encrypted")
        mode = info.external_attr >> 16
        kind = "folder" if info.is_dir() else "link" if (mode & 0o170000) == 0o120000 else "file"
        yield _Member(info.filename, info.file_size, kind, lambda info=info: archive.open(info))


def _tar_members(archive):
    while (info := archive.next()) is not None:
        kind = "folder" if info.isdir() else "file" if info.isfile() else "link" if info.issym() or info.islnk() else ""
        yield _Member(info.name, info.size, kind or "special file", lambda info=info: archive.extractfile(info))


def _check(members):
    """The members, once their count, their total size and every path are known to be safe; else an `InputError`."""
    checked, total = [], 0
    for member in members:
        checked.append(member)
        total += member.size if member.kind == "file" else 0
        if len(checked) > MAX_MEMBERS:
            raise InputError(f"it has more than {MAX_MEMBERS:,} members, the most an archived run folder may have")
        if total > MAX_UNPACKED_BYTES:
            raise InputError(f"it unpacks to more than {_size(MAX_UNPACKED_BYTES)}, the most an archive may")
        parts = _parts(member.name)
        if not parts and member.kind != "folder":  # A folder without a name is the root (`.`).
            raise InputError(f"its member {member.name!r} has no name")
        if member.name.startswith(("/", "\\")) or (parts and parts[0].endswith(":") and len(parts[0]) == 2):
            raise InputError(f"its member {member.name!r} has an absolute path")
        if ".." in parts:
            raise InputError(f"its member {member.name!r} leads out of the folder ('..')")
        if member.kind not in ("file", "folder"):
            raise InputError(f"its member {member.name!r} is a {member.kind}; a run folder holds files and folders")
    return checked


def _write(members, folder):
    """Writes the checked members under `folder`, counting the bytes actually read."""
    written = 0
    for member in members:
        path = os.path.join(folder, *_parts(member.name))
        try:
            if member.kind == "folder":
                os.makedirs(path, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with member.open_bytes() as source, open(path, "wb") as target:
                while block := source.read(CHUNK):
                    written += len(block)
                    if written > MAX_UNPACKED_BYTES:
                        raise InputError(
                            f"it unpacks to more than {_size(MAX_UNPACKED_BYTES)} (its headers said less), the most "
                            "an archive may"
                        )
                    target.write(block)
        except OSError as error:  # A member where another is a file or folder of the same name.
            raise InputError(f"its member {member.name!r} cannot be written: {error.strerror or error}") from error


def _parts(name):
    """A member's path, split on either slash, without empty and `.` parts."""
    return [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]


def _extract(path, folder):
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            _write(_check(_zip_members(archive)), folder)
    else:
        with tarfile.open(path) as archive:
            _write(_check(_tar_members(archive)), folder)


def _run_root(folder):
    """The folder that holds `run.json`: the archive's root, or its one top-level folder."""
    if os.path.exists(os.path.join(folder, RECORD)):
        return folder
    entries = [os.path.join(folder, name) for name in os.listdir(folder)]
    if len(entries) == 1 and os.path.exists(os.path.join(entries[0], RECORD)):
        return entries[0]
    raise InputError(f"it holds no run folder: no {RECORD} at its root or in its one top-level folder")


def unpack(path, cache):
    """The run folder inside archive `path`, unpacked under `cache` on first use.

    The folder's name carries a hash of the archive, so a changed archive is
    unpacked anew. It is unpacked into a temporary folder that is renamed into
    place, so a killed process or a second one never leaves a half folder.

    Args:
        path: a `.zip`, `.tar.gz`, `.tgz` or `.tar` file of a run folder.
        cache: the folder that holds unpacked archives.

    Returns:
        The run folder's path.

    Raises:
        InputError: the archive is damaged, too large, has an unsafe member or
            holds no run folder; the message names it and says which.
    """
    stem = os.path.basename(path)
    for suffix in SUFFIXES:
        stem = stem.removesuffix(suffix)
    target = os.path.join(cache, f"{stem}-{_digest(path)}")
    try:
        if not os.path.isdir(target):
            _unpack_into(path, cache, target)
        return _run_root(target)
    except InputError as error:
        raise InputError(f"Archive {path!r} cannot be used: {error}.") from error
    except READ_ERRORS as error:
        raise InputError(f"Archive {path!r} is damaged ({one_line(error) or type(error).__name__}).") from error


def _unpack_into(path, cache, target):
    os.makedirs(cache, exist_ok=True)
    staging = atomic.temporary_path(target)
    os.mkdir(staging)  # with the user's umask, unlike tempfile.mkdtemp's 0700
    try:
        _extract(path, staging)
        _run_root(staging)
        try:
            os.rename(staging, target)
        except OSError:  # Another process unpacked it first: use theirs.
            if not os.path.isdir(target):
                raise
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)


def _size(count):
    return f"{count / 2**30:g} GiB" if count >= 2**30 else f"{count:,} bytes"
