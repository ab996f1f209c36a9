"""seqzoo.train / seqzoo.evaluate: run folders, resuming, fine-tuning, bad run folders."""

import csv
import json
import math
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.run_folder import RunFolderError
from seqzoo.tasks.vocabulary import Vocabulary
from seqzoo.training import ResumedEarlyStopping
from seqzoo.training import fine_tune_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_GRU = {"backbone.units": 8}
TINY_LM = {"backbone.units": 16, "inputs.embedding_dim": 8}


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """One TFDS folder for the whole session, so each dataset is generated once."""
    path = tmp_path_factory.getbasetemp() / "seqzoo_tfds"
    path.mkdir(exist_ok=True)
    return str(path)


@pytest.fixture(scope="module")
def names_run(tmp_path_factory, data_dir):
    """A finished run: a tiny character-level language model of names, one epoch."""
    keras.utils.set_random_seed(0)
    task = seqzoo.load_task("names", data_dir=data_dir)
    out = str(tmp_path_factory.mktemp("runs") / "names_lm")
    return seqzoo.train("gru_char_lm", task, epochs=1, batch_size=64, out=out, verbose=0, **TINY_LM)


def read_json(run, name):
    with open(os.path.join(run, name)) as file:
        return json.load(file)


def history(run):
    with open(os.path.join(run, "history.csv")) as file:
        return list(csv.DictReader(file))


def epochs_logged(run):
    return [int(row["epoch"]) for row in history(run)]


def hidden_files(run):
    """Leftover temporary files (`.model.keras.*`, `.metrics.json.*`, ...) anywhere in a run folder."""
    return [name for _, _, files in os.walk(run) for name in files if name.startswith(".")]


def weights(model, layer):
    return model.get_layer(layer).get_weights()


def assert_same_weights(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def gender_task(data_dir, **options):
    """A generic task on seqzoo's names dataset: a name's characters -> its gender (2 classes)."""
    return seqzoo.load_task(
        "tfds:seqzoo_names", data_dir=data_dir,
        topology="many_to_one", inputs_feature="name", label_feature="gender", tokenizer="chars", **options,
    )


class EpochRecorder(keras.callbacks.Callback):
    """Records the epochs that begin, and the weights each begins with."""

    def __init__(self):
        super().__init__()
        self.epochs, self.weights = [], {}

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)
        self.weights[epoch] = self.model.get_weights()


class Crash(keras.callbacks.Callback):
    """Raises at the start of epoch `begin` or at the end of epoch `end`, as a kill would stop training."""

    def __init__(self, begin=None, end=None):
        super().__init__()
        self.begin, self.end = begin, end

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.begin:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.end:
            raise KeyboardInterrupt


def train_vowels(out, data_dir, epochs=4, callbacks=()):
    return seqzoo.train(
        "gru_uni", "japanese_vowels", epochs=epochs, batch_size=64, out=str(out), data_dir=data_dir,
        verbose=0, callbacks=list(callbacks), **TINY_GRU,
    )


# -- a finished run -----------------------------------------------------------


