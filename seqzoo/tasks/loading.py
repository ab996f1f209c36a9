"""Loading TFDS splits, seqzoo's offline datasets and downloading ones alike.

TFDS itself is imported on first use (`tfds_module`): a task that only
encodes and decodes with a run's vocabularies (generating from a preset)
never reads a dataset and does not pay for it.
"""

import contextlib
import fcntl
import os

import tensorflow as tf

from seqzoo.tasks.options import choice

OFFLINE_PREFIX = "seqzoo_"
# The key of `DatasetInfo.metadata` that records what built one of seqzoo's own datasets.
PACKAGE_VERSIONS = "package_versions"


def tfds_module():
    """`tensorflow_datasets`, imported on first use, with seqzoo's own builders registered.

    Example:

    >>> tfds_module().builder("seqzoo_names").info.full_name
    'seqzoo_names/1.1.0'
    """
    import tensorflow_datasets

    import seqzoo.tasks.builders  # noqa: F401  (importing registers seqzoo's own builders with TFDS)

    return tensorflow_datasets


class DatasetUnavailableError(ValueError):
    """A TFDS dataset could not be downloaded or found in `data_dir`."""


def _unavailable(dataset, data_dir, offline_tasks, error):
    return DatasetUnavailableError(
        f"Could not load the TFDS dataset {dataset!r} from data_dir={data_dir!r}: it is "
        f"not prepared there and preparing it failed ({type(error).__name__}: {error}). "
        f"With no network, pass data_dir= a folder where it is prepared, or use an "
        f"offline task: {', '.join(offline_tasks)}."
    )


def load_split(dataset, split, data_dir=None, offline_tasks=()):
    """`tfds.load(dataset, split=split, data_dir=data_dir)`, with errors a user can act on.

    seqzoo's own datasets (`seqzoo_*`) are generated from installed packages
    on first use. A downloading dataset that cannot be fetched (no network)
    and is not prepared under `data_dir` raises `DatasetUnavailableError`,
    naming the offline tasks. Processes that need the same unprepared
    dataset at once prepare it once: one prepares, the others wait for it.
    """
    try:
        data = prepared_builder(dataset, data_dir).as_dataset(split=split)
    except Exception as error:  # TFDS raises many kinds for a failed download.
        if dataset.startswith(OFFLINE_PREFIX):
            raise  # Nothing to download: the error is the builder's own.
        raise _unavailable(dataset, data_dir, offline_tasks, error) from error
    return without_autotune_thread(data)


def prepared_builder(dataset, data_dir=None):
    """The TFDS builder of `dataset`, prepared under `data_dir` by this process or another one.

    TFDS prepares a dataset in a temporary folder and renames it into place,
    so two processes preparing the same dataset at once both work, and the
    second rename fails. Here the first holds a lock beside the dataset's
    folder while it prepares; the others wait, then read what it prepared.
    """
    builder = tfds_module().builder(dataset, data_dir=data_dir)
    if builder.is_prepared():
        return builder
    with _exclusive(f"{builder.data_dir}.lock"):
        builder = tfds_module().builder(dataset, data_dir=data_dir)  # Read anew: prepared meanwhile, it says so.
        builder.download_and_prepare()
    return builder


@contextlib.contextmanager
def _exclusive(path):
    """Holds an exclusive `flock` on `path` (created if missing), waiting for whoever holds it now."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # Released when the file closes, or when the process dies.
        yield


def without_autotune_thread(dataset):
    """`dataset`, and every pipeline built on it, without tf.data's autotuning thread.

    Freeing an iterator of an autotuned pipeline waits for that thread
    (`RootDataset::Iterator::~Iterator`), and in the test suite, under load,
    the wait lasted up to two minutes (the thread sleeps out its optimization
    period, which grows to 60 s), wherever Python's garbage collector freed an
    old epoch's iterator: in the middle of tracing the next model. Without the
    thread, `map(num_parallel_calls=AUTOTUNE)` runs one call per core and
    `prefetch(AUTOTUNE)` keeps sizing its own buffer.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def dataset_info(dataset, data_dir=None, offline_tasks=()):
    """The `tfds.core.DatasetInfo` of a dataset (its features, class names)."""
    try:
        return tfds_module().builder(dataset, data_dir=data_dir).info
    except Exception as error:
        raise _unavailable(dataset, data_dir, offline_tasks, error) from error


def with_config(task, dataset, config):
    """The TFDS name of `dataset` with the builder config `config`.

    Args:
        task: the task's name, for the message.
        dataset: a TFDS name, with or without a config, e.g. `"seqzoo_chorales"`.
        config: one of the dataset's builder configs, e.g. `"small"`.

    Returns:
        E.g. `"seqzoo_chorales/small"`.

    Example:

    >>> with_config("chorales", "seqzoo_chorales", "small")
    'seqzoo_chorales/small'
    """
    base = dataset.split("/")[0]
    configs = tfds_module().builder_cls(base).builder_configs
    if not configs:
        raise ValueError(f"Task {task!r}: the dataset {base!r} has no configs; received config={config!r}.")
    return f"{base}/{choice(task, 'config', config, configs)}"
