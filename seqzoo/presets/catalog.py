"""The shipped presets as users see them: `list_presets()` and `get_preset(name)`, read without loading Keras."""

import dataclasses
import os

from seqzoo import atomic
from seqzoo.presets import sources
from seqzoo.runs.layout import METRICS
from seqzoo.runs.layout import RECORD

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
        overrides: what it changed of its named model, e.g. `{"backbone.units": 128}`.
    """

    name: str
    path: str
    description: str
    task: str
    model: str
    metric: str
    value: float
    bar: str
    overrides: dict


def get_preset(name):
    """The shipped `Preset` called `name` (closest names in the error for a typo)."""
    path = sources.ShippedPresets().fetch(name)
    about, record, metrics = (atomic.read_json(os.path.join(path, file)) for file in (DESCRIPTION, RECORD, METRICS))
    return Preset(
        name=name,
        path=path,
        description=about["description"],
        task=record["task"],
        model=record["model"],
        metric=about["metric"],
        value=metrics[about["metric"]],
        bar=f"<= {about['at_most']}" if "at_most" in about else f">= {about['at_least']}",
        overrides=record.get("overrides", {}),
    )


def list_presets():
    """Every shipped `Preset`, by name.

    Example:

    >>> [preset.name for preset in seqzoo.list_presets()]
    ['chorales', 'chorales_harmony', 'dates', 'japanese_vowels', 'names', 'names_by_gender', 'names_mingru']
    """
    return [get_preset(name) for name in sources.ShippedPresets().names()]
