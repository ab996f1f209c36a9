"""Ready-made tasks: a TFDS dataset, its preprocessing, and the model it needs."""

from seqzoo.errors import unknown_name_error
from seqzoo.tasks.catalog import OFFLINE_TASKS
from seqzoo.tasks.catalog import TASKS
from seqzoo.tasks.classification import ClassificationTask
from seqzoo.tasks.conditional_generation import ConditionalGenerationTask
from seqzoo.tasks.language_modeling import LanguageModelTask
from seqzoo.tasks.loading import DatasetUnavailableError
from seqzoo.tasks.tagging import TaggingTask
from seqzoo.tasks.task import Task
from seqzoo.tasks.translation import TranslationTask
from seqzoo.tasks.vocabulary import Vocabulary


def list_tasks():
    """The names of the ready-made tasks, offline ones first."""
    return list(OFFLINE_TASKS) + sorted(set(TASKS) - set(OFFLINE_TASKS))


def load_task(name, data_dir=None, **options):
    """Creates a ready-made task.

    Args:
        name: a name from `list_tasks()`, or `"tfds:<dataset>"` for any TFDS
            dataset (then `options` say which features and which kind, see
            `catalog.generic_task`).
        data_dir: the TFDS data folder.
        **options: overrides of the task's arguments (e.g. `max_length`).

    Example:

    >>> task = seqzoo.load_task("japanese_vowels")
    >>> task.model_spec()["outputs"]
    {'type': 'classes', 'size': 9}
    """
    if isinstance(name, Task):
        return name
    if name.startswith("tfds:"):
        from seqzoo.tasks.catalog import generic_task

        task = generic_task(name[len("tfds:") :], data_dir=data_dir, **options)
    else:
        if name not in TASKS:
            raise unknown_name_error("task", name, list_tasks())
        task_class, arguments = TASKS[name]
        task = task_class(name, **{**arguments, **options}, data_dir=data_dir)
        task.offline_tasks = OFFLINE_TASKS
    task.options = dict(options)  # Recorded in a run's task.json, so the run can load it again.
    return task


__all__ = [
    "ClassificationTask",
    "ConditionalGenerationTask",
    "DatasetUnavailableError",
    "LanguageModelTask",
    "TaggingTask",
    "Task",
    "TranslationTask",
    "Vocabulary",
    "list_tasks",
    "load_task",
]
