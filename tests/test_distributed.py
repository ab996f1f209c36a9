"""Training with tf.distribute: strategies by name, only the chief writes, two real workers agree."""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo import cli
from seqzoo.runs import RunFolder
from seqzoo.training import distribute as distributed

TASK = "japanese_vowels"
TINY = {"backbone.units": 8}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tensorflow_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="tf.distribute drives TensorFlow only"
)


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
    code = cli.main(
        [
            "train",
            "gru_uni",
            "--task",
            TASK,
            "--epochs",
            "1",
            "--out",
            out,
            "--data-dir",
            data_dir,
            "--set",
            "backbone.units=8",
            "--strategy",
            "mirrored",
        ]
    )
    assert code == 0
    run = RunFolder(out).check_finished()
    assert run.config == seqzoo.get_config("gru_uni", seqzoo.load_task(TASK, data_dir=data_dir), **TINY)
    metrics = run.metrics()
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
            subprocess.Popen(
                [sys.executable, str(script), str(index), out, data_dir],
                env=environment(TF_CONFIG=tf_config),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
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
    RunFolder(out).check_finished()
    last = keras.saving.load_model(os.path.join(out, "checkpoints", "last.keras"))
    for weights, key in zip(last.get_weights(), first.files):
        np.testing.assert_array_equal(weights, first[key])
    assert all("FOLDER " + out in text for text in texts)
