"""`evaluate`: a run's or a model's metrics on its task, translations judged by their greedy output too."""

import os

from seqzoo.inference.decoding import greedy_translate
from seqzoo.presets.runs import open_run
from seqzoo.tasks import TranslationTask
from seqzoo.tasks import load_task
from seqzoo.training.options import check_count
from seqzoo.training.options import check_data_dir


def task_metrics(task, model, split="test", batch_size=64):
    """The task's metrics on a split; for a translation task also the exact match of greedy translations."""
    if isinstance(task, TranslationTask):
        return task.evaluate(model, split, batch_size, translate=greedy_translate)
    return task.evaluate(model, split, batch_size)


def evaluate(run_or_model, task=None, split="test", batch_size=None, data_dir=None):
    """The task's metrics for a finished run or a model.

    Args:
        run_or_model: a finished run folder or `preset:NAME`, or a seqzoo model (then `task` is needed).
        task: the task; by default the run's own, with the run's vocabularies.
        split: `"test"` or `"validation"`.
        batch_size: by default the run's own (64 for a model). Keras's loss
            over padded sequences depends on how examples are batched.
        data_dir: the TFDS data folder; by default the run's own.

    Returns:
        A dict of metric names to floats.
    """
    if batch_size is not None:
        check_count("batch_size", batch_size)
    check_data_dir(data_dir)
    if isinstance(run_or_model, (str, os.PathLike)):
        run = open_run(run_or_model)
        model = run.load_model()
        task = run.load_task(task, data_dir)
        batch_size = batch_size or run.record["batch_size"]
    else:
        if task is None:
            raise ValueError("evaluate(model) needs a task; received task=None.")
        model, task = run_or_model, load_task(task, data_dir=data_dir)
    return task_metrics(task, model, split, batch_size or 64)
