"""keras-tuner's chief/worker sweeps on loopback: the watch for dead workers, workers that read sweep.json."""

import os
import signal
import threading
import time

import keras_tuner
import pytest

import seqzoo
from seqzoo.runs import RunFolder
from seqzoo.tuning import chief
from seqzoo.tuning import sweep
from seqzoo.tuning import trials

TASK = "japanese_vowels"
TINY = {"backbone.units": 8}
pytestmark = pytest.mark.usefixtures("vowels_data")  # Generated once, before any sweep reads it.


class FakeOracle:
    """What `_release_silent_workers` touches of a keras-tuner oracle."""

    def __init__(self, ongoing):
        self.ongoing_trials = {tuner: type("Trial", (), {"trial_id": trial})() for tuner, trial in ongoing.items()}
        self.tuner_ids = set(ongoing)
        self._retry_queue = []
        self.saved = 0

    def save(self):
        self.saved += 1


def test_the_trial_of_a_silent_worker_goes_back_to_the_queue():
    oracle = FakeOracle({"tuner0": "3", "tuner1": "4"})
    heard = {"3": 100.0, "4": 109.0}
    assert chief._release_silent_workers(oracle, heard, timeout=5, now=110.0) == [("tuner0", "3")]
    assert list(oracle.ongoing_trials) == ["tuner1"] and oracle.tuner_ids == {"tuner1"}
    assert oracle._retry_queue == ["3"] and oracle.saved == 1
    assert chief._release_silent_workers(oracle, heard, timeout=5, now=112.0) == []
    # A worker waiting between trials that stops asking is forgotten too (else the chief would wait for it).
    oracle.tuner_ids.add("tuner2")
    asked = {"tuner2": 105.0}
    assert chief._release_silent_workers(oracle, heard, timeout=5, now=111.0, last_asked=asked) == [("tuner2", None)]
    assert oracle.tuner_ids == {"tuner1"}


def test_a_worker_waits_instead_of_stopping_while_another_trial_runs(tmp_path):
    space = keras_tuner.HyperParameters()
    space.Int("x", 0, 9)
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("score", "min"), max_trials=1, hyperparameters=space, seed=0
    )
    oracle._set_project_dir(str(tmp_path), "project")
    running, stop = chief._create_trial_or_wait(oracle, "tuner0")
    assert running.status == "RUNNING" and not stop
    waiting, stop = chief._create_trial_or_wait(oracle, "tuner1")  # max_trials reached, tuner0 still runs.
    assert waiting.status == "IDLE" and not stop and oracle.tuner_ids == {"tuner0", "tuner1"}
    oracle.update_trial(running.trial_id, {"score": 1.0})
    running.status = "COMPLETED"
    oracle.end_trial(running)
    stopped, stop = chief._create_trial_or_wait(oracle, "tuner1")
    assert stopped.status == "STOPPED" and stop and oracle.tuner_ids == {"tuner0"}


def test_loopback_checks_and_printed_settings():
    assert chief.is_loopback("127.0.0.1") and chief.is_loopback("::1") and chief.is_loopback("localhost")
    assert not chief.is_loopback("10.0.0.5")
    assert "only processes on this machine" in chief.security_warning("127.0.0.1", 1234)
    assert "ANY machine" in chief.security_warning("10.0.0.5", 1234)
    message = chief.settings_message("127.0.0.1", 1234, first_worker_id=2)
    for setting in ("KERASTUNER_TUNER_ID=tuner2", "KERASTUNER_ORACLE_IP=127.0.0.1", "KERASTUNER_ORACLE_PORT=1234"):
        assert setting in message


def test_distributed_sweep_survives_a_killed_worker(data_dir, tmp_path, capsys):
    """A chief and two workers on loopback; worker tuner1 is killed in the middle of its second trial."""
    out = str(tmp_path / "sweep")
    project = os.path.join(out, sweep.PROJECT)
    killed = {}

    def kill_tuner1_in_its_second_trial():
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline and not killed:
            time.sleep(0.2)
            if not os.path.isdir(project):
                continue
            runs = {}
            for name in sorted(os.listdir(project)):
                if name.startswith("trial_"):
                    runs[name] = trials.trial_runs(os.path.join(project, name))
            own = {name: records for name, records in runs.items() if any(r["tuner_id"] == "tuner1" for r in records)}
            done = [name for name, records in own.items() if any(r["event"] == "end" for r in records)]
            running = [name for name, records in own.items() if not any(r["event"] == "end" for r in records)]
            if done and running:
                pid = next(r["pid"] for r in runs[running[0]] if r["tuner_id"] == "tuner1")
                os.kill(pid, signal.SIGKILL)
                killed.update(trial=running[0], pid=pid)

    watcher = threading.Thread(target=kill_tuner1_in_its_second_trial, daemon=True)
    watcher.start()
    result = seqzoo.tune(
        "gru_uni",
        TASK,
        max_trials=6,
        epochs=2,
        out=out,
        data_dir=data_dir,
        workers=2,
        seed=4,
        worker_timeout=3,
        verbose=0,
        **TINY,
        search={"optimizer.learning_rate": {"float": [1e-3, 3e-2], "sampling": "log"}},
    )
    watcher.join(timeout=5)
    printed = capsys.readouterr().err
    chief_log = open(os.path.join(out, chief.LOGS, "chief.log")).read()
    assert killed, f"tuner1 never began a second trial:\n{printed}\n{chief_log[-3000:]}"

    # The sweep ended with all six trials finished, by both workers.
    assert len(result.rows) == 6 and all(row["status"] == "COMPLETED" for row in result.rows), result.rows
    assert {row["tuner"] for row in result.rows} == {"tuner0", "tuner1"}
    # The killed worker's trial went back to the queue and tuner0 ran it again.
    runs = trials.trial_runs(os.path.join(project, killed["trial"]))
    assert [(r["event"], r["tuner_id"]) for r in runs] == [("start", "tuner1"), ("start", "tuner0"), ("end", "tuner0")]
    assert (
        "worker tuner1 has been silent" in chief_log and f"trial {killed['trial'].split('_')[1]} goes back" in chief_log
    )
    assert "worker tuner1 exited with signal SIGKILL" in printed
    # Loopback only, said so, with the settings for more workers.
    assert "127.0.0.1" in printed and "no authentication" in printed
    for setting in ("KERASTUNER_TUNER_ID=tuner2", "KERASTUNER_ORACLE_IP=127.0.0.1", "KERASTUNER_ORACLE_PORT="):
        assert setting in printed
    RunFolder(result.best_run).check_finished()