def test_finished_run_folder(names_run, data_dir):
    assert sorted(os.listdir(names_run)) == [
        "checkpoints", "config.json", "history.csv", "metrics.json", "model.keras", "task.json",
        "training_curve.png", "vocabulary_inputs.json",
    ]
    assert sorted(os.listdir(os.path.join(names_run, "checkpoints"))) == ["best.keras", "last.keras"]
    assert not hidden_files(names_run)
    assert read_json(names_run, "task.json") == {
        "task": "names", "options": {}, "model": "gru_char_lm", "data_dir": data_dir, "from_run": None,
        "freeze_backbone": False, "batch_size": 64,
    }
    model = keras.saving.load_model(os.path.join(names_run, "model.keras"))
    config = read_json(names_run, "config.json")
    assert model.seqzoo_config == config
    task = seqzoo.load_task("names", data_dir=data_dir)
    vocab_size = task.model_spec()["inputs"]["vocab_size"]
    assert config["topology"] == "language_model" and config["backbone"]["units"] == 16
    assert config["inputs"]["vocab_size"] == vocab_size
    assert Vocabulary.load(os.path.join(names_run, "vocabulary_inputs.json")).inverse == task.vocabularies["inputs"].inverse
    assert epochs_logged(names_run) == [0]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history(names_run)[0])
    with open(os.path.join(names_run, "training_curve.png"), "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"


def test_language_model_metrics_of_a_run(names_run, data_dir):
    results = read_json(names_run, "metrics.json")
    assert set(results) == {"loss", "accuracy", "perplexity", "bits_per_token", "tokens"}
    # Every test name is its characters plus the end token.
    task = seqzoo.load_task("names", data_dir=data_dir)
    names = [raw["name"].decode() for raw in task.raw("test").as_numpy_iterator()]
    assert results["tokens"] == sum(len(name) + 1 for name in names)
    assert results["bits_per_token"] == pytest.approx(math.log2(results["perplexity"]))
    assert math.log(results["perplexity"]) == pytest.approx(results["loss"], rel=0.02)
    vocab_size = task.model_spec()["inputs"]["vocab_size"]
    assert results["perplexity"] < vocab_size / 2  # one epoch is already far better than uniform


def test_evaluate_a_run_reproduces_its_metrics(names_run, data_dir):
    results = read_json(names_run, "metrics.json")
    again = seqzoo.evaluate(names_run)  # the run's task, data_dir and vocabularies
    assert set(again) == set(results)
    for key in results:
        assert again[key] == pytest.approx(results[key], rel=1e-5), key
    # The same through evaluate(model, task).
    model = keras.saving.load_model(os.path.join(names_run, "model.keras"))
    task = seqzoo.load_task("names", data_dir=data_dir).load_vocabularies(names_run)
    assert seqzoo.evaluate(model, task)["perplexity"] == pytest.approx(results["perplexity"], rel=1e-5)


def test_train_into_a_finished_run_is_an_error(names_run, data_dir):
    before = os.stat(os.path.join(names_run, "metrics.json")).st_mtime_ns
    with pytest.raises(RunFolderError, match="holds a finished run") as error:
        seqzoo.train("gru_char_lm", "names", epochs=1, out=names_run, data_dir=data_dir, verbose=0, **TINY_LM)
    assert names_run in str(error.value)
    assert os.stat(os.path.join(names_run, "metrics.json")).st_mtime_ns == before


# -- bad run folders ------------------------------------------------------------


def test_evaluate_a_missing_or_empty_folder(tmp_path):
    with pytest.raises(RunFolderError, match="does not exist"):
        seqzoo.evaluate(str(tmp_path / "nowhere"))
    with pytest.raises(RunFolderError, match="not a finished seqzoo run folder") as error:
        seqzoo.evaluate(str(tmp_path))
    assert "missing config.json, task.json, model.keras, metrics.json" in str(error.value)
    assert str(tmp_path) in str(error.value)


def test_evaluate_a_run_killed_in_its_first_epoch(names_run, tmp_path):
    """config.json and task.json are written first; without metrics.json the run is unfinished."""
    run = str(tmp_path / "run")
    os.makedirs(run)
    for name in ("config.json", "task.json"):
        shutil.copy(os.path.join(names_run, name), run)
    with pytest.raises(RunFolderError, match="is unfinished.*resume it with `seqzoo train ... --out"):
        seqzoo.evaluate(run)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_evaluate_a_corrupted_model(names_run, tmp_path, damage):
    run = str(tmp_path / "run")
    shutil.copytree(names_run, run)
    path = os.path.join(run, "model.keras")
    with open(path, "rb") as file:
        content = file.read()
    with open(path, "wb") as file:
        file.write(os.urandom(2048) if damage == "garbage" else content[: len(content) // 2])
    with pytest.raises(RunFolderError, match="is corrupted") as error:
        seqzoo.evaluate(run)
    assert run in str(error.value)


# -- resuming -------------------------------------------------------------------

KILL_AT_EPOCH_2 = """
import os, sys
import keras
import seqzoo

class Kill(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:  # Two epochs done and backed up: the process dies.
            os._exit(17)

seqzoo.train("gru_uni", "japanese_vowels", epochs=4, batch_size=64, out=sys.argv[1], data_dir=sys.argv[2],
             verbose=0, callbacks=[Kill()], backbone={"units": 8})
"""


def test_resume_a_killed_run(tmp_path, data_dir):
    out = str(tmp_path / "run")
    env = {**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"}
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT_EPOCH_2, out, data_dir], env=env, capture_output=True, text=True, timeout=400
    )
    assert killed.returncode == 17, killed.stderr[-3000:]
    assert epochs_logged(out) == [0, 1]
    assert os.path.isdir(os.path.join(out, "backup")) and not os.path.exists(os.path.join(out, "metrics.json"))
    with pytest.raises(RunFolderError, match="unfinished"):
        seqzoo.evaluate(out)
    last = keras.saving.load_model(os.path.join(out, "checkpoints", "last.keras")).get_weights()

    recorder = EpochRecorder()
    assert train_vowels(out, data_dir, callbacks=[recorder]) == out
    assert recorder.epochs == [2, 3]  # resumed after the two finished epochs
    for restored, saved in zip(recorder.weights[2], last):  # from the backup, not from scratch
        np.testing.assert_array_equal(restored, saved)
    assert epochs_logged(out) == [0, 1, 2, 3]
    assert set(read_json(out, "metrics.json")) == {"loss", "accuracy"}
    assert not os.path.exists(os.path.join(out, "backup"))
    assert not hidden_files(out)


def test_resume_after_a_crash_between_history_and_backup(tmp_path, data_dir):
    """Killed after epoch 1 was logged but before it was backed up: epoch 1 runs again, logged once."""
    out = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        train_vowels(out, data_dir, callbacks=[Crash(end=1)])
    assert epochs_logged(out) == [0, 1]
    with pytest.raises(RunFolderError, match="unfinished") as error:
        seqzoo.evaluate(out)
    assert "resume it" in str(error.value)
    recorder = EpochRecorder()
    train_vowels(out, data_dir, callbacks=[recorder])
    assert recorder.epochs == [1, 2, 3]
    assert epochs_logged(out) == [0, 1, 2, 3]
    assert os.path.exists(os.path.join(out, "metrics.json")) and not hidden_files(out)


class Sabotage(keras.callbacks.Callback):
    """Makes every epoch it sees far worse: the head's bias says class 0 with logit 50."""

    def on_epoch_begin(self, epoch, logs=None):
        kernel, bias = self.model.get_layer("head").get_weights()
        self.model.get_layer("head").set_weights([kernel, np.where(np.arange(len(bias)) == 0, 50.0, 0.0)])


def test_resumed_run_keeps_the_best_model_from_before_the_interruption(tmp_path, data_dir):
    out = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        train_vowels(out, data_dir, callbacks=[Crash(begin=2)])
    train_vowels(out, data_dir, callbacks=[Sabotage()])
    losses = [float(row["val_loss"]) for row in history(out)]
    assert min(losses[2:]) > 10 * max(losses[:2])  # the resumed epochs were sabotaged
    # model.keras is the best epoch's model: one from before the interruption.
    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    task = seqzoo.load_task("japanese_vowels", data_dir=data_dir)
    loss = model.evaluate(task.batches("validation", 64), verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(min(losses), rel=1e-4)


def test_early_stopping_counts_the_epochs_from_before_an_interruption(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text("epoch,loss,val_loss\n0,1.0,1.0\n1,0.9,0.5\n2,0.8,0.6\n3,0.7,0.7\n")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    resumed = ResumedEarlyStopping(str(history), patience=3)
    resumed.set_model(model)
    resumed.on_train_begin()
    assert (resumed.best, resumed.wait) == (0.5, 2)
    resumed.on_epoch_end(4, {"val_loss": 0.8})  # the third epoch without improvement
    assert model.stop_training
    # A run with no history yet waits the whole patience.
    model.stop_training = False
    fresh = ResumedEarlyStopping(str(tmp_path / "none.csv"), patience=3)
    fresh.set_model(model)
    fresh.on_train_begin()
    for epoch, loss in enumerate([0.5, 0.6, 0.7]):
        fresh.on_epoch_end(epoch, {"val_loss": loss})
    assert not model.stop_training


# -- fine-tuning ----------------------------------------------------------------


def test_fine_tune_a_language_model_into_a_classifier(names_run, data_dir):
    source = keras.saving.load_model(os.path.join(names_run, "model.keras"))
    task = gender_task(data_dir)
    model = fine_tune_model(names_run, task)
    config = model.seqzoo_config
    assert config["topology"] == "many_to_one" and config["outputs"] == {"type": "classes", "size": 2}
    # The run's vocabulary, so that token ids keep their meaning.
    run_vocabulary = Vocabulary.load(os.path.join(names_run, "vocabulary_inputs.json"))
    assert task.vocabularies["inputs"].inverse == run_vocabulary.inverse
    assert_same_weights(weights(model, "backbone"), weights(source, "backbone"))
    assert_same_weights(weights(model, "inputs_embedding"), weights(source, "inputs_embedding"))
    # The head is new: 2 classes instead of the next character.
    assert [w.shape for w in weights(model, "head")] == [(16, 2), (2,)]
    assert [w.shape for w in weights(source, "head")] == [(16, len(run_vocabulary)), (len(run_vocabulary),)]
    assert all(layer.trainable for layer in model.layers)


def test_fine_tune_a_language_model_into_a_conditioned_generator(names_run, data_dir):
    source = keras.saving.load_model(os.path.join(names_run, "model.keras"))
    task = seqzoo.load_task("names_by_gender", data_dir=data_dir)
    model = fine_tune_model(names_run, task)
    assert model.seqzoo_config["topology"] == "one_to_many"
    for layer in ("backbone", "inputs_embedding", "head"):  # same shapes: all reused
        assert_same_weights(weights(model, layer), weights(source, layer))
    source_layers = {layer.name for layer in source.layers}
    new = {layer.name for layer in model.layers if layer.weights} - source_layers
    assert "condition_embedding" in new and any(name.startswith("initial_state") for name in new)
    x, y = next(iter(task.batches("test", 8)))
    assert np.asarray(model(x)).shape == tuple(y.shape) + (len(task.vocabularies["inputs"]),)


class FirstWeights(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.head = weights(self.model, "head")
        self.backbone = weights(self.model, "backbone")


def test_train_from_a_run_with_a_frozen_backbone(names_run, data_dir, tmp_path):
    source = keras.saving.load_model(os.path.join(names_run, "model.keras"))
    first = FirstWeights()
    out = str(tmp_path / "gender")
    run = seqzoo.train(
        "gru_char_lm", gender_task(data_dir), epochs=1, batch_size=64, out=out, from_run=names_run,
        freeze_backbone=True, verbose=0, callbacks=[first],
    )
    assert_same_weights(first.backbone, weights(source, "backbone"))  # starts from the run's backbone
    tuned = keras.saving.load_model(os.path.join(run, "model.keras"))
    assert_same_weights(weights(tuned, "backbone"), weights(source, "backbone"))  # frozen: unchanged
    assert not tuned.get_layer("backbone").trainable
    head_change = [np.abs(after - before).max() for after, before in zip(weights(tuned, "head"), first.head)]
    assert min(head_change) > 1e-4  # the new head trained
    record = read_json(run, "task.json")
    assert record["from_run"] == names_run and record["model"] == "names_lm-finetuned"
    assert record["task"] == "tfds:seqzoo_names" and record["options"]["topology"] == "many_to_one"
    results = read_json(run, "metrics.json")
    assert set(results) == {"loss", "accuracy"} and 0.0 <= results["accuracy"] <= 1.0
    assert seqzoo.evaluate(run, batch_size=64)["loss"] == pytest.approx(results["loss"], rel=1e-5)


def test_resume_a_fine_tuning_run_keeps_its_start_and_its_frozen_backbone(names_run, data_dir, tmp_path):
    source_backbone = weights(keras.saving.load_model(os.path.join(names_run, "model.keras")), "backbone")
    few = {"splits": {"train": "train[:640]", "validation": "validation[:128]", "test": "test[:128]"}}
    out = str(tmp_path / "gender")

    def fine_tune(*callbacks):
        return seqzoo.train(
            "gru_char_lm", gender_task(data_dir, **few), epochs=2, batch_size=64, out=out, from_run=names_run,
            freeze_backbone=True, verbose=0, callbacks=list(callbacks),
        )

    with pytest.raises(KeyboardInterrupt):  # Killed before any epoch was backed up.
        fine_tune(Crash(begin=0))
    first = FirstWeights()
    with pytest.raises(KeyboardInterrupt):  # Killed after epoch 0.
        fine_tune(first, Crash(begin=1))
    assert_same_weights(first.backbone, source_backbone)  # still fine-tunes the run, not a random model
    recorder = EpochRecorder()
    fine_tune(recorder)
    assert recorder.epochs == [1]
    tuned = keras.saving.load_model(os.path.join(out, "model.keras"))
    assert not tuned.get_layer("backbone").trainable
    assert_same_weights(weights(tuned, "backbone"), source_backbone)  # frozen across the interruption
    assert epochs_logged(out) == [0, 1]
