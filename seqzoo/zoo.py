"""The registry of named models: zoo_configs/*.yaml -> compiled Keras models."""

import copy
import fnmatch
from pathlib import Path

import keras
import yaml

from seqzoo.architectures import TOPOLOGIES
from seqzoo.architectures.heads import loss_and_metrics
from seqzoo.config import NEEDS
from seqzoo.config import SECTIONS
from seqzoo.config import TOKEN_TYPES
from seqzoo.config import TOP_LEVEL
from seqzoo.config import resolve
from seqzoo.errors import unknown_name_error

DEFAULT_EMBEDDING_DIM = 64


def config_dir():
    """The folder of the named configs: inside the installed package, or the checkout's."""
    packaged = Path(__file__).parent / "zoo_configs"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "zoo_configs"


def list_models(pattern=None):
    """The names of the registered models, sorted, optionally filtered.

    Args:
        pattern: an `fnmatch` pattern such as `"lstm_*"`.

    Example:

    >>> seqzoo.list_models("lstm_bi*")
    ['lstm_bi', 'lstm_bi_deep', ...]
    """
    names = sorted(path.stem for path in config_dir().glob("*.yaml"))
    return [name for name in names if pattern is None or fnmatch.fnmatch(name, pattern)]


def read_config(name):
    """The named config exactly as written in its YAML file."""
    path = config_dir() / f"{name}.yaml"
    if not path.is_file():
        raise unknown_name_error("model", name, list_models())
    with open(path) as file:
        config = yaml.safe_load(file)
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a mapping; found {type(config).__name__}.")
    return config


def apply_overrides(config, overrides):
    """Returns `config` with overrides applied.

    Args:
        config: a config dict.
        overrides: `{"topology": ...}`, whole sections merged key by key
            (`{"backbone": {"units": 64}}`), or dotted paths
            (`{"backbone.units": 64}`).
    """
    config = copy.deepcopy(config)
    for key, value in overrides.items():
        section, _, field = key.partition(".")
        if section not in TOP_LEVEL:
            raise unknown_name_error("override", key, TOP_LEVEL + tuple(
                f"{s}.{k}" for s, fields in SECTIONS.items() for k in fields
            ))
        if field:
            if section not in SECTIONS or field not in SECTIONS[section]:
                raise unknown_name_error(
                    "override", key, [f"{s}.{k}" for s, fields in SECTIONS.items() for k in fields]
                )
            config.setdefault(section, {})[field] = value
        elif section in SECTIONS and isinstance(value, dict):
            config[section] = merge_section(config, section, value)
        else:
            config[section] = value
    return config


def fit_to_task(config, model_spec):
    """Fits a config's topology, inputs and head to a task.

    Args:
        config: a config dict.
        model_spec: what the task needs: `topology` and the sections that
            describe its data (`inputs`, `outputs`, `condition`, `targets`).
            A section of the same `type` as the config's keeps the config's
            other keys (e.g. `embedding_dim`); one of another type replaces it.
    """
    config = copy.deepcopy(config)
    for key, value in model_spec.items():
        config[key] = merge_section(config, key, value, keep_token_type=True)
    return config


def merge_section(config, key, value, keep_token_type=False):
    """`value` merged over `config[key]`, key by key.

    When the `type` changes, the old keys that the new type does not use are
    dropped, so that none lingers in the resolved config (`inputs: {type:
    features, dim: 3}` over token inputs drops `vocab_size`; `{type: one_hot}`
    keeps `vocab_size` and drops `embedding_dim`). With `keep_token_type`,
    token ids and one-hot vectors count as one type and the config's choice
    between them is kept (a task says how many tokens there are, the model
    how to read them).
    """
    if not isinstance(value, dict) or key not in SECTIONS:
        return value
    current = config.get(key) or {}
    old, new = current.get("type"), value.get("type", current.get("type"))
    if keep_token_type and {old, new} <= set(TOKEN_TYPES):
        new = old
    merged = {**current, **value, **({"type": new} if new else {})}
    if old != new:
        used = {"type", "max_length", *NEEDS.get(new, ()), *value}
        merged = {k: v for k, v in merged.items() if k in used}
    if merged.get("type") == "tokens":
        default_dim = (config.get("inputs") or {}).get("embedding_dim", DEFAULT_EMBEDDING_DIM)
        merged.setdefault("embedding_dim", default_dim)
    return merged


def get_config(name, task=None, **overrides):
    """The resolved config of a named model, fitted to `task`, with overrides.

    Args:
        name: a name from `list_models()`.
        task: optional task name or `seqzoo.tasks.Task`.
        **overrides: see `apply_overrides`.
    """
    config = read_config(name)
    if task is not None:
        config = fit_to_task(config, _load_task(task).model_spec())
    config = apply_overrides(config, overrides)
    return resolve(config, name)


def _load_task(task):
    from seqzoo import tasks

    return tasks.load_task(task) if isinstance(task, str) else task


def build(name, task=None, **overrides):
    """Builds a named model, compiled and ready to `fit`.

    Args:
        name: a name from `list_models()`, e.g. `"lstm_bi_deep"`.
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
    config = get_config(name, task, **overrides)
    return build_from_config(config, name=name)


def build_from_config(config, name="seqzoo_model"):
    """Builds and compiles a model from a resolved config."""
    sections = {key: value for key, value in config.items() if key not in ("description", "topology", "optimizer", "search")}
    model = TOPOLOGIES[config["topology"]](**sections, name=name)
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
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
