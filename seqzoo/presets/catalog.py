"""The presets as users see them: `list_presets()`, and `open_run` for a run folder or `preset:` reference."""

import dataclasses
import os

from seqzoo import atomic
from seqzoo.presets import sources
from seqzoo.runs.folder import RunFolder

DESCRIPTION = "preset.json"  # beside the run's own files: what the preset is for, its headline metric and bar


@dataclasses.dataclass(frozen=True)
class Preset:
    """A shipped preset: a finished run folder and what it is for.

    Attributes:
        name: what `preset:NAME` names.
        path: its run folder.
        description: one line on what it does.
        task: the task it was trained on.
        model: the named model it was built from.
        metric: its headline test metric's name, and `value` that metric.
        bar: the quality bar it clears, e.g. `">= 0.97"`.
    """

    name: str
    path: str
    description: str
    task: str
    model: str
    metric: str
    value: float
    bar: str


def open_run(reference):
    """The finished `RunFolder` of a run folder path or a `preset:NAME` reference.

    Args:
        reference: a run folder, or `preset:NAME` (a shipped preset; see
            `list_presets()`), or `preset:PATH` (a run folder or a `.zip`,
            `.tar.gz`, `.tgz` or `.tar` archive of one, unpacked once into
            `$SEQZOO_CACHE`).

    Example:

    >>> model = seqzoo.presets.open_run("preset:names").load_model()
    """
    reference = os.fspath(reference)
    path = sources.fetch(reference) if sources.is_preset(reference) else reference
    return RunFolder(path).check_finished()


def get_preset(name):
    """The shipped `Preset` called `name` (closest names in the error for a typo)."""
    run = RunFolder(sources.ShippedPresets().fetch(name)).check_finished()
    about = atomic.read_json(run.file(DESCRIPTION))
    record = run.record
    bar = f"<= {about['at_most']}" if "at_most" in about else f">= {about['at_least']}"
    return Preset(
        name=name,
        path=run.path,
        description=about["description"],
        task=record["task"],
        model=record["model"],
        metric=about["metric"],
        value=run.metrics()[about["metric"]],
        bar=bar,
    )


def list_presets():
    """Every shipped `Preset`, by name.

    Example:

    >>> [preset.name for preset in seqzoo.list_presets()]
    ['chorales', 'chorales_harmony', 'dates', 'japanese_vowels', 'names', 'names_by_gender']
    """
    return [get_preset(name) for name in sources.ShippedPresets().names()]
