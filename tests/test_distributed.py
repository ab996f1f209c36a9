"""Distribution: tf.distribute strategies for training, keras-tuner's chief/worker sweeps on loopback."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo import cli
from seqzoo import distributed
from seqzoo import run_folder as rf
from seqzoo import tuning

TASK = "japanese_vowels"
TINY = {"backbone.units": 8}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tensorflow_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute drives TensorFlow only")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("tfds"))
    seqzoo.load_task(TASK, data_dir=path).raw("train")  # Generates the dataset (from sktime) once.
    return path


def free_ports(count):
    """`count` distinct free loopback ports (held open together while chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def environment(**extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith("KERASTUNER_") and key != "TF_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, env.get("PYTHONPATH")]))
    return {**env, **extra}


# -- tf.distribute for training -------------------------------------------------


def test_strategy_names_and_backends_are_checked(monkeypatch):
    assert distributed.get_strategy(None) is None
    with pytest.raises(ValueError, match=r"Unknown strategy 'mirorred'\. Did you mean 'mirrored'"):
        distributed.get_strategy("mirorred")
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(ValueError, match=r"need the TensorFlow backend and the Keras backend is 'jax'"):
        distributed.get_strategy("mirrored")
    with pytest.raises(ValueError, match=r"TensorFlow backend"):
        seqzoo.train("gru_uni", TASK, strategy="multiworker", out="never")


class FakeResolver:
    def __init__(self, cluster, task_type, task_id):
        self._cluster, self.task_type, self.task_id = cluster, task_type, task_id

    def cluster_spec(self):
        return type("Spec", (), {"as_dict": lambda _: self._cluster})()


class FakeStrategy:
    def __init__(self, cluster, task_type, task_id):
        self.cluster_resolver = FakeResolver(cluster, task_type, task_id)


def test_only_the_chief_writes_the_run_folder(tmp_path):
    workers = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    assert distributed.is_chief(None) and distributed.is_chief(FakeStrategy({}, None, None))
    assert distributed.is_chief(FakeStrategy(workers, "worker", 0))
    assert not distributed.is_chief(FakeStrategy(workers, "worker", 1))
    with_chief = {"chief": ["127.0.0.1:3"], **workers}
    assert distributed.is_chief(FakeStrategy(with_chief, "chief", 0))
    assert not distributed.is_chief(FakeStrategy(with_chief, "worker", 0))
    folder = str(tmp_path / "run")
    assert distributed.worker_folder(folder, FakeStrategy(workers, "worker", 0)) == folder
    other = distributed.worker_folder(folder, FakeStrategy(workers, "worker", 1))
    assert other != folder and os.path.isdir(other) and not other.startswith(folder)
    distributed.remove_worker_folder(folder, other)
    assert not os.path.exists(other)


@tensorflow_only
def test_mirrored_strategy_trains_a_run_folder(data_dir, tmp_path):
    import tensorflow as tf

    out = str(tmp_path / "run")
    code = cli.main(["train", "gru_uni", "--task", TASK, "--epochs", "1", "--out", out, "--data-dir", data_dir,
                     "--set", "backbone.units=8", "--strategy", "mirrored"])
    assert code == 0
    folder = out
    rf.check_complete(folder)
    model, config, _ = rf.load_run(folder)
    assert config == seqzoo.get_config("gru_uni", seqzoo.load_task(TASK, data_dir=data_dir), **TINY)
    metrics = rf.read_json(os.path.join(folder, rf.METRICS))
    assert set(metrics) == {"loss", "accuracy"} and np.isfinite(metrics["loss"])

    # A model built outside the scope is rebuilt inside it, with its weights.
    strategy = tf.distribute.MirroredStrategy()
    built = seqzoo.build("gru_uni", task=seqzoo.load_task(TASK, data_dir=data_dir), **TINY)
    copy = distributed.rebuild_in_scope(built, strategy)
    assert copy.distribute_strategy is strategy and built.distribute_strategy is not strategy
    for a, b in zip(built.get_weights(), copy.get_weights()):
        np.testing.assert_array_equal(a, b)


WORKER_SCRIPT = """
import os, sys
import numpy as np
import keras
import seqzoo

index, out, data_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class SaveWeights(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        np.savez(os.path.join(os.path.dirname(out), f"weights_{index}.npz"), *self.model.get_weights())

folder = seqzoo.train("gru_uni", "japanese_vowels", epochs=2, out=out, data_dir=data_dir, strategy="multiworker",
                      callbacks=[SaveWeights()], verbose=2, **{"backbone.units": 8})
print("FOLDER", folder)
"""


@tensorflow_only
def test_multi_worker_training_on_two_local_workers_agrees_on_the_weights(tmp_path):
    data_dir = str(tmp_path / "tfds")  # Not generated yet: the chief generates it while the other worker waits.
    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT)
    out = str(tmp_path / "run")
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    processes, logs = [], []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        log = open(tmp_path / f"worker_{index}.log", "wb")
        logs.append(log)
        processes.append(
            subprocess.Popen([sys.executable, str(script), str(index), out, data_dir],
                             env=environment(TF_CONFIG=tf_config), stdout=log, stderr=subprocess.STDOUT)
        )
    try:
        codes = [process.wait(timeout=400) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        for log in logs:
            log.close()
    texts = [(tmp_path / f"worker_{index}.log").read_text(errors="replace") for index in range(2)]
    assert codes == [0, 0], "\n\n".join(text[-3000:] for text in texts)

    # Both workers hold the same weights after training: the gradients were all-reduced.
    first, second = np.load(tmp_path / "weights_0.npz"), np.load(tmp_path / "weights_1.npz")
    assert len(first.files) == 5
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key])
    # Only the chief (worker 0) wrote the run folder; its last checkpoint holds the same weights.
    rf.check_complete(out)
    last = keras.saving.load_model(os.path.join(out, rf.CHECKPOINTS, "last.keras"))
    for weights, key in zip(last.get_weights(), first.files):
        np.testing.assert_array_equal(weights, first[key])
    assert all("FOLDER " + out in text for text in texts)


