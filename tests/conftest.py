"""Shared pytest setup for seqzoo's tests.

The backend comes from `KERAS_BACKEND` in the environment (CI runs the suite
once per backend); tests never set it.
"""

import os
import sys

# Lets test modules `import backend_helpers` however pytest was started
# (`pytest`, `python -m pytest`, from the repository root or elsewhere).
_TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)
