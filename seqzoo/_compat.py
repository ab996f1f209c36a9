"""Every private Keras, keras-tuner and TensorFlow API seqzoo uses, in one place, checked against known versions.

seqzoo reaches into `keras.src`, `keras_tuner.src` and `tensorflow.python`
only through this module. Each use names what it is for; `check_versions()`
(run by the tests) says whether the installed versions lie in the ranges
pyproject.toml allows, which are the ranges the tests cover. Keras imports
stay at the top (the model core needs them on every backend); keras-tuner's
and TensorFlow's are imported inside the functions that use them, so
importing a model never imports a tuner, nor TensorFlow on another backend.
"""

import contextlib
import functools
import importlib.metadata
import weakref

import keras
from packaging.version import Version

from seqzoo import atomic

# The ranges pyproject.toml allows, and the tests cover: keep them equal.
KERAS_VERSIONS = ("3.10", "3.16")  # [low, high)
KERAS_TUNER_VERSIONS = ("1.4.7", "1.5")
TENSORFLOW_VERSIONS = ("2.16", "2.22")

# -- Keras -------------------------------------------------------------------

# The backends' loop over time steps (`keras.layers.RNN`'s) and their whole-sequence
# LSTM and GRU (cuDNN where a backend has one), the ones `keras.layers.LSTM` and `GRU`
# try first; none is exported under `keras.ops`.
from keras.src.backend import gru as backend_gru  # noqa: E402
from keras.src.backend import lstm as backend_lstm  # noqa: E402
from keras.src.backend import rnn as backend_rnn  # noqa: E402

# Keras's `RNN` layer caches one dropout mask per sequence only for cells that
# are instances of this mixin; it is not exported under `keras.layers`.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell  # noqa: E402

__all__ = [
    "DropoutRNNCell",
    "average_scalar_logs_across_workers",
    "backend_gru",
    "backend_lstm",
    "backend_rnn",
    "build_training_state_from_batch",
    "check_versions",
    "graph_owned_custom_gradient",
    "independent_copies",
    "oracle_service",
    "oracle_stub",
    "trial_class",
    "variables_without_values",
    "retry_later",
    "tuner_role",
    "write_tuner_files_atomically",
]


def build_training_state_from_batch(model, batch):
    """Builds a compiled model's metrics and loss from one local batch, and skips Keras's own build.

    Keras 3 builds them at the start of `fit`/`evaluate` from a first batch
    that it averages across all replicas (`strategy.reduce`); with several
    workers that fails, because each worker's batch is its own and bucketed
    sequences give batches of different lengths.
    """
    model._symbolic_build(data_batch=batch)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


def average_scalar_logs_across_workers():
    """Lets Keras 3 average each step's scalar logs (loss, metrics) across workers.

    Keras 3.15's TensorFlow trainer reduces the logs of a multi-worker step
    with `strategy.reduce("MEAN", value, axis=0)`, which fails on a scalar
    ("Invalid reduction dimension 0 for input with 0 dimensions",
    tensorflow/tensorflow#72388). This wraps its `reduce_per_replica` so that
    scalars are averaged over the replicas (`axis=None`); every other case
    goes to Keras's own function unchanged. Installed once, only when a
    multi-worker strategy trains.
    """
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica
    if getattr(original, "seqzoo_scalar_mean", False):
        return

    def local_rank(value, strategy):
        local = strategy.experimental_local_results(value)[0] if trainer._is_per_replica_instance(value) else value
        return getattr(getattr(local, "shape", None), "rank", None)

    def reduce_per_replica(values, strategy, reduction):
        if reduction not in (
            "auto",
            "mean",
        ) or not trainer._collective_all_reduce_multi_worker(strategy):
            return original(values, strategy, reduction)

        def reduce(value):
            if local_rank(value, strategy) == 0:
                return strategy.reduce("MEAN", value, axis=None)
            return original(value, strategy, reduction)

        return tree.map_structure(reduce, values)

    reduce_per_replica.seqzoo_scalar_mean = True
    trainer.reduce_per_replica = reduce_per_replica


@contextlib.contextmanager
def independent_copies():
    """Suspends Keras's object sharing, so that `Bidirectional` copies only the layer it is given.

    While a `.keras` file loads, Keras's `ObjectSharingScope` maps the `id()` of
    every object it serializes to its config, and treats a second object with
    the same `id()` as the first. `Bidirectional.__init__` serializes the layer
    it wraps (and so its cell) to make its forward and backward copies; when
    layers wrapped in a loop are temporaries, a later one can be allocated at a
    freed one's address, and its copies become an earlier layer's (shared
    weights or an error, depending on memory layout, so on `PYTHONHASHSEED`).
    """
    from keras.src.backend.common import global_state

    keys = ("shared_objects/id_to_obj_map", "shared_objects/id_to_config_map")
    saved = [global_state.get_global_attribute(key) for key in keys]
    for key in keys:
        global_state.set_global_attribute(key, None)
    try:
        yield
    finally:
        for key, value in zip(keys, saved):
            global_state.set_global_attribute(key, value)


@contextlib.contextmanager
def variables_without_values():
    """Layers built inside get variables that have a shape and no values, and leave no trace in Keras.

    Keras defers a variable's initialization inside a `StatelessScope`
    (`keras.src.backend.common.variables.register_uninitialized_variable`) and
    initializes every deferred variable when the outermost scope ends. Here
    nothing is initialized: the variables made inside are dropped from Keras's
    list of deferred ones, and the counters behind automatic layer names are
    put back, so a model built inside only measures (`count_params()`) and the
    next real model is named as if it had never been built.
    """
    import collections

    from keras.src.backend.common import global_state

    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    uids = collections.defaultdict(int, global_state.get_global_attribute("object_name_uids") or {})
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)
        global_state.set_global_attribute("object_name_uids", uids)


