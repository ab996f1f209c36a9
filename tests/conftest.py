"""Shared pytest setup for seqzoo's tests.

The backend comes from `KERAS_BACKEND` in the environment (CI runs the suite
once per backend); tests never set it.
"""

import gc
import os
import sys

# Lets test modules `import backend_helpers` however pytest was started
# (`pytest`, `python -m pytest`, from the repository root or elsewhere).
_TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)
import keras  # noqa: E402
import pytest  # noqa: E402

import seqzoo  # noqa: E402

REPO = os.path.dirname(_TESTS_DIR)


# Linux refuses a process more than 65,530 memory maps (`vm.max_map_count`).
MAP_LIMIT = 65530
# JAX's compiled programs are dropped once the process holds this many.
MAPS_BEFORE_CLEARING = 30000


def memory_maps():
    """How many memory maps this process holds; the limit where `/proc` cannot say."""
    try:
        with open("/proc/self/maps", "rb") as maps:
            return sum(1 for _ in maps)
    except OSError:
        return MAP_LIMIT


def pytest_collection_finish(session):
    """Takes what the imports and the collection made out of the garbage collector's scans (see `_frozen_survivors`)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _frozen_survivors():
    """After each test, what it leaves alive is taken out of the garbage collector's scans (`gc.freeze`).

    Python's collector walks every object of its oldest generation on each
    full collection; TensorFlow's and Keras's modules and the graphs that the
    tests trace (Keras's optimizer keeps each traced training step, through
    TensorFlow's process-wide registry of custom gradients) made that a
    million objects and more by the end of a test process, and a test late
    in the line spent twice the CPU of the same test alone. Frozen objects
    are still freed when the last reference to them goes; only cycles among
    them are not.
    """
    yield
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Every test starts from the same global seed; on JAX, compiled programs are dropped when they pile up.

    XLA maps each compiled program's code into memory areas that JAX's caches
    keep; a long JAX session (every named model, eager steps) reached Linux's
    limit of 65,530 maps and crashed inside XLA (issue 16). Clearing the caches
    when the process nears half the limit keeps it well below, while the tests
    in between reuse what earlier ones compiled (clearing after every test
    made the JAX line 2.5x slower).
    """
    keras.utils.set_random_seed(0)
    yield
    if keras.backend.backend() == "jax" and memory_maps() > MAPS_BEFORE_CLEARING:
        import jax

        jax.clear_caches()


def shared_folder(tmp_path_factory, worker_id, name):
    """A folder of this test session's, shared by its `pytest -n` test processes (the folder above each one's own)."""
    base = tmp_path_factory.getbasetemp()
    path = (base if worker_id == "master" else base.parent) / name
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def _jax_compilation_cache(tmp_path_factory, worker_id):
    """On JAX, compiled programs are kept on disk for the session, so a program compiles once for every test.

    A model loaded from a file, or built again with the same config,
    compiles the same programs as the first (XLA's compilation was two
    thirds of the JAX line). JAX's persistent cache holds them by their HLO
    and the versions; it is set before the first test compiles anything.
    """
    if keras.backend.backend() != "jax":
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", str(shared_folder(tmp_path_factory, worker_id, "jax_cache")))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory, worker_id):
    """One TFDS folder for the whole session, so each offline dataset is generated once.

    Under `pytest -n`, the test processes share it (the folder above each
    one's own): the first to need a dataset prepares it, the others wait
    for it (`seqzoo.tasks.loading.prepared_builder`).
    """
    return str(shared_folder(tmp_path_factory, worker_id, "seqzoo_tfds"))


@pytest.fixture(scope="session")
def vowels_data(data_dir):
    """`data_dir` with japanese_vowels generated, before a test's child processes read it (and quietly)."""
    seqzoo.load_task("japanese_vowels", data_dir=data_dir).raw("train")
    return data_dir


@pytest.fixture(scope="session")
def subprocess_env():
    """The environment for a test's child process: seqzoo importable, TensorFlow's C++ logs quiet."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


@pytest.fixture(scope="session")
def dates_preset():
    """`preset:dates` loaded once, so the tests that translate with it compile its decoders once."""
    return seqzoo.from_preset("dates")
