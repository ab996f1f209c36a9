"""Hyperparameter sweeps with keras-tuner over a named config's search space.

`seqzoo.tune` is this package's `tune` (as `seqzoo.train` is `seqzoo.training`'s `train`):

```python
result = seqzoo.tune("gru_uni", "japanese_vowels", tuner="hyperband", max_trials=20)
hypermodel = seqzoo.tuning.HyperModel("gru_uni", "japanese_vowels")
```

The modules, each one concept: `hypermodel` (the search space as a
keras-tuner `HyperModel`), `spec` (`SweepSpec`, the sweep's `sweep.json`),
`sweep` (`tune` and `resume`), `tuner` (keras-tuner's tuners with seqzoo's
records, atomic files and Ctrl-C), `trials` (trial folders and their
repair), `results` and `plot` (the tables, `importance`, `results.png`),
`best_run` (the best trial as a run folder), `chief` (keras-tuner's
chief/worker mode with a watch for dead workers), `defaults` (the
defaults, without TensorFlow). `python -m seqzoo.tuning
OUT` runs one process of the sweep in OUT (see `resume`).
"""

from seqzoo._lazy import lazy_exports

__all__ = [
    "HyperModel",
    "SweepSpec",
    "TuneResult",
    "get_objective",
    "importance",
    "read_results",
    "resume",
    "tune",
]
# Lazy (PEP 562), so that `seqzoo.tuning.defaults` loads without keras-tuner and TensorFlow (the CLI reads it).
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "HyperModel": ("seqzoo.tuning.hypermodel", "HyperModel"),
        "SweepSpec": ("seqzoo.tuning.spec", "SweepSpec"),
        "TuneResult": ("seqzoo.tuning.results", "TuneResult"),
        "get_objective": ("seqzoo.tuning.hypermodel", "get_objective"),
        "importance": ("seqzoo.tuning.results", "importance"),
        "read_results": ("seqzoo.tuning.results", "read_results"),
        "resume": ("seqzoo.tuning.sweep", "resume"),
        "tune": ("seqzoo.tuning.sweep", "tune"),
    },
)
