"""`run.json`, the record of a run: what a valid one holds, checked whenever it is read (plain data, no Keras)."""

import os

from seqzoo import atomic
from seqzoo.errors import InputError
from seqzoo.errors import one_line
from seqzoo.runs.layout import RECORD
from seqzoo.runs.layout import STAGES

# The keys a finished run has whoever wrote it (`seqzoo.train`, `save_run`, a sweep's best run): its readers use them.
FINISHED = ("model", "task", "task_options", "batch_size")
# Each key's type, checked where the key is present; `None` allowed where listed.
TYPES = {
    "stage": (str,),
    "model": (str,),
    "task": (str,),
    "task_options": (dict,),
    "overrides": (dict,),
    "data_dir": (str, type(None)),
    "epochs": (int,),
    "batch_size": (int,),
    "patience": (int,),
    "seed": (int,),
    "from_run": (str, type(None)),
    "freeze_backbone": (bool,),
    "versions": (dict,),
}
POSITIVE = ("epochs", "batch_size", "patience")


class RunFolderError(InputError):
    """A run folder that is missing, unfinished, corrupted, or started with other arguments."""


def read_record(folder):
    """The checked `run.json` of run folder `folder`, or `None` where there is none yet."""
    path = os.path.join(folder, RECORD)
    if not os.path.exists(path):
        return None
    try:
        record = atomic.read_json(path)
    except ValueError as error:  # Written atomically, so only a hand-edited file gets here.
        raise RunFolderError(f"{folder!r} has an unreadable {RECORD} ({one_line(error)}).") from error
    return check_record(record, path)


def check_finished(folder):
    """Raises a `RunFolderError` that says what is wrong unless `folder` holds a finished run.

    Reads only `run.json` (no Keras), so the command line checks a run
    argument before TensorFlow loads.

    Example:

    >>> check_finished("runs/names")
    """
    if not os.path.isdir(folder):
        raise RunFolderError(f"Run folder {folder!r} does not exist.")
    record = read_record(folder)
    if record is None:
        raise RunFolderError(f"{folder!r} is not a seqzoo run folder: it has no {RECORD}.")
    if record["stage"] != "finished":
        raise RunFolderError(
            f"Run folder {folder!r} is unfinished (stage {record['stage']!r}); resume it by running the same "
            f"`seqzoo train ... --out {folder}` command again."
        )


def check_record(record, where):
    """Raises an `InputError` naming `where` and the first problem, unless `record` is a valid run record.

    Args:
        record: the value read from `run.json`.
        where: the file, for the message.

    Returns:
        `record`.
    """
    if not isinstance(record, dict):
        raise InputError(f"{where} holds a JSON {_json_type(record)}, not a run record (an object with a stage).")
    missing = [key for key in ("stage", *(FINISHED if record.get("stage") == "finished" else ())) if key not in record]
    if missing:
        raise InputError(f"{where} is not a run record: it has no {', '.join(missing)}.")
    for key, types in TYPES.items():
        value = record.get(key)
        if key in record and (not isinstance(value, types) or isinstance(value, bool) and bool not in types):
            allowed = " or ".join("null" if kind is type(None) else _json_type(kind()) for kind in types)
            raise InputError(f"{where}: {key} is {value!r:.60}; it must be {allowed}.")
        if key in POSITIVE and key in record and value < 1 or key == "seed" and key in record and value < 0:
            raise InputError(f"{where}: {key} is {value!r}; it must be >= {0 if key == 'seed' else 1}.")
    if record["stage"] not in STAGES:
        raise InputError(f"{where}: stage is {record['stage']!r}; it must be one of {', '.join(STAGES)}.")
    return record


def _json_type(value):
    """What JSON calls a Python value's type: object, array, string, number, boolean, null."""
    for kind, name in ((dict, "object"), (list, "array"), (str, "string"), (bool, "boolean")):
        if isinstance(value, kind):
            return name
    return "number" if isinstance(value, (int, float)) else "null"
