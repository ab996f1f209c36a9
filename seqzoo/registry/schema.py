"""The schema of a named model config: sections, their keys, defaults and checks."""

import copy
import inspect

from seqzoo import cells
from seqzoo.architectures import TOPOLOGIES
from seqzoo.architectures.encoder_decoder import ATTENTION_TYPES
from seqzoo.architectures.encoders import INPUT_TYPES
from seqzoo.architectures.heads import OUTPUT_TYPES
from seqzoo.architectures.one_to_many import CONDITION_TYPES
from seqzoo.errors import InputError
from seqzoo.errors import unknown_name_error
from seqzoo.layers import MERGE_MODES
from seqzoo.registry.fields import REQUIRED
from seqzoo.registry.fields import Field
from seqzoo.registry.plain_data import plain_config

OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")
TOKEN_TYPES = ("tokens", "one_hot")
UNIDIRECTIONAL_TOPOLOGIES = ("language_model", "one_to_many")


SECTIONS = {
    "backbone": {
        "cell": Field(str, choices=tuple(cells.CELLS)),
        "units": Field(int, minimum=1),
        "depth": Field(int, 1, minimum=1),
        "bidirectional": Field(bool, False),
        "merge_mode": Field(str, "concat", choices=MERGE_MODES),
        "residual": Field(bool, False),
        "dropout": Field(float, 0.0, minimum=0.0, below=1.0),
        "recurrent_dropout": Field(float, 0.0, minimum=0.0, below=1.0),
        "cell_options": Field(dict, {}),
    },
    "inputs": {
        "type": Field(str, choices=INPUT_TYPES),
        "vocab_size": Field(int, None, minimum=2),
        "embedding_dim": Field(int, None, minimum=1),
        "dim": Field(int, None, minimum=1),
        "max_length": Field(int, None, minimum=1),
    },
    "outputs": {
        "type": Field(str, choices=OUTPUT_TYPES),
        "size": Field(int, None, minimum=1),
    },
    "condition": {
        "type": Field(str, choices=CONDITION_TYPES),
        "size": Field(int, None, minimum=1),
        "dim": Field(int, None, minimum=1),
    },
    "targets": {
        "type": Field(str, choices=TOKEN_TYPES),
        "vocab_size": Field(int, minimum=2),
        "embedding_dim": Field(int, None, minimum=1),
        "max_length": Field(int, None, minimum=1),
    },
    "decoder": {
        "bidirectional": Field(bool, None),
        "dropout": Field(float, None, minimum=0.0, below=1.0),
        "recurrent_dropout": Field(float, None, minimum=0.0, below=1.0),
        "residual": Field(bool, None),
        "cell_options": Field(dict, None),
    },
    "optimizer": {
        "name": Field(str, "adam", choices=OPTIMIZERS),
        "learning_rate": Field(float, 1e-3, minimum=1e-12),
        "clipnorm": Field(float, 1.0, minimum=1e-12, nullable=True),
        "clipvalue": Field(float, None, minimum=1e-12),
    },
}
# What each type of input, output or condition needs besides its type.
NEEDS = {
    "tokens": ("vocab_size", "embedding_dim"),
    "one_hot": ("vocab_size",),
    "features": ("dim",),
    "classes": ("size",),
    "regression": ("size",),
    "binary": (),
}
TOP_LEVEL = ("description", "topology", "attention", "search") + tuple(SECTIONS)


def topology_sections(topology):
    """The config sections that a topology's factory takes, e.g. `backbone`, `inputs`."""
    return [name for name in inspect.signature(TOPOLOGIES[topology]).parameters if name != "name"]


def resolve(config, name="config"):
    """Validates a config and fills in defaults; returns a new dict.

    Args:
        config: the config as read from YAML, overrides applied.
        name: what to call it in error messages.

    Returns:
        The resolved config: only the sections its topology uses (plus
        `description`, `optimizer` and `search`), every default written out.
    """
    config = plain_config(config, name)
    for key in config:
        if key not in TOP_LEVEL:
            raise unknown_name_error(f"key in {name}", key, TOP_LEVEL)
    topology = config.get("topology", "many_to_one")
    if not isinstance(topology, str) or topology not in TOPOLOGIES:
        raise unknown_name_error(f"topology in {name}", topology, TOPOLOGIES)
    used = topology_sections(topology)
    description = config.get("description", "")
    if not isinstance(description, str):
        raise InputError(f"{name}: description must be a string; received a {type(description).__name__}.")
    resolved = {"description": description, "topology": topology}
    for section in used + ["optimizer"]:
        if section == "attention":
            value = config.get("attention")
            if value is not None and value not in ATTENTION_TYPES:
                raise unknown_name_error(f"attention in {name}", value, ATTENTION_TYPES)
            resolved["attention"] = value
            continue
        resolved[section] = resolve_section(section, config.get(section), name, topology)
    backbone = resolved["backbone"]
    if backbone["bidirectional"] and topology in UNIDIRECTIONAL_TOPOLOGIES:
        raise ValueError(
            f"{name}: a {topology} model generates one token after another, so its "
            f"backbone cannot be bidirectional (received backbone.bidirectional=True)."
        )
    if (resolved.get("decoder") or {}).get("bidirectional"):
        raise ValueError(
            f"{name}: a decoder writes its output left to right, so it cannot be "
            f"bidirectional (received decoder.bidirectional=True); make the encoder "
            f"(backbone.bidirectional) bidirectional instead."
        )
    check_cell_options(backbone, name, (resolved.get("decoder") or {}).get("recurrent_dropout"))
    optimizer = resolved["optimizer"]
    if optimizer["clipnorm"] is not None and optimizer["clipvalue"] is not None:
        raise ValueError(
            f"{name}: received optimizer.clipnorm={optimizer['clipnorm']!r} and "
            f"optimizer.clipvalue={optimizer['clipvalue']!r}; set only one of them "
            f"(clipnorm: null to clip by value)."
        )
    resolved["search"] = config.get("search") or {}
    if not isinstance(resolved["search"], dict):
        raise InputError(
            f"{name}: search must be a mapping of keys to ranges; received a {type(config['search']).__name__}."
        )
    check_search(resolved, name)
    if "backbone.recurrent_dropout" in resolved["search"] and not cells.get(backbone["cell"]).has_recurrent_kernel:
        raise ValueError(
            f"{name}: search.backbone.recurrent_dropout does not apply to the {backbone['cell']} cell, "
            "which has no recurrent kernel (its gates read x<t> only)."
        )
    return resolved