# -- keras-tuner's chief/worker mode --------------------------------------------


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
    assert distributed._release_silent_workers(oracle, heard, timeout=5, now=110.0) == [("tuner0", "3")]
    assert list(oracle.ongoing_trials) == ["tuner1"] and oracle.tuner_ids == {"tuner1"}
    assert oracle._retry_queue == ["3"] and oracle.saved == 1
    assert distributed._release_silent_workers(oracle, heard, timeout=5, now=112.0) == []
    # A worker waiting between trials that stops asking is forgotten too (else the chief would wait for it).
    oracle.tuner_ids.add("tuner2")
    asked = {"tuner2": 105.0}
    assert distributed._release_silent_workers(oracle, heard, timeout=5, now=111.0, last_asked=asked) == [("tuner2", None)]
    assert oracle.tuner_ids == {"tuner1"}


def test_a_worker_waits_instead_of_stopping_while_another_trial_runs(tmp_path):
    import keras_tuner

    space = keras_tuner.HyperParameters()
    space.Int("x", 0, 9)
    oracle = keras_tuner.oracles.RandomSearchOracle(objective=keras_tuner.Objective("score", "min"), max_trials=1, hyperparameters=space, seed=0)
    oracle._set_project_dir(str(tmp_path), "project")
    running, stop = distributed._create_trial_or_wait(oracle, "tuner0")
    assert running.status == "RUNNING" and not stop
    waiting, stop = distributed._create_trial_or_wait(oracle, "tuner1")  # max_trials reached, tuner0 still runs.
    assert waiting.status == "IDLE" and not stop and oracle.tuner_ids == {"tuner0", "tuner1"}
    oracle.update_trial(running.trial_id, {"score": 1.0})
    running.status = "COMPLETED"
    oracle.end_trial(running)
    stopped, stop = distributed._create_trial_or_wait(oracle, "tuner1")
    assert stopped.status == "STOPPED" and stop and oracle.tuner_ids == {"tuner0"}


def test_loopback_checks_and_printed_settings():
    assert distributed.is_loopback("127.0.0.1") and distributed.is_loopback("::1") and distributed.is_loopback("localhost")
    assert not distributed.is_loopback("10.0.0.5")
    assert "only processes on this machine" in distributed.security_warning("127.0.0.1", 1234)
    assert "ANY machine" in distributed.security_warning("10.0.0.5", 1234)
    message = distributed.settings_message("127.0.0.1", 1234, first_worker_id=2)
    for setting in ("KERASTUNER_TUNER_ID=tuner2", "KERASTUNER_ORACLE_IP=127.0.0.1", "KERASTUNER_ORACLE_PORT=1234"):
        assert setting in message


def test_distributed_sweep_survives_a_killed_worker(data_dir, tmp_path, capsys):
    """A chief and two workers on loopback; worker tuner1 is killed in the middle of its second trial."""
    out = str(tmp_path / "sweep")
    project = os.path.join(out, tuning.PROJECT)
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
                    runs[name] = tuning.trial_runs(os.path.join(project, name))
            own = {name: records for name, records in runs.items() if any(r["tuner_id"] == "tuner1" for r in records)}
            done = [name for name, records in own.items() if any(r["event"] == "end" for r in records)]
            running = [name for name, records in own.items() if not any(r["event"] == "end" for r in records)]
            if done and running:
                pid = next(r["pid"] for r in runs[running[0]] if r["tuner_id"] == "tuner1")
                os.kill(pid, signal.SIGKILL)
                killed.update(trial=running[0], pid=pid)

    watcher = threading.Thread(target=kill_tuner1_in_its_second_trial, daemon=True)
    watcher.start()
    result = seqzoo.tune("gru_uni", TASK, max_trials=6, epochs=2, out=out, data_dir=data_dir, workers=2, seed=4,
                         worker_timeout=3, verbose=0, **TINY, search={"optimizer.learning_rate": {"float": [1e-3, 3e-2], "sampling": "log"}})
    watcher.join(timeout=5)
    printed = capsys.readouterr().out
    chief_log = open(os.path.join(out, tuning.LOGS, "chief.log")).read()
    assert killed, f"tuner1 never began a second trial:\n{printed}\n{chief_log[-3000:]}"

    # The sweep ended with all six trials finished, by both workers.
    assert len(result.rows) == 6 and all(row["status"] == "COMPLETED" for row in result.rows), result.rows
    assert {row["tuner"] for row in result.rows} == {"tuner0", "tuner1"}
    # The killed worker's trial went back to the queue and tuner0 ran it again.
    runs = tuning.trial_runs(os.path.join(project, killed["trial"]))
    assert [(r["event"], r["tuner_id"]) for r in runs] == [("start", "tuner1"), ("start", "tuner0"), ("end", "tuner0")]
    assert f"worker tuner1 has been silent" in chief_log and f"trial {killed['trial'].split('_')[1]} goes back" in chief_log
    assert "worker tuner1 exited with signal SIGKILL" in printed
    # Loopback only, said so, with the settings for more workers.
    assert "127.0.0.1" in printed and "no authentication" in printed
    for setting in ("KERASTUNER_TUNER_ID=tuner2", "KERASTUNER_ORACLE_IP=127.0.0.1", "KERASTUNER_ORACLE_PORT="):
        assert setting in printed
    rf.check_complete(result.best_run)
