"""A training run's folder: written atomically, complete only when `metrics.json` is there."""

import json
import os
import tempfile

import keras

CONFIG, TASK, MODEL, METRICS = "config.json", "task.json", "model.keras", "metrics.json"
HISTORY, CURVE, BACKUP, CHECKPOINTS = "history.csv", "training_curve.png", "backup", "checkpoints"


class RunFolderError(ValueError):
    """A run folder that is missing, empty, unfinished or corrupted."""


def atomic_path(path):
    """A temporary path beside `path` with the same suffix, for write-then-rename."""
    folder, name = os.path.split(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=os.path.splitext(name)[1], dir=folder)
    os.close(handle)
    return temporary


def write_json(path, value):
    """Writes JSON so that a reader sees the old file or the new one, never half of one."""
    temporary = atomic_path(path)
    with open(temporary, "w") as file:
        json.dump(value, file, indent=2, ensure_ascii=False)
    os.replace(temporary, path)


def save_model(model, path):
    """`model.save(path)`, atomically."""
    temporary = atomic_path(path)
    try:
        model.save(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def save_figure(figure, path):
    """Saves a matplotlib figure as a PNG, atomically, and closes it."""
    import matplotlib.pyplot as plt

    temporary = atomic_path(path)
    figure.savefig(temporary, format="png")
    plt.close(figure)
    os.replace(temporary, path)


def read_json(path):
    with open(path) as file:
        return json.load(file)


def check_complete(folder):
    """Raises a `RunFolderError` unless `folder` holds a finished run."""
    if not os.path.isdir(folder):
        raise RunFolderError(f"Run folder {folder!r} does not exist.")
    missing = [name for name in (CONFIG, TASK, MODEL, METRICS) if not os.path.isfile(os.path.join(folder, name))]
    started = os.path.isfile(os.path.join(folder, CONFIG)) or os.path.isdir(os.path.join(folder, BACKUP))
    if METRICS in missing and started:  # model.keras, too, is written only when training ends.
        raise RunFolderError(
            f"Run folder {folder!r} is unfinished (training was interrupted); resume it with "
            f"`seqzoo train ... --out {folder}`."
        )
    if missing:
        raise RunFolderError(
            f"{folder!r} is not a finished seqzoo run folder: missing {', '.join(missing)}."
        )


def load_run(folder):
    """Loads a finished run: `(model, config, task_record)`."""
    check_complete(folder)
    try:
        model = keras.saving.load_model(os.path.join(folder, MODEL))
        return model, read_json(os.path.join(folder, CONFIG)), read_json(os.path.join(folder, TASK))
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
        raise RunFolderError(f"Run folder {folder!r} is corrupted: {type(error).__name__}: {error}") from error
