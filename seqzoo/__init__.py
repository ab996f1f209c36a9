"""seqzoo: a Keras 3 zoo of recurrent sequence models.

Importing seqzoo is cheap: each public name loads its module (and Keras,
TensorFlow) the first time it is used (PEP 562), so the command line answers
`--help` and argument errors without loading TensorFlow.
"""

from seqzoo._lazy import lazy_exports
from seqzoo._version import __version__

__all__ = [
    "RunFolder",
    "TrainedRun",
    "__version__",
    "architectures",
    "build",
    "cells",
    "evaluate",
    "from_preset",
    "generate",
    "generation",
    "get_config",
    "layers",
    "list_models",
    "list_presets",
    "list_tasks",
    "load",
    "load_task",
    "presets",
    "tasks",
    "train",
    "trained",
    "tune",
    "tuning",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "RunFolder": ("seqzoo.runs.folder", "RunFolder"),
        "TrainedRun": ("seqzoo.trained.run", "TrainedRun"),
        "architectures": ("seqzoo.architectures", None),
        "build": ("seqzoo.registry.build", "build"),
        "cells": ("seqzoo.cells", None),
        "evaluate": ("seqzoo.trained.run", "evaluate"),
        "from_preset": ("seqzoo.trained.run", "from_preset"),
        "generate": ("seqzoo.generation", "generate"),
        "generation": ("seqzoo.generation", None),
        "get_config": ("seqzoo.registry.build", "get_config"),
        "layers": ("seqzoo.layers", None),
        "list_models": ("seqzoo.registry.sources", "list_models"),
        "list_presets": ("seqzoo.presets.catalog", "list_presets"),
        "list_tasks": ("seqzoo.tasks", "list_tasks"),
        "load": ("seqzoo.trained.run", "load"),
        "load_task": ("seqzoo.tasks", "load_task"),
        "presets": ("seqzoo.presets", None),
        "train": ("seqzoo.training.fit", "train"),
        "tasks": ("seqzoo.tasks", None),
        "trained": ("seqzoo.trained", None),
        "tune": ("seqzoo.tuning", "tune"),
        "tuning": ("seqzoo.tuning", None),
    },
)
