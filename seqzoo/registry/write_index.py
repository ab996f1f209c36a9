"""Writes `zoo_configs/index.json` (see `seqzoo.registry.index`) from the named configs, resolved live.

Run it whenever a named config, or the schema's defaults, change:

    python -m seqzoo.registry.write_index

A test compares the shipped index with `live_index()`, so a forgotten run
fails CI rather than printing stale numbers (an edited file is never read
from the index: its hash no longer matches).
"""

import json

from seqzoo import atomic
from seqzoo.registry.build import resolve_config
from seqzoo.registry.index import file_sha256
from seqzoo.registry.index import index_path
from seqzoo.registry.memory import parameter_count
from seqzoo.registry.overrides import dotted_keys
from seqzoo.registry.schema import SECTIONS
from seqzoo.registry.schema import TOP_LEVEL
from seqzoo.registry.sources import config_dir
from seqzoo.registry.sources import list_models


def live_index():
    """The index computed now: every named model's file hash, resolved config and parameter count.

    Returns:
        `{"models": {name: {"sha256", "config", "parameters"}}, "override_keys": [...],
        "override_fields": {dotted key: Field.spec()}}`.

    Example:

    >>> live_index()["models"]["gru_char_lm"]["parameters"]
    241216
    """
    models = {}
    for name in list_models():
        config = resolve_config(name)
        models[name] = {
            "sha256": file_sha256(config_dir() / f"{name}.yaml"),
            "config": config,
            "parameters": parameter_count(config),
        }
    fields = {f"{section}.{key}": field.spec() for section, keys in SECTIONS.items() for key, field in keys.items()}
    return {"models": models, "override_keys": [*TOP_LEVEL, *dotted_keys()], "override_fields": fields}


def main():
    """Writes the live index to `index_path()` and prints where."""
    path = index_path()
    atomic.write_text(path, json.dumps(live_index(), indent=1) + "\n")
    print(path)


if __name__ == "__main__":
    main()