SEARCH_KINDS = ("choice", "int", "float", "bool")


def check_search(resolved, name):
    """Checks that each searched key exists and each range is well formed.

    A search entry maps a dotted key (`backbone.units`, or `attention`) to
    one of `{choice: [...]}`, `{int: [low, high], step: s}`,
    `{float: [low, high], sampling: linear|log}` or `{bool: true}`.
    """
    known = ["attention"] if "attention" in resolved else []
    known += [f"{s}.{k}" for s in SECTIONS if isinstance(resolved.get(s), dict) for k in SECTIONS[s]]
    for key, spec in resolved["search"].items():
        if key not in known:
            raise unknown_name_error(f"search key in {name}", key, known)
        kinds = [kind for kind in SEARCH_KINDS if isinstance(spec, dict) and kind in spec]
        if len(kinds) != 1:
            raise ValueError(
                f"{name}: search.{key} must have exactly one of {', '.join(SEARCH_KINDS)}; received {spec!r}."
            )
        kind, values = kinds[0], spec[kinds[0]]
        if kind == "choice" and (not isinstance(values, list) or not values):
            raise ValueError(f"{name}: search.{key} choice must be a non-empty list; received {values!r}.")
        if kind in ("int", "float"):
            numbers = isinstance(values, list) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
            )
            if not (numbers and len(values) == 2 and values[0] < values[1]):
                raise ValueError(
                    f"{name}: search.{key} {kind} range must be [low, high] with low < high; received {values!r}."
                )
            if spec.get("sampling", "linear") not in ("linear", "log"):
                raise ValueError(f"{name}: search.{key} sampling must be linear or log.")
            if spec.get("sampling") == "log" and values[0] <= 0:
                raise ValueError(f"{name}: search.{key} log sampling needs low > 0; received {values!r}.")
        check_search_values(key, kind, values, name)


def check_search_values(key, kind, values, name):
    """Checks that every value a search entry can give is a valid value of its key."""
    if key == "attention":
        if kind != "choice":
            raise ValueError(f"{name}: search.attention must be a choice; received {kind}.")
        for value in values:
            if value is not None and value not in ATTENTION_TYPES:
                raise unknown_name_error(f"value in {name}'s search.attention", value, ATTENTION_TYPES)
        return
    section, _, field_name = key.partition(".")
    field = SECTIONS[section][field_name]
    if kind == "choice":
        samples = values
    elif kind == "bool":
        samples = [True, False]
    else:
        samples = values
        if kind == "float" and field.kind is not float or kind == "int" and field.kind not in (int, float):
            raise ValueError(
                f"{name}: search.{key} is {kind} range, but {key} takes "
                f"{getattr(field.kind, '__name__', field.kind)} values."
            )
    for value in samples:
        field.check(f"search.{key}", value)


def check_cell_options(backbone, name, decoder_recurrent_dropout=None):
    """Checks `backbone.cell_options` by name, then by building the cell with each recurrent dropout rate."""
    cell_class = cells.get(backbone["cell"])
    allowed = set()
    for klass in cell_class.__mro__:
        if "__init__" in vars(klass):
            allowed |= set(inspect.signature(klass.__init__).parameters)
    allowed -= {"self", "args", "kwargs", "units"}
    for key in backbone["cell_options"]:
        if key not in allowed:
            raise unknown_name_error(f"option of the {backbone['cell']} cell in {name}", key, allowed)
    for rate in {backbone["recurrent_dropout"], decoder_recurrent_dropout} - {None}:
        cell_class(backbone["units"], **{"recurrent_dropout": rate, **backbone["cell_options"]})


def resolve_section(section, values, name, topology):
    """Validates one section and fills in its defaults."""
    fields = SECTIONS[section]
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValueError(f"{name}: section {section!r} must be a mapping; received {values!r}.")
    for key in values:
        if key not in fields:
            raise unknown_name_error(f"key in {name}'s {section}", key, fields)
    resolved = {}
    for key, field in fields.items():
        if key in values:
            value = values[key]
        elif field.default is REQUIRED:
            raise ValueError(f"{name}: {section}.{key} is required for a {topology} model.")
        else:
            value = copy.deepcopy(field.default)
        field.check(f"{section}.{key}", value)
        resolved[key] = value
    kind = resolved.get("type")
    for key in NEEDS.get(kind, ()):
        if resolved[key] is None:
            raise ValueError(f"{name}: {section}.{key} is required when {section}.type is {kind!r}.")
    if kind is not None or section == "decoder":
        resolved = {k: v for k, v in resolved.items() if v is not None}
    return resolved
