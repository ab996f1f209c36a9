"""`get_config` and `build`: from a name, a YAML file or a dict to a compiled Keras model."""

import copy
import os

import keras

from seqzoo.architectures.heads import loss_and_metrics
from seqzoo.registry.index import indexed
from seqzoo.registry.memory import architecture
from seqzoo.registry.memory import check_fits_in_memory
from seqzoo.registry.overrides import apply_overrides
from seqzoo.registry.overrides import fit_to_task
from seqzoo.registry.schema import resolve
from seqzoo.registry.sources import model_label
from seqzoo.registry.sources import read_config
from seqzoo.tasks import load_task


def get_config(model, task=None, **overrides):
    """The resolved config of a model, fitted to `task`, with overrides.

    A named model without task and overrides is read from the index of the
    named models (`seqzoo.registry.index`) while its YAML file is the one
    indexed; otherwise the config is resolved (`resolve_config`).

    Args:
        model: a name from `list_models()`, a YAML file's path, or a config dict.
        task: optional task name or `seqzoo.tasks.Task`.
        **overrides: see `apply_overrides`.

    Example:

    >>> seqzoo.get_config("lstm_bi_deep", **{"backbone.units": 64})["backbone"]["units"]
    64
    >>> seqzoo.get_config("my_model.yaml")["topology"]
    'many_to_one'
    """
    entry = indexed(model) if task is None and not overrides else None
    if entry is not None:
        return copy.deepcopy(entry["config"])
    return resolve_config(model, task, **overrides)


def resolve_config(model, task=None, **overrides):
    """`get_config` computed from the YAML file (or dict) and the schema, without the index."""
    config, where = read_config(model)
    if task is not None:
        config = fit_to_task(config, load_task(task).model_spec())
    config = apply_overrides(config, overrides)
    return resolve(config, where)


def build(model, task=None, **overrides):
    """Builds a named model, compiled and ready to `fit`.

    Args:
        model: a name from `list_models()` (e.g. `"lstm_bi_deep"`), a YAML
            file's path, or a config dict.
        task: optional task (name or `Task`) whose inputs and outputs the
            model is fitted to.
        **overrides: config changes, e.g. `topology="many_to_many"`,
            `backbone={"units": 64}` or `**{"backbone.depth": 2}`.

    Returns:
        A compiled `SeqzooModel` whose `seqzoo_config` is the resolved config.

    Example:

    >>> model = seqzoo.build("lstm_bi_deep")
    >>> model.seqzoo_config["backbone"]["depth"]
    3
    """
    config = get_config(model, task, **overrides)
    return build_from_config(config, name=model_name(model))


def build_from_config(config, name="seqzoo_model"):
    """Builds and compiles a model from a resolved config, once its parameters are known to fit in memory."""
    check_fits_in_memory(config, name)
    model = architecture(config, name)
    model.seqzoo_config = config
    compile_model(model, config)
    return model


def compile_model(model, config):
    """Compiles with the config's optimizer (gradient clipping on) and the topology's loss."""
    options = config["optimizer"]
    optimizer_class = type(keras.optimizers.get(options["name"]))
    optimizer = optimizer_class(
        learning_rate=options["learning_rate"],
        clipnorm=options.get("clipnorm"),
        clipvalue=options.get("clipvalue"),
    )
    outputs = config.get("outputs") or {"type": "classes"}
    loss, metrics = loss_and_metrics(outputs)
    model.compile(optimizer=optimizer, loss=loss, weighted_metrics=metrics)  # Filler rows weigh 0.


def model_name(model):
    """The Keras name of a model built from `model`: the registered name or the YAML file's stem."""
    label = model_label(model)
    return "seqzoo_model" if label == "config" else os.path.splitext(os.path.basename(label))[0]
