"""Training in run folders: `train`, fine-tuning, `save_run`, distribution, and a task's metrics.

Modules: `options` (defaults and argument checks, plain Python), `callbacks`
(history, checkpoints, backup, early stopping), `transfer` (fine-tuning's
weight copy), `distribute` (tf.distribute), `fit` (`train`), `evaluation`
(`task_metrics`), `save` (`save_run`). Evaluating a run is `seqzoo.evaluate` (`seqzoo.trained`).
"""

from seqzoo._lazy import lazy_exports

__all__ = ["save_run", "task_metrics", "train", "transfer_weights"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "save_run": ("seqzoo.training.save", "save_run"),
        "task_metrics": ("seqzoo.training.evaluation", "task_metrics"),
        "train": ("seqzoo.training.fit", "train"),
        "transfer_weights": ("seqzoo.training.transfer", "transfer_weights"),
    },
)
