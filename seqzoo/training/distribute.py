"""Training on several devices or machines, with TensorFlow's `tf.distribute`.

`seqzoo.train(..., strategy="mirrored")` builds and compiles the model inside
`strategy.scope()` (`MirroredStrategy`: one machine's devices;
`MultiWorkerMirroredStrategy`: the machines that `TF_CONFIG` lists). With
several workers only the chief writes the run folder; the others write to a
temporary folder that is deleted when training ends, as TensorFlow advises.
"""

import contextlib
import shutil
import tempfile

import keras

from seqzoo import _compat
from seqzoo.errors import unknown_name_error
from seqzoo.registry.build import build_from_config
from seqzoo.runs.folder import RunFolderError

STRATEGIES = ("mirrored", "multiworker")


# -- tf.distribute for training ----------------------------------------------


def get_strategy(strategy):
    """The `tf.distribute.Strategy` that `strategy` names.

    Args:
        strategy: `None` (no strategy), `"mirrored"` (every GPU of this
            machine, or its CPU), `"multiworker"` (the machines that the
            `TF_CONFIG` environment variable lists) or a
            `tf.distribute.Strategy`.

    Returns:
        A `tf.distribute.Strategy`, or `None`.

    Raises:
        ValueError: for an unknown name, or on a Keras backend other than
            TensorFlow (tf.distribute drives TensorFlow only).
    """
    if strategy is None:
        return None
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"Received strategy={strategy!r}, but tf.distribute strategies need the TensorFlow backend "
            f"and the Keras backend is {keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow, or "
            f"train without a strategy."
        )
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy not in STRATEGIES:
        raise unknown_name_error("strategy", strategy, STRATEGIES)
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as error:
        raise ValueError(
            f"Could not start MultiWorkerMirroredStrategy ({error}). It must be created before TensorFlow runs "
            f"anything: call seqzoo.train(..., strategy='multiworker') first thing in the program, or create "
            f"tf.distribute.MultiWorkerMirroredStrategy() at its start and pass it as strategy=."
        ) from error


def scope(strategy):
    """`strategy.scope()`, or a context that does nothing for `None`."""
    return contextlib.nullcontext() if strategy is None else strategy.scope()


def is_multi_worker(strategy):
    """Whether `strategy` spans several worker processes (a `TF_CONFIG` cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return False
    cluster = resolver.cluster_spec().as_dict()
    return sum(len(tasks) for tasks in cluster.values()) > 1


def is_chief(strategy):
    """Whether this process writes the results: the `chief` task, else worker 0, else the only process."""
    if strategy is None or not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    if "chief" in resolver.cluster_spec().as_dict():
        return resolver.task_type == "chief"
    return resolver.task_type in (None, "worker") and (resolver.task_id or 0) == 0


def worker_folder(folder, strategy):
    """Where this worker writes its run files: `folder` on the chief, a new temporary folder elsewhere."""
    if is_chief(strategy):
        return folder
    resolver = strategy.cluster_resolver
    return tempfile.mkdtemp(prefix=f"seqzoo-{resolver.task_type}{resolver.task_id}-")


def check_can_resume(folder, strategy, started):
    """Refuses to resume an unfinished run (`started`) on several workers.

    Each worker would restore its own backup, and a non-chief worker's files
    are temporary, so the workers would start from different epochs and
    weights and wait on each other forever.
    """
    if started and is_multi_worker(strategy):
        raise RunFolderError(
            f"Run folder {folder!r} holds an unfinished run; a multi-worker run does not resume "
            f"(each worker would restore different state). Choose another out folder."
        )


def remove_worker_folder(folder, work):
    """Deletes a non-chief worker's temporary folder (`work`), once training is over or has failed."""
    if work != folder:
        shutil.rmtree(work, ignore_errors=True)


def shard_by_data(dataset, strategy):
    """Shards `dataset` by element across workers (its batches come from one cached source, not files)."""
    if not is_multi_worker(strategy):
        return dataset
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def prepare_to_fit(model, batches, strategy):
    """Builds the model's metrics and loss in `strategy`'s scope from one local batch.

    Keras 3 (3.15) builds them at the start of `fit`/`evaluate` from a first
    batch that it averages across all replicas (`strategy.reduce`); with
    several workers that fails, because each worker's batch is its own and
    bucketed sequences give batches of different lengths. Built here from
    this worker's own batch, nothing is left for that step to do, so it is
    skipped.
    """
    if strategy is None:
        return
    with strategy.scope():
        _compat.build_training_state_from_batch(model, next(iter(batches)))
    if is_multi_worker(strategy):
        _compat.average_scalar_logs_across_workers()


def barrier(strategy):
    """Waits until every worker gets here (an all-reduce of one number); nothing to wait for otherwise."""
    if not is_multi_worker(strategy):
        return
    import tensorflow as tf

    strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)


def chief_first(strategy, prepare):
    """Runs `prepare` on the chief, then lets every worker go on.

    With several workers sharing a data folder, one process generates a
    dataset that does not exist yet while the others wait, instead of all of
    them writing it at once.
    """
    if is_multi_worker(strategy):
        if is_chief(strategy):
            prepare()
        barrier(strategy)


def rebuild_in_scope(model, strategy):
    """A copy of a seqzoo model whose variables live in `strategy`'s scope, same weights."""
    with scope(strategy):
        copy = build_from_config(model.seqzoo_config, name=model.name)
    copy.set_weights(model.get_weights())
    return copy
