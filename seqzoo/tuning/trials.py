"""A sweep's trial folders: who ran each trial (`runs.jsonl`), and mending trial files cut short.

keras-tuner keeps one folder per trial under the sweep's `trials/` project,
`trial_<id>/trial.json` (the trial's hyperparameters, metrics and status),
and the search's state in `trials/oracle.json`. seqzoo adds `runs.jsonl` to
each trial folder: one line per start and end of a run of the trial, with
the tuner process that ran it and, at its start, the trial's hyperparameter
values. Those values let `repair_project` rebuild a `trial.json` that a
killed process left truncated (or never wrote), so that the trial is run
again instead of the whole sweep failing to reload.
"""

import json
import os
import shutil
import socket
import sys
import time

import keras_tuner

from seqzoo import _compat
from seqzoo import atomic

RUNS, TRIAL_FILE, ORACLE_FILE = "runs.jsonl", "trial.json", "oracle.json"
TRIAL_PREFIX = "trial_"


def trial_folder(project, trial_id):
    """The folder of trial `trial_id` in the keras-tuner project `project`."""
    return os.path.join(project, f"{TRIAL_PREFIX}{trial_id}")


def record_run(folder, tuner_id, event, **extra):
    """Appends one line to the trial's `runs.jsonl` (`event`: `"start"` or `"end"`)."""
    line = {
        "event": event,
        "tuner_id": tuner_id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "time": time.time(),
        **extra,
    }
    with open(os.path.join(folder, RUNS), "a") as file:
        file.write(json.dumps(line) + "\n")


def trial_runs(folder):
    """The `runs.jsonl` records of a trial folder, one per start and end of a run (a cut last line is skipped)."""
    path = os.path.join(folder, RUNS)
    if not os.path.exists(path):
        return []
    records = []
    with open(path) as file:
        for line in file:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # A line cut short by a kill.
    return records


def _readable(path):
    try:
        state = atomic.read_json(path)
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and "trial_id" in state and "hyperparameters" in state


def repair_project(project):
    """Mends the trial files of a keras-tuner project so that keras-tuner can reload it.

    A trial folder whose `trial.json` is missing or unreadable is either
    unknown to `oracle.json` (the process died while creating the trial: the
    folder is removed and the trial is created again), or known: then its
    `trial.json` is written again from the values in its `runs.jsonl` (the
    search space's defaults if none were recorded, said so), as a running
    trial that the oracle runs again.

    Args:
        project: the keras-tuner project folder (`<sweep>/trials`).

    Returns:
        A list of messages, one per trial mended.

    Raises:
        ValueError: when `oracle.json` itself cannot be read.
    """
    oracle_path = os.path.join(project, ORACLE_FILE)
    if not os.path.isdir(project) or not os.path.exists(oracle_path):
        return []
    try:
        state = atomic.read_json(oracle_path)
        known = set(state["start_order"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"The sweep's {oracle_path} cannot be read ({type(error).__name__}: {error}); the sweep cannot resume. "
            f"Start it over with overwrite=True (--overwrite) or choose another out."
        ) from error
    folders = {name[len(TRIAL_PREFIX) :] for name in os.listdir(project) if name.startswith(TRIAL_PREFIX)}
    messages = []
    for trial_id in sorted(folders | known, key=lambda t: (len(t), t)):
        folder = trial_folder(project, trial_id)
        if _readable(os.path.join(folder, TRIAL_FILE)):
            continue
        if trial_id not in known:
            shutil.rmtree(folder)
            messages.append(f"trial {trial_id}: its {TRIAL_FILE} was never finished; the trial is created again.")
            continue
        messages.append(_rebuild_trial(project, trial_id, state))
    if messages:
        atomic.write_json(oracle_path, state)
    return messages


def _rebuild_trial(project, trial_id, state):
    """Writes `trial.json` again for a trial the oracle knows, and queues it to run again; returns a message."""
    folder = trial_folder(project, trial_id)
    os.makedirs(folder, exist_ok=True)
    hyperparameters = keras_tuner.HyperParameters.from_config(state["hyperparameters"])
    starts = [run for run in trial_runs(folder) if run["event"] == "start" and "values" in run]
    if starts:
        hyperparameters.values = dict(starts[-1]["values"])
        how = "its values recorded in runs.jsonl"
    else:
        how = "the search space's defaults (its values were lost)"
    trial_type, status = _compat.trial_class()
    trial = trial_type(hyperparameters, trial_id=trial_id, status=status.RUNNING)
    atomic.write_json(os.path.join(folder, TRIAL_FILE), trial.get_state())
    if trial_id in state.get("end_order", []):
        state["end_order"].remove(trial_id)
    ongoing = set(state.get("ongoing_trials", {}).values())
    if trial_id not in ongoing and trial_id not in state.get("retry_queue", []):
        state.setdefault("retry_queue", []).append(trial_id)
    return f"trial {trial_id}: its {TRIAL_FILE} was cut short or missing; it runs again with {how}."


def report(messages):
    """Prints `repair_project`'s messages on stderr."""
    for message in messages:
        print(f"seqzoo tune: {message}", file=sys.stderr, flush=True)
