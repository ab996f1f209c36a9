"""An exclusive, non-blocking lock on a folder, naming the process that holds it."""

import fcntl
import json
import os
import socket
import sys
import time

LOCK_FILE = ".lock"
_HELD = set()  # (pid, real path) of the folders this process holds.


class FolderLockedError(RuntimeError):
    """Another process works in the folder now."""


class FolderLock:
    """Holds `<folder>/.lock` with `flock` while a process works in the folder.

    The lock is taken at once or refused (`FolderLockedError`, naming the
    folder and the holder's pid, host and command): a second process never
    waits, and never writes beside the first. The kernel releases it when the
    holder exits, however it dies, so a killed process leaves no stale lock.
    The lock file records its holder and is removed on release. A process
    that holds the folder may lock it again (the command line takes it
    before TensorFlow loads, `train` again inside): the inner lock leaves it
    held.

    Args:
        folder: the folder to lock (it must exist).

    Example:

    >>> with FolderLock("runs/names"):
    ...     ...  # the only process writing in runs/names
    """

    def __init__(self, folder):
        self.folder = folder
        self.path = os.path.join(folder, LOCK_FILE)
        self._descriptor = None
        self._key = (os.getpid(), os.path.realpath(folder))
        self._nested = False

    def acquire(self):
        if self._key in _HELD:
            self._nested = True
            return self
        while True:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                raise FolderLockedError(self._refusal()) from None
            # A holder that released and removed the file between our open and flock: lock the new file.
            try:
                same = os.stat(self.path).st_ino == os.fstat(descriptor).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(descriptor)
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv), "since": time.time()}
        os.ftruncate(descriptor, 0)
        os.write(descriptor, json.dumps(holder).encode())
        self._descriptor = descriptor
        _HELD.add(self._key)
        return self

    def release(self):
        if self._nested:
            self._nested = False
            return
        if self._descriptor is None:
            return
        _HELD.discard(self._key)
        os.remove(self.path)
        os.close(self._descriptor)  # Closing releases the flock.
        self._descriptor = None

    def _refusal(self):
        try:
            with open(self.path) as file:
                holder = json.load(file)
            who = f"process {holder['pid']} on {holder['host']} ({holder['command']!r})"
        except (OSError, ValueError, KeyError):
            who = "another process"
        return f"{self.folder!r} is in use by {who}; wait for it to finish, or choose another folder."

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
