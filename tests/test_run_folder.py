"""A run folder never loses work: real processes killed at every stage, a real second process on the same folder."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import pytest

import seqzoo
from seqzoo import atomic
from seqzoo import cli
from seqzoo.runs import FolderLock
from seqzoo.runs import RunFolder

TRAIN = """
import os, signal, sys
import keras
import seqzoo
from seqzoo.runs import folder as run_folder
from seqzoo.training import callbacks

out, data_dir, point = sys.argv[1:4]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def after(owner, name, when):
    original = getattr(owner, name)
    def patched(*args, **kwargs):
        result = original(*args, **kwargs)
        if when(*args, **kwargs):
            die()
        return result
    setattr(owner, name, patched)

kind, _, value = point.partition(":")
if kind == "created":  # run.json written at stage 'created', training not begun
    after(run_folder.RunFolder, "start", lambda *a, **k: True)
elif kind == "stage":  # run.json just moved to a stage
    after(run_folder.RunFolder, "set_stage", lambda self, stage: stage == value)
elif kind == "saved":  # a file of the run just written
    after(run_folder.RunFolder, "save_model", lambda self, model, name="model.keras": name == value)
elif kind == "history":  # history.csv written for epoch N, its backup not yet
    after(run_folder.RunFolder, "write_history", lambda self, rows: len(rows) == int(value) + 1)
elif kind == "backup-weights":  # the weights of epoch N backed up, state.json not yet
    original = callbacks.atomic.write_json
    def write_json(path, value_, _original=original):
        if path.endswith("state.json") and value_["epoch"] == int(value) + 1:
            die()
        _original(path, value_)
    callbacks.atomic.write_json = write_json

class MidEpoch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if kind == "batch" and self.epoch == int(value) and batch == 2:
            die()
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

seqzoo.train("gru_uni", "japanese_vowels", epochs=3, batch_size=32, out=out, data_dir=data_dir, verbose=0,
             callbacks=[MidEpoch()], **{"backbone.units": 8})
"""

# Where the process is killed -> the epochs the rerun trains, and the stage it was left at.
KILL_POINTS = {
    "created": ([0, 1, 2], "created"),
    "batch:1": ([1, 2], "training"),
    "history:1": ([1, 2], "training"),
    "backup-weights:1": ([1, 2], "training"),
    "stage:trained": ([], "trained"),
    "saved:model.keras": ([], "trained"),
}


class EpochRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def train_as_train_does(out, data_dir, callbacks=()):
    """`TRAIN`'s call, in this process."""
    seqzoo.train(
        "gru_uni",
        "japanese_vowels",
        epochs=3,
        batch_size=32,
        out=out,
        data_dir=data_dir,
        verbose=0,
        callbacks=callbacks,
        **{"backbone.units": 8},
    )
    return RunFolder(out)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, vowels_data):
    """The run that `TRAIN` makes when nothing stops it: its history and test metrics."""
    run = train_as_train_does(str(tmp_path_factory.mktemp("uninterrupted") / "run"), vowels_data)
    return run.history(), run.metrics()


