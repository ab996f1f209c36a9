"""A task's metrics for a model, translations judged by their greedy output too.

`seqzoo.evaluate` (a run or a model) is `seqzoo.trained.TrainedRun.evaluate`, which calls this.
"""

from seqzoo.inference.decoding import greedy_translate
from seqzoo.tasks import TranslationTask


def task_metrics(task, model, split="test", batch_size=64):
    """The task's metrics on a split; for a translation task also the exact match of greedy translations.

    Args:
        task: the `Task`, with the vocabularies the model was trained with.
        model: the seqzoo model.
        split: `"test"` or `"validation"`.
        batch_size: examples per batch.

    Returns:
        A dict of metric names to floats.
    """
    if isinstance(task, TranslationTask):
        return task.evaluate(model, split, batch_size, translate=greedy_translate)
    return task.evaluate(model, split, batch_size)
