"""The sweep's `best_run/`: the best trial's model saved as a finished run folder (`seqzoo.training.save_run`).

It holds what a training run holds (config, task record, model, history,
test metrics); its `run.json` also records, under `sweep`, which sweep and
trial it came from, the objective, the score and the trial's
hyperparameters. `seqzoo evaluate` takes it like any run folder.
"""

import csv
import os
import shutil
import sys

from seqzoo.runs import RunFolder
from seqzoo.training import save_run
from seqzoo.tuning import trials
from seqzoo.tuning.results import BEST_RUN
from seqzoo.tuning.tuner import TRIAL_HISTORY


def write_best_run(search, hypermodel, best, out, data_dir, batch_size):
    """Saves the best trial's model as `out/best_run` (replacing an older best), unless it is there already.

    Args:
        search: the keras-tuner tuner.
        hypermodel: the sweep's `HyperModel`.
        best: the best trial's row.
        out: the sweep folder.
        data_dir: the TFDS data folder (recorded in the run's record).
        batch_size: examples per batch.

    Returns:
        The run folder, or `None` when the trial's weights could not be loaded.
    """
    folder = os.path.join(out, BEST_RUN)
    existing = RunFolder(folder)
    if existing.stage == "finished" and (existing.record.get("sweep") or {}).get("trial") == best["trial"]:
        return folder  # Already saved.
    trial = search.oracle.get_trial(str(best["trial"]))
    trial_folder = trials.trial_folder(search.project_dir, trial.trial_id)
    try:
        model = search.load_model(trial)
    except (OSError, ValueError) as error:
        print(
            f"seqzoo tune: the best trial's weights could not be loaded from {trial_folder} ({error}); "
            f"no best run written.",
            file=sys.stderr,
        )
        return None
    values = {key: value for key, value in trial.hyperparameters.values.items() if not key.startswith("tuner/")}
    record = {
        "model": hypermodel.model_name,
        "overrides": {**hypermodel.overrides, **values},
        "task": hypermodel.task.name,
        "task_options": hypermodel.task.options,
        "data_dir": data_dir,
        "batch_size": batch_size,
        "sweep": {
            "folder": os.path.abspath(out),
            "trial": best["trial"],
            "objective": search.oracle.objective.name,
            "score": best["score"],
            "hyperparameters": dict(trial.hyperparameters.values),
        },
    }
    history = []
    if os.path.exists(os.path.join(trial_folder, TRIAL_HISTORY)):
        with open(os.path.join(trial_folder, TRIAL_HISTORY), newline="") as file:
            history = list(csv.DictReader(file))
    staging = os.path.join(out, f".{BEST_RUN}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    save_run(staging, model, hypermodel.task, record, history)
    old = os.path.join(out, f".{BEST_RUN}.old.{os.getpid()}")
    if os.path.exists(folder):
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder
