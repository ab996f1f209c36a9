"""The `seqzoo` command's argument types: each checks its value before anything is imported or written."""

import argparse
import os

from seqzoo.errors import unknown_name_error
from seqzoo.presets import sources as presets
from seqzoo.registry import index
from seqzoo.registry import sources
from seqzoo.runs.layout import RECORD
from seqzoo.tasks import catalog
from seqzoo.training import options as training


def count(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, received {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, received {value}")
        return value

    parse.__name__ = "count"
    return parse


def _checked(check, name):
    """An argument type that runs a library check (which raises `ValueError`) and keeps the text."""

    def parse(text):
        try:
            check(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return text

    parse.__name__ = name
    return parse


model = _checked(sources.read_config, "model")  # A registered name, or a YAML file of plain data.
folder = _checked(training.check_data_dir, "folder")  # A data folder: a folder, or nothing there yet.
run = _checked(presets.check_reference, "run")  # A run folder, or preset:NAME / preset:PATH.
task = _checked(catalog.check_task, "task")  # A catalog name, tfds:NAME, or csv:/folder: a path that is there.


def is_run(text):
    """Whether `text` names a run (`preset:...`, or a folder with a run record) rather than a model."""
    return presets.is_preset(text) or os.path.isfile(os.path.join(text, RECORD))


def names_run(text):
    """Whether `text` names a run: `is_run`, or a path that is no YAML file (a model's name has no slash)."""
    return is_run(text) or (("/" in text or os.sep in text) and not sources.is_path(text))


def model_or_run(text):
    """`seqzoo show`'s argument: a run folder or `preset:...` reference, else a model name or YAML file."""
    return run(text) if names_run(text) else model(text)


class KeyValues(argparse.Action):
    """`--set backbone.units=64` (repeatable) -> `{"backbone.units": 64}`, values read as YAML (`1e-3` a float).

    A subclass's `check(key, value)` (if not `None`) refuses a pair it knows to be wrong.
    """

    check = None

    def __call__(self, parser, namespace, text, option_string=None):
        key, separator, value = text.partition("=")
        if not separator or not key:
            parser.error(
                f"argument {option_string}: expected KEY=VALUE, e.g. {self.metavar_example}; received {text!r}"
            )
        values = dict(getattr(namespace, self.dest) or {})
        if key in values:
            parser.error(f"argument {option_string}: {key} is given twice")
        try:
            values[key] = sources.parse_value(value)
        except ValueError as error:
            parser.error(f"argument {option_string}: {key}={error}")
        if self.check is not None:
            try:
                self.check(key, values[key])
            except ValueError as error:
                parser.error(f"argument {option_string}: {error}")
        setattr(namespace, self.dest, values)


def key_values(example, check=None):
    """A `KeyValues` action whose usage error shows `example` and whose pairs `check(key, value)` checks."""
    return type("KeyValues", (KeyValues,), {"metavar_example": example, "check": staticmethod(check)})


overrides = key_values("backbone.units=64", index.check_override)  # `--set`: keys and values the index knows.


def choice(what, names):
    """An argument that must be one of `names`; a typo gets the closest names."""

    def parse(text):
        if text not in names:
            raise argparse.ArgumentTypeError(str(unknown_name_error(what, text, names)))
        return text

    parse.__name__ = what
    return parse


def input_file(text):
    """`seqzoo predict --input FILE`: an existing file."""
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    return text