def _in_range(version, bounds):
    low, high = bounds
    return Version(low) <= Version(version) < Version(high)


def check_versions():
    """The installed Keras, TensorFlow and keras-tuner versions outside the tested ranges, as messages."""
    problems = []
    if not _in_range(keras.__version__, KERAS_VERSIONS):
        problems.append(f"keras {keras.__version__} is outside the tested range {KERAS_VERSIONS}")
    tensorflow = importlib.metadata.version("tensorflow")
    if not _in_range(tensorflow, TENSORFLOW_VERSIONS):
        problems.append(f"tensorflow {tensorflow} is outside the tested range {TENSORFLOW_VERSIONS}")
    try:
        import keras_tuner
    except ImportError:
        return problems
    if not _in_range(keras_tuner.__version__, KERAS_TUNER_VERSIONS):
        problems.append(f"keras-tuner {keras_tuner.__version__} is outside the tested range {KERAS_TUNER_VERSIONS}")
    return problems


# -- TensorFlow (imported inside each function) --------------------------------


_GRAPH_GRADIENTS = "seqzoo_custom_gradients"


def graph_owned_custom_gradient(function):
    """`tf.custom_gradient(function)`, whose gradient, registered while a graph is traced, lives as long as the graph.

    While a `tf.function` is traced, every call of a `tf.custom_gradient`
    function registers its gradient in TensorFlow's process-wide registry
    (`ops._gradient_registry`) under a new name, `CustomGradient-<uid>`, and
    nothing ever removes it; the entry's closures hold the traced tensors, so
    every graph that called the function stayed in memory for the life of the
    process (tensorflow/tensorflow#27492, #97697): some 20,000 Python objects
    per traced training step, and a garbage collector that grew ever slower.
    Here, after each call in a graph, the gradient moves onto the graph
    itself, and the registry keeps a lookup that holds the graph weakly and
    is removed when the graph is freed. Eager calls register nothing.
    """
    import tensorflow as tf

    differentiable = tf.custom_gradient(function)

    @functools.wraps(function)
    def call(*args):
        result = differentiable(*args)
        if not tf.executing_eagerly():
            _owned_by_its_graph(tf.nest.flatten(result)[0])
        return result

    return call


def _owned_by_its_graph(tensor):
    """Moves the registered gradient of the `tf.custom_gradient` result `tensor` onto `tensor`'s graph."""
    from tensorflow.python.framework import ops

    graph = tensor.graph
    name = tensor.op.get_attr("_gradient_op_type").decode()
    registry = ops._gradient_registry._registry
    entry = registry[name]
    # A graph's collections live as long as the graph.
    graph.add_to_collection(_GRAPH_GRADIENTS, (name, entry["type"]))
    owner = weakref.ref(graph)

    def gradient(op, *output_gradients):
        function = dict(owner().get_collection(_GRAPH_GRADIENTS))[name]
        return function(op, *output_gradients)

    registry[name] = {**entry, "type": gradient}
    weakref.finalize(graph, registry.pop, name, None)


# -- keras-tuner (imported inside each function) -------------------------------


def tuner_role():
    """`"chief"`, `"worker"` or `None`, from keras-tuner's `KERASTUNER_*` variables (its own reading of them)."""
    from keras_tuner.src.distribute import utils

    if not utils.has_chief_oracle():
        return None
    return "chief" if utils.is_chief_oracle() else "worker"


def write_tuner_files_atomically():
    """Makes keras-tuner write its JSON files (`trial.json`, `oracle.json`, `<tuner id>.json`) atomically.

    keras-tuner 1.4's `utils.save_json` opens the target and writes in place,
    so a process killed mid-write leaves a truncated file that no later run
    can reload. Local paths are written to a temporary file and renamed over
    the target instead; other paths (`gs://`) go to keras-tuner's own function.
    Installed once per process.
    """
    import json

    from keras_tuner.src import utils

    original = utils.save_json
    if getattr(original, "seqzoo_atomic", False):
        return

    def save_json(path, obj):
        if "://" in str(path):
            return original(path, obj)
        text = json.dumps(obj)
        atomic.write_text(str(path), text)
        return text

    save_json.seqzoo_atomic = True
    utils.save_json = save_json


def trial_class():
    """keras-tuner's `Trial` class and its `TrialStatus` names (under `keras_tuner.engine`, not its public API)."""
    from keras_tuner.engine import trial

    return trial.Trial, trial.TrialStatus


def oracle_service():
    """keras-tuner's gRPC pieces for a chief: `(servicer class, protos service, protos grpc module, exit_chief)`."""
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    return (
        oracle_chief.OracleServicer,
        protos.get_service(),
        protos.get_service_grpc(),
        oracle_chief.exit_chief,
    )


def retry_later(oracle, trial_id):
    """Puts `trial_id` on the oracle's queue of trials to run again (its private `_retry_queue`)."""
    oracle._retry_queue.append(trial_id)


def oracle_stub(oracle):
    """The gRPC stub of a worker's `OracleClient` (the chief's oracle, remote); `None` for any other oracle."""
    return getattr(oracle, "stub", None) if type(oracle).__name__ == "OracleClient" else None
