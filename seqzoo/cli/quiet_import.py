"""TensorFlow imported without its C++ start-up lines, when a command comes to need it."""

import importlib.util
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ logs, quieted before it loads.


def import_tensorflow_quietly():
    """Imports TensorFlow with file descriptor 2 closed to its C++ start-up lines.

    Its shared libraries log (oneDNN, CUDA drivers) before absl's logging is
    set up, where `TF_CPP_MIN_LOG_LEVEL` cannot reach. Python's own errors
    still reach stderr: they are raised, and printed after the descriptor is
    back. Nothing is hidden when the user set `TF_CPP_MIN_LOG_LEVEL` below 2.
    A command calls it before its first use of Keras; a second call does nothing.

    Example:

    >>> import_tensorflow_quietly()
    >>> "tensorflow" in sys.modules
    True
    """
    if "tensorflow" in sys.modules or int(os.environ["TF_CPP_MIN_LOG_LEVEL"]) < 2:
        return
    if importlib.util.find_spec("tensorflow") is None:
        return
    sys.stderr.flush()
    saved, silent = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(silent, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(silent)
