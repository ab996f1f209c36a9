"""`load_task`: a task by name, over a TFDS dataset, or over a user's CSV file or folder."""

import json

from seqzoo.tasks.catalog import OFFLINE_TASKS
from seqzoo.tasks.catalog import TASKS
from seqzoo.tasks.catalog import check_task
from seqzoo.tasks.classification import ClassificationTask
from seqzoo.tasks.conditional_generation import ConditionalGenerationTask
from seqzoo.tasks.file_classification import file_task
from seqzoo.tasks.language_modeling import LanguageModelTask
from seqzoo.tasks.loading import with_config
from seqzoo.tasks.options import constructor_options
from seqzoo.tasks.options import typed_options
from seqzoo.tasks.tagging import TaggingTask
from seqzoo.tasks.task import Task
from seqzoo.tasks.tfds_task import tfds_task
from seqzoo.tasks.translation import TranslationTask

# The classes that the catalog names.
KINDS = {
    kind.__name__: kind
    for kind in (ClassificationTask, ConditionalGenerationTask, LanguageModelTask, TaggingTask, TranslationTask)
}


def load_task(name, data_dir=None, **options):
    """Creates a task: a ready-made one, or one over a TFDS dataset, a CSV/TSV file or a folder.

    Args:
        name: a name from `list_tasks()`; `"tfds:<dataset>"` for any TFDS
            dataset (see `tfds_task.tfds_task`); `"csv:<path>"` for a CSV or
            TSV file of texts and labels, or `"folder:<path>"` for a folder
            with one subfolder of `.txt` files per class (see
            `file_classification.file_task`).
        data_dir: the TFDS data folder.
        **options: the task's options, as Python values or as strings (the
            CLI's `--task-option KEY=VALUE`): for a ready-made task, overrides
            of its arguments (e.g. `max_length`) and `config`, its dataset's
            TFDS builder config (e.g. `config="small"` for `chorales`).
            Recorded in `task.options`, JSON, so a run loads the task again.

    Returns:
        A `Task`.

    Raises:
        ValueError: for an unknown task, an unknown option or a bad value.

    Example:

    >>> task = seqzoo.load_task("japanese_vowels")
    >>> task.model_spec()["outputs"]
    {'type': 'classes', 'size': 9}
    >>> task = seqzoo.load_task("csv:reviews.csv", label_column="stars", seed=1)
    """
    if isinstance(name, Task):
        return name
    try:
        json.dumps(options)
    except TypeError as error:
        raise ValueError(f"Task {name!r}: options must be JSON values (a run records them): {error}.") from None
    kind, _, path = name.partition(":")
    if kind == "tfds":
        task = tfds_task(path, data_dir=data_dir, offline_tasks=OFFLINE_TASKS, **options)
    elif kind in ("csv", "folder"):
        if not path:
            raise ValueError(
                f"Task {name!r} needs a path after '{kind}:', e.g. '{kind}:my_texts{'.csv' * (kind == 'csv')}'."
            )
        task = file_task(kind, path, **options)
    else:
        check_task(name)
        kind, arguments = TASKS[name]
        task_class = KINDS[kind]
        arguments = {
            **arguments,
            **typed_options(name, options, constructor_options(task_class) | {"config"}),
        }
        if "config" in arguments:
            arguments["dataset"] = with_config(name, arguments["dataset"], arguments.pop("config"))
        task = task_class(name, **arguments, data_dir=data_dir)
        task.offline_tasks = OFFLINE_TASKS
    task.options = dict(options)  # Recorded in a run's task.json, so the run can load it again.
    return task
