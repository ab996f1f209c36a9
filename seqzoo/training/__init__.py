"""Training and evaluation in run folders: `train`, `evaluate`, fine-tuning, `save_run`, distribution.

Modules: `options` (defaults and argument checks, plain Python), `callbacks`
(history, checkpoints, backup, early stopping), `transfer` (fine-tuning's
weight copy), `distribute` (tf.distribute), `fit` (`train`), `evaluation`
(`evaluate`), `save` (`save_run`).
"""

from seqzoo._lazy import lazy_exports

__all__ = ["evaluate", "save_run", "train", "transfer_weights"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "evaluate": ("seqzoo.training.evaluation", "evaluate"),
        "save_run": ("seqzoo.training.save", "save_run"),
        "train": ("seqzoo.training.fit", "train"),
        "transfer_weights": ("seqzoo.training.transfer", "transfer_weights"),
    },
)
