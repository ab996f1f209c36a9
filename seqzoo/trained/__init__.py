"""Trained runs as objects: `load(RUN)` / `from_preset(NAME)` -> a `TrainedRun` to generate, predict, score with.

Modules, one role each: `run` (the `TrainedRun` object, `load`, `from_preset`,
`evaluate`), `text` (texts as the task's tokens and ids), `generation`
(decoding new sequences), `prediction` (classifiers and taggers), `scoring`
(a language model's probability of a text), `inputs` (reading input files
for `seqzoo predict`, without Keras). Importing the package loads nothing heavy.
"""

from seqzoo._lazy import lazy_exports

__all__ = ["TrainedRun", "as_trained", "evaluate", "from_preset", "load"]
__getattr__, __dir__ = lazy_exports(__name__, {name: ("seqzoo.trained.run", name) for name in __all__})
