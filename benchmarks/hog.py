"""A fixed load for benchmarks: one child process that keeps exactly one core busy.

A shared machine is rarely idle, and the 1-minute load average of one is
not the load of another. The hog is one process spinning in pure Python
(one thread, no I/O, no memory traffic to speak of), so "busy" means the
same thing on every run: one core taken, the rest free.

Usage:

    with hog.one_core_busy():
        ...  # timed here, beside the hog
"""

import contextlib
import subprocess
import sys
import time

# Spins, and stops when its parent is gone (a benchmark killed mid-run leaves no hog behind).
SPIN = """
import os
parent = os.getppid()
while os.getppid() == parent:
    for _ in range(1_000_000):
        pass
"""


@contextlib.contextmanager
def one_core_busy():
    """Runs one spinning child process for the body of the `with` (and stops it, by its pid, after).

    Yields:
        The child's `subprocess.Popen`.
    """
    child = subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.DEVNULL)
    try:
        time.sleep(0.2)  # let it start spinning before anything is timed
        if child.poll() is not None:
            raise RuntimeError(f"the load process exited at once (code {child.returncode})")
        yield child
    finally:
        child.kill()
        child.wait()