@pytest.mark.xdist_group("uninterrupted_run")  # One worker trains `uninterrupted` once.
@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_run_killed_at_any_point_resumes_there(tmp_path, vowels_data, subprocess_env, uninterrupted, point):
    out = str(tmp_path / "run")
    killed = subprocess.run(
        [sys.executable, "-c", TRAIN, out, vowels_data, point],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    epochs, stage = KILL_POINTS[point]
    assert RunFolder(out).stage == stage
    recorder = EpochRecorder()
    run = train_as_train_does(out, vowels_data, callbacks=[recorder])
    assert recorder.epochs == epochs  # Never an epoch again that was backed up, never training after it ended.
    assert run.stage == "finished"
    assert [int(row["epoch"]) for row in run.history()] == [0, 1, 2]
    # The same numbers as the uninterrupted run (gru_uni has recurrent dropout: its random state is resumed too).
    assert (run.history(), run.metrics()) == uninterrupted
    leftovers = [name for _, _, files in os.walk(out) for name in files if name.startswith(".")]
    assert not leftovers and not os.path.exists(os.path.join(out, "backup"))


HOLD = """
import os, sys, time
import keras
import seqzoo

out, data_dir, ready, go = sys.argv[1:5]

class Wait(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            open(ready, "w").close()
            for _ in range(1200):
                if os.path.exists(go):
                    break
                time.sleep(0.1)

seqzoo.train("gru_uni", "japanese_vowels", epochs=2, batch_size=32, out=out, data_dir=data_dir, verbose=0,
             callbacks=[Wait()], **{"backbone.units": 8})
"""


def test_a_second_process_is_refused_at_once(tmp_path, vowels_data, subprocess_env, capsys):
    out, ready, go = str(tmp_path / "run"), str(tmp_path / "ready"), str(tmp_path / "go")
    first = subprocess.Popen(
        [sys.executable, "-c", HOLD, out, vowels_data, ready, go], env=subprocess_env, stderr=subprocess.PIPE, text=True
    )
    try:
        for _ in range(3000):
            if os.path.exists(ready) or first.poll() is not None:
                break
            time.sleep(0.1)
        assert os.path.exists(ready), first.stderr.read()[-3000:]
        history = RunFolder(out).history()
        started = time.monotonic()
        capsys.readouterr()
        code = cli.main(  # This process is the second one: the lock belongs to `first`.
            [
                "train",
                "gru_uni",
                "--task",
                "japanese_vowels",
                "--epochs",
                "2",
                "--out",
                out,
                "--data-dir",
                vowels_data,
                "--set",
                "backbone.units=8",
            ]
        )
        stderr = capsys.readouterr().err
        refused_after = time.monotonic() - started
        assert code == 2, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("seqzoo train: error: "), stderr
        assert f"{out!r} is in use by process {first.pid}" in lines[0]
        assert RunFolder(out).history() == history  # The second process wrote nothing.
        assert refused_after < 120  # Refused before loading data or a model (seconds, not a training).
    finally:
        open(go, "w").close()
        first.wait(timeout=600)
    assert first.returncode == 0, first.stderr.read()[-3000:]
    run = RunFolder(out)
    assert run.stage == "finished" and [int(row["epoch"]) for row in run.history()] == [0, 1]
    assert not os.path.exists(os.path.join(out, ".lock"))


def test_the_lock_names_its_holder_and_is_released(tmp_path, subprocess_env):
    """The holder may lock again (the command line, then `train`): the inner release leaves the folder held."""
    with FolderLock(str(tmp_path)):
        with open(tmp_path / ".lock") as file:
            assert json.load(file)["pid"] == os.getpid()
        FolderLock(str(tmp_path)).acquire().release()
        assert (tmp_path / ".lock").exists()
        # Another process is refused (and the message names this one), see also the two-process tests.
        child = subprocess.run(
            [sys.executable, "-c", f"from seqzoo.runs.lock import FolderLock; FolderLock({str(tmp_path)!r}).acquire()"],
            capture_output=True,
            text=True,
            env=subprocess_env,
        )
        assert child.returncode == 1 and f"is in use by process {os.getpid()} on " in child.stderr
    assert not (tmp_path / ".lock").exists()
    FolderLock(str(tmp_path)).acquire().release()  # Free again.


def test_atomic_writes_leave_no_half_file_and_clean_up_after_a_crash(tmp_path):
    path = tmp_path / "value.json"
    atomic.write_json(path, {"a": 1})
    with pytest.raises(ZeroDivisionError):
        with atomic.replacing(path) as temporary:
            with open(temporary, "w") as file:
                file.write('{"a": ')
            1 / 0
    assert atomic.read_json(path) == {"a": 1} and os.listdir(tmp_path) == ["value.json"]
    stray = tmp_path / ".value.0a1b2c3d.tmp.json"  # What a killed writer leaves.
    stray.write_text("{")
    assert atomic.remove_temporaries(str(tmp_path)) == [str(stray)]


def test_a_start_cut_short_is_the_runs_own_and_nothing_else_is(tmp_path):
    """Killed before run.json, a start leaves its marker beside what it wrote: that, and only that, is resumed."""
    os.makedirs(tmp_path / "run")
    RunFolder(str(tmp_path / "run")).start({"model": "m"}, {"topology": "language_model"}, {})
    assert sorted(os.listdir(tmp_path / "run")) == ["config.json", "run.json"]  # The marker is gone.
    cut_short = tmp_path / "cut_short"
    os.makedirs(cut_short)
    for name in (".starting", "config.json", "vocabulary_inputs.json", ".config.0a1b2c3d.tmp.json"):
        (cut_short / name).write_text("")
    RunFolder(str(cut_short)).check_can_start()
    (cut_short / "history.csv").write_text("")  # Never written before run.json: not the run's.
    with pytest.raises(ValueError, match=r"holds other files \(history.csv\)"):
        RunFolder(str(cut_short)).check_can_start()
    os.remove(cut_short / ".starting")
    with pytest.raises(ValueError, match=r"holds other files \(config.json, history.csv, vocabulary_inputs.json\)"):
        RunFolder(str(cut_short)).check_can_start()


def test_a_write_into_a_missing_folder_names_the_file_not_its_temporary(tmp_path):
    path = str(tmp_path / "missing" / "names.txt")
    with pytest.raises(FileNotFoundError) as error:
        atomic.write_text(path, "Ma\n")
    assert str(error.value) == f"Cannot write {path!r}: the folder {str(tmp_path / 'missing')!r} does not exist."


def test_stages_are_recorded_in_order(tmp_path):
    run = RunFolder(str(tmp_path / "run"))
    assert run.stage is None
    os.makedirs(run.path)
    run.start({"model": "m"}, {"topology": "language_model"}, {})
    assert run.stage == "created" and run.config == {"topology": "language_model"}
    run.set_stage("training")
    assert run.record == {"model": "m", "stage": "training"}
    with pytest.raises(ValueError, match="Unknown stage 'trainde'"):
        run.set_stage("trainde")
    assert run.differences({"model": "n", "stage": "created"}) == ["model: 'm' -> 'n'"]
