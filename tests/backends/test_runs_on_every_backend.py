"""A run folder's life on the active Keras backend: interrupted, resumed, generated from, fine-tuned.

CI runs this file under `KERAS_BACKEND=tensorflow`, `jax` and `torch`. One
tiny character-level language model of names trains in a run folder, is
interrupted at an epoch boundary (a callback raising `KeyboardInterrupt`, as
Ctrl-C would), and resumes; the finished run generates and is fine-tuned.
"""

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.runs import RunFolder

# One test process runs this module (`pytest -n 2 --dist loadgroup`), so its run is trained once.
pytestmark = pytest.mark.xdist_group("resumed_run")

TINY = {"backbone.units": 8, "inputs.embedding_dim": 4}
FEW = {"splits": {"train": "train[:256]", "validation": "validation[:64]", "test": "test[:64]"}}


class Interrupt(keras.callbacks.Callback):
    """Raises `KeyboardInterrupt` as epoch `epoch` begins, after the epoch before was saved."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


class EpochRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def train_names(out, data_dir, callbacks=(), epochs=2, **arguments):
    return seqzoo.train(
        "gru_char_lm",
        "names",
        epochs=epochs,
        batch_size=64,
        out=str(out),
        data_dir=data_dir,
        task_options=FEW,
        callbacks=list(callbacks),
        verbose=0,
        **{**TINY, **arguments},
    )


@pytest.fixture(scope="module")
def resumed_run(tmp_path_factory, data_dir):
    """A run interrupted as epoch 1 began, then resumed: `(path, what was seen)`."""
    out = tmp_path_factory.mktemp("runs") / "names"
    with pytest.raises(KeyboardInterrupt):
        train_names(out, data_dir, callbacks=[Interrupt(1)])
    seen = {"stage": RunFolder(str(out)).stage, "epochs": [int(row["epoch"]) for row in RunFolder(str(out)).history()]}
    recorder = EpochRecorder()
    path = train_names(out, data_dir, callbacks=[recorder])
    seen["resumed_epochs"] = recorder.epochs
    return path, seen


def test_an_interrupted_run_resumes_and_logs_each_epoch_once(resumed_run):
    path, seen = resumed_run
    assert seen["stage"] == "training" and seen["epochs"] == [0]
    assert seen["resumed_epochs"] == [1]
    run = RunFolder(path)
    assert run.stage == "finished"
    history = run.history()
    assert [int(row["epoch"]) for row in history] == [0, 1]
    assert float(history[1]["loss"]) < float(history[0]["loss"])
    assert run.record["versions"]["backend"] == keras.backend.backend()
    metrics = seqzoo.evaluate(path)
    assert np.isfinite(metrics["loss"])


def test_the_run_generates_the_same_greedy_names_compiled_or_not(resumed_run):
    path, _ = resumed_run
    prefixes = ["Ma", "Jo"]
    compiled = seqzoo.generate(path, greedy=True, prefix=prefixes, max_length=8)
    reference = seqzoo.generate(path, greedy=True, prefix=prefixes, max_length=8, compiled=False)
    assert compiled == reference
    assert len(compiled) == 2 and all(name.startswith(prefix) for name, prefix in zip(compiled, prefixes))


def test_fine_tuning_starts_from_the_runs_weights(resumed_run, data_dir, tmp_path):
    path, _ = resumed_run
    source = RunFolder(path).load_model()
    first = {}

    class FirstWeights(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            first.update({layer.name: layer.get_weights() for layer in self.model.layers if layer.weights})

    out = train_names(tmp_path / "tuned", data_dir, callbacks=[FirstWeights()], from_run=path, epochs=1)
    run = RunFolder(out)
    assert run.stage == "finished"
    assert sorted(run.record["transferred"]["copied"]) == sorted(first)
    for name, weights in first.items():
        for got, want in zip(weights, source.get_layer(name).get_weights()):
            np.testing.assert_array_equal(got, want)
