"""Where configs come from: a registered name, a YAML file's path, or a dict. Imports no Keras."""

import fnmatch
import os
import re
from pathlib import Path

import yaml

from seqzoo.errors import InputError
from seqzoo.errors import one_line
from seqzoo.errors import unknown_name_error
from seqzoo.reading import read_utf8
from seqzoo.registry.plain_data import MAX_FILE_BYTES
from seqzoo.registry.plain_data import plain_config

YAML_SUFFIXES = (".yaml", ".yml")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading floats as YAML 1.2 and people do: `1e-3` is 0.001, not a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def load_yaml(text):
    """A YAML document as Python values, with `1e-3` read as a float."""
    return yaml.load(text, Loader=_Loader)


def parse_value(text):
    """A value as a user writes it on the command line (`64`, `1e-3`, `true`, `lstm`, `[1, 2]`).

    Raises:
        InputError: for text that is not valid YAML.
    """
    if not text.strip():
        return text
    try:
        return load_yaml(text)
    except (yaml.YAMLError, RecursionError) as error:
        problem = getattr(error, "problem", None) or "nested too deeply to read"
        raise InputError(f"{text!r:.80} is not a valid YAML value ({one_line(problem)}).") from error


def config_dir():
    """The folder of the named configs: inside the installed package, or the checkout's."""
    packaged = Path(__file__).parent.parent / "zoo_configs"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent.parent / "zoo_configs"


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


def is_path(source):
    """Whether a model source names a YAML file rather than a registered model."""
    return isinstance(source, (str, os.PathLike)) and str(source).endswith(YAML_SUFFIXES)


def model_label(source):
    """What a run records as its model: the name, a YAML file's absolute path, or a model's name."""
    if isinstance(source, dict):
        return "config"
    if is_path(source):
        return os.path.abspath(source)
    return source if isinstance(source, str) else getattr(source, "name", type(source).__name__)


def check_source(source):
    """Raises a `ValueError` for an unknown name or a missing YAML file; reads nothing else."""
    if isinstance(source, dict):
        return
    if is_path(source):
        if not os.path.isfile(source):
            raise ValueError(f"Received the model config {os.fspath(source)!r}, which is not a file.")
        return
    if not isinstance(source, str):
        raise ValueError(f"Received a {type(source).__name__} as a model; give a name, a YAML path or a dict.")
    if source not in list_models():
        raise unknown_name_error("model", source, list_models())


def read_config(source):
    """A config as written: a registered name's YAML, a YAML file, or a copy of a dict.

    Returns:
        `(config, where)`: the dict, and what to call it in errors (the
        name or the file).
    """
    check_source(source)
    if isinstance(source, dict):
        return plain_config(source, "the config dict"), "the config dict"
    path = Path(source) if is_path(source) else config_dir() / f"{source}.yaml"
    where = os.fspath(source)
    config = plain_config(read_yaml(path, where), where)
    if not isinstance(config, dict):
        raise InputError(f"{where} must hold a mapping; found {type(config).__name__}.")
    return config, where


def read_yaml(path, where):
    """The YAML document in file `path`, read as UTF-8; every failure is an `InputError` naming the file.

    Files over `MAX_FILE_BYTES` are refused unread. The values may still share
    parts through aliases: `plain_config` measures and expands them.
    """
    text = read_utf8(path, MAX_FILE_BYTES)
    try:
        return load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        place = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"{where}: not valid YAML: {one_line(error.problem or error.context)}{place}.") from error
    except yaml.YAMLError as error:
        raise InputError(f"{where}: not valid YAML: {one_line(error)}.") from error
    except RecursionError as error:
        raise InputError(f"{where}: not valid YAML: nested too deeply to read.") from error
