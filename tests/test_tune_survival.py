"""Sweeps that survive: atomic trial files, resuming over a cut trial file, one Ctrl-C, honest plots."""

import json
import os
import signal
import subprocess
import sys
import time
import types

import keras_tuner
import matplotlib
import pytest

import seqzoo
from seqzoo import _compat
from seqzoo.runs.lock import FolderLockedError
from seqzoo.tuning import plot
from seqzoo.tuning import results
from seqzoo.tuning import sweep
from seqzoo.tuning import trials
from seqzoo.tuning.__main__ import main as tuning_main

TASK = "japanese_vowels"
TINY = {"backbone.units": 8, "search": {"optimizer.learning_rate": {"float": [1.0e-3, 3.0e-2], "sampling": "log"}}}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.usefixtures("vowels_data")  # Generated once, before any sweep reads it.


def environment():
    env = {key: value for key, value in os.environ.items() if not key.startswith("KERASTUNER_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, env.get("PYTHONPATH")]))
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def starts(out):
    """trial folder -> how many times a run of it started."""
    project = os.path.join(out, sweep.PROJECT)
    return {
        name: sum(run["event"] == "start" for run in trials.trial_runs(os.path.join(project, name)))
        for name in sorted(os.listdir(project))
        if name.startswith(trials.TRIAL_PREFIX)
    }


def test_keras_tuner_json_files_are_replaced_not_rewritten_in_place(tmp_path):
    from keras_tuner.src import utils

    _compat.write_tuner_files_atomically()
    path = str(tmp_path / "trial.json")
    utils.save_json(path, {"trial_id": "0"})
    inode = os.stat(path).st_ino
    utils.save_json(path, {"trial_id": "0", "status": "COMPLETED"})
    assert os.stat(path).st_ino != inode  # A new file renamed over the old: a reader never sees half of one.
    assert utils.load_json(path) == {"trial_id": "0", "status": "COMPLETED"}
    assert os.listdir(tmp_path) == ["trial.json"]  # No temporary file left behind.


def test_a_sweep_resumes_over_a_cut_or_missing_trial_file(data_dir, tmp_path, capsys):
    out = str(tmp_path / "sweep")
    arguments = dict(max_trials=2, epochs=1, out=out, data_dir=data_dir, seed=6, verbose=0, **TINY)
    first = seqzoo.tune("gru_uni", TASK, **arguments)
    values = {row["trial"]: row["optimizer.learning_rate"] for row in first.rows}
    project = os.path.join(out, sweep.PROJECT)

    # The last trial's trial.json cut in half, as a kill in the middle of keras-tuner's in-place write left it.
    path = os.path.join(project, "trial_1", trials.TRIAL_FILE)
    with open(path) as file:
        text = file.read()
    with open(path, "w") as file:
        file.write(text[: len(text) // 2])
    capsys.readouterr()
    resumed = seqzoo.tune("gru_uni", TASK, **arguments)
    assert "trial 1: its trial.json was cut short or missing; it runs again" in capsys.readouterr().err
    assert starts(out) == {"trial_0": 1, "trial_1": 2}  # That trial, and only it, ran again.
    assert len(resumed.rows) == 2 and all(row["status"] == "COMPLETED" for row in resumed.rows)
    again = {row["trial"]: row["optimizer.learning_rate"] for row in resumed.rows}
    assert again == pytest.approx(values)  # With the values it had (recorded in runs.jsonl).

    # A trial.json missing altogether, for a trial that is not the last.
    os.remove(os.path.join(project, "trial_0", trials.TRIAL_FILE))
    resumed = seqzoo.tune("gru_uni", TASK, **arguments)
    assert starts(out) == {"trial_0": 2, "trial_1": 2}
    assert len(resumed.rows) == 2 and all(row["status"] == "COMPLETED" for row in resumed.rows)

    # A trial folder whose trial.json was never finished, unknown to the oracle: removed, the trial made anew.
    os.makedirs(os.path.join(project, "trial_2"))
    with open(os.path.join(project, "trial_2", trials.TRIAL_FILE), "w") as file:
        file.write('{"trial_id": "2", "hyperpa')
    assert trials.repair_project(project) == ["trial 2: its trial.json was never finished; the trial is created again."]
    assert not os.path.exists(os.path.join(project, "trial_2"))

    # One process at a time: a sweep whose folder another process holds is refused at once, naming it. (This
    # process may lock a folder it holds again, so the holder is a child.)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from seqzoo.runs.lock import FolderLock; FolderLock({out!r}).acquire(); input()"],
        stdin=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": REPO},
    )
    try:
        while not os.path.exists(os.path.join(out, ".lock")) or not os.path.getsize(os.path.join(out, ".lock")):
            time.sleep(0.05)
        with pytest.raises(FolderLockedError, match=rf"is in use by process {holder.pid}"):
            seqzoo.tune("gru_uni", TASK, **arguments)
    finally:
        holder.communicate(b"\n", timeout=60)
    assert starts(out) == {"trial_0": 2, "trial_1": 2}

    # oracle.json itself unreadable: a clear error, and the way out.
    with open(os.path.join(project, trials.ORACLE_FILE), "w") as file:
        file.write('{"ongoing_trials": {')
    with pytest.raises(ValueError, match=r"oracle\.json cannot be read .*overwrite=True"):
        seqzoo.tune("gru_uni", TASK, **arguments)
    # `python -m seqzoo.tuning OUT` says the same, exit code 2; and for a folder that holds no sweep.
    assert tuning_main([out]) == 2
    assert tuning_main([str(tmp_path / "nothing")]) == 2
    assert "holds no sweep (sweep.json is missing)" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "nothing")


def test_one_sigint_stops_a_sweep_at_once_and_the_sweep_resumes(data_dir, tmp_path, capsys):
    out = str(tmp_path / "sweep")
    script = (
        "import seqzoo\n"
        f"seqzoo.tune('gru_uni', {TASK!r}, max_trials=3, epochs=3, out={out!r}, data_dir={data_dir!r}, seed=7, "
        f"verbose=0, **{TINY!r})\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    second = os.path.join(out, sweep.PROJECT, "trial_1")
    deadline = time.monotonic() + 600
    try:
        while not any(run["event"] == "start" for run in trials.trial_runs(second)):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the second trial never started"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)  # One Ctrl-C, while the second trial runs.
        sent = time.monotonic()
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert time.monotonic() - sent < 120
    assert process.returncode != 0 and "KeyboardInterrupt" in stderr, stderr[-3000:]
    assert f"interrupted; the sweep in {out} resumes where it stopped" in stderr
    assert stdout == ""
    # Stopped at once: the second trial did not end (as FAILED or otherwise), and no third began.
    assert [run["event"] for run in trials.trial_runs(second)] == ["start"]
    assert starts(out) == {"trial_0": 1, "trial_1": 1}

    # `python -m seqzoo.tuning OUT` (its `main`, here) resumes it from sweep.json alone; stdout is one JSON line.
    capsys.readouterr()
    code = tuning_main([out])
    done = capsys.readouterr()
    assert code == 0, done.err[-3000:]
    lines = done.out.splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert (summary["trials"], summary["finished"], summary["objective"]) == (3, 3, "val_loss")
    assert summary["best_run"] == os.path.join(out, results.BEST_RUN)
    assert starts(out) == {"trial_0": 1, "trial_1": 2, "trial_2": 1}  # The interrupted trial ran again.
    assert "| rank |" in done.err


def rows_of(learning_rates, units):
    scores = [abs(rate - 0.01) * 10 + units_ / 1000 for rate, units_ in zip(learning_rates, units)]
    rows = [
        {"rank": "", "trial": str(i), "score": s, "optimizer.learning_rate": r, "backbone.units": u}
        for i, (s, r, u) in enumerate(zip(scores, learning_rates, units))
    ]
    for rank, row in enumerate(sorted(rows, key=lambda row: row["score"]), 1):
        row["rank"] = rank
    return rows


SPACE = types.SimpleNamespace(
    space={
        "optimizer.learning_rate": {"float": [1e-4, 1e-1], "sampling": "log"},
        "backbone.units": {"choice": [8, 16]},
    }
)


def test_the_plot_claims_no_share_of_the_variance_from_too_few_trials(tmp_path):
    objective = keras_tuner.Objective("val_loss", "min")
    backend = matplotlib.get_backend()

    few = rows_of([1e-3, 1e-2, 3e-2], [8, 16, 8])
    assert results.importance(few, SPACE) == {}  # 3 trials: nothing claimed.
    figure = plot.plot_results(few, SPACE, objective, str(tmp_path / "few.png"))
    left, right = figure.axes
    assert left.get_title() == "score per trial (3 finished of 3)"
    assert "3 trials: too few to rank the hyperparameters (needs 8)" in right.get_title()
    assert "explains" not in right.get_title()

    many = rows_of([1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 6e-2, 1e-1], [8, 16] * 4)
    shares = results.importance(many, SPACE)
    assert set(shares) == {"optimizer.learning_rate", "backbone.units"} and all(0 <= v <= 1 for v in shares.values())
    figure = plot.plot_results(many, SPACE, objective, str(tmp_path / "many.png"))
    best = max(shares, key=shares.get)
    assert figure.axes[1].get_title() == f"score vs {best}\nexplains {shares[best]:.0%} of the variance (8 trials)"
    with open(tmp_path / "many.png", "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.get_backend() == backend  # The user's pyplot backend is left alone.
