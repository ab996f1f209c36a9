"""The index of the named models: each one's resolved config and parameter count, read without Keras.

Like the metadata keras-hub ships with a preset, `zoo_configs/index.json`
holds, for every YAML file in the config folder, its resolved config, its
parameter count and the sha256 of the file it came from, so `seqzoo list`
and `seqzoo show NAME` answer without loading TensorFlow. An entry counts
only while its file's hash matches: a file edited since the index was
written, or a folder without an index, is resolved live (which loads Keras),
so a stale index never gives wrong numbers. `python -m
seqzoo.registry.write_index` writes it again after a config changes; a test
checks that the shipped index equals the live resolution.

Also held: the keys a `--set` override may name and what each dotted key's
values must be, so the command line checks them before TensorFlow loads.
Imports no Keras.
"""

import hashlib
import json

from seqzoo.errors import unknown_name_error
from seqzoo.registry.fields import Field
from seqzoo.registry.sources import config_dir
from seqzoo.registry.sources import list_models

INDEX_FILE = "index.json"


def index_path():
    """Where the index is: `index.json` in the named configs' folder."""
    return config_dir() / INDEX_FILE


def file_sha256(path):
    """The sha256 of a file's bytes, as hex."""
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def read_index():
    """The index as written (`{"models": {...}, "override_keys": [...]}`), or `None` where there is none."""
    try:
        with open(index_path(), encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        return None


def indexed(name):
    """A named model's index entry, or `None` where the index cannot vouch for it.

    Args:
        name: a model source (a name, a YAML path, a dict); only a
            registered name has an entry.

    Returns:
        `{"sha256": ..., "config": the resolved config, "parameters": n}`
        when the index holds `name` and its YAML file's hash is the one
        recorded; else `None` (not a registered name, no index, or a file
        edited since the index was written).

    Example:

    >>> indexed("gru_char_lm")["parameters"]
    241216
    """
    if not isinstance(name, str) or name not in list_models():
        return None
    entry = ((read_index() or {}).get("models") or {}).get(name)
    if entry is None or entry.get("sha256") != file_sha256(config_dir() / f"{name}.yaml"):
        return None
    return entry


def check_override(key, value):
    """Raises a `ValueError` for an override the index says is wrong: an unknown key (with the closest), a bad value.

    Nothing is checked where there is no index: the library checks the
    override again when it applies it.

    Example:

    >>> check_override("backbone.units", "abc")
    ValueError: Received backbone.units='abc'; expected int.
    """
    index = read_index() or {}
    keys = index.get("override_keys")
    if keys and key not in keys:
        raise unknown_name_error("override", key, keys)
    spec = (index.get("override_fields") or {}).get(key)
    if spec is not None:
        Field.from_spec(spec).check(key, value)
