"""Overrides and task fitting: dotted keys (`backbone.units`), whole sections, a task's inputs and outputs."""

import copy

from seqzoo.errors import unknown_name_error
from seqzoo.registry.schema import NEEDS
from seqzoo.registry.schema import SECTIONS
from seqzoo.registry.schema import TOKEN_TYPES
from seqzoo.registry.schema import TOP_LEVEL

DEFAULT_EMBEDDING_DIM = 64


def dotted_keys():
    """Every `section.key` an override may set, e.g. `backbone.units`."""
    return [f"{section}.{key}" for section, fields in SECTIONS.items() for key in fields]


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
            raise unknown_name_error("override", key, (*TOP_LEVEL, *dotted_keys()))
        if field:
            if section not in SECTIONS or field not in SECTIONS[section]:
                raise unknown_name_error("override", key, dotted_keys())
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
