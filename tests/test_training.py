"""seqzoo.train / seqzoo.evaluate: a run folder's life, resuming, early stopping, fine-tuning, seeds."""

import math
import os
import shutil

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.runs import RunFolder
from seqzoo.runs import RunFolderError
from seqzoo.tasks.vocabulary import Vocabulary
from seqzoo.training.callbacks import ResumedEarlyStopping

TINY_GRU = {"backbone.units": 8}
TINY_LM = {"backbone.units": 16, "inputs.embedding_dim": 8}
# A tenth of names' examples, for fine-tunings whose checks do not depend on how much they learn.
FEW = {"splits": {"train": "train[:640]", "validation": "validation[:128]", "test": "test[:128]"}}


@pytest.fixture(scope="module")
def names_run(tmp_path_factory, data_dir):
    """A finished run: a tiny character-level language model of names, one epoch."""
    task = seqzoo.load_task("names", data_dir=data_dir)
    out = str(tmp_path_factory.mktemp("runs") / "names_lm")
    return seqzoo.train("gru_char_lm", task, epochs=1, batch_size=64, out=out, verbose=0, **TINY_LM)


def epochs_logged(run):
    return [int(row["epoch"]) for row in RunFolder(run).history()]


def hidden_files(run):
    """Leftover temporary files (`.model.*.tmp.keras`, ...) or a lock anywhere in a run folder."""
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
        "tfds:seqzoo_names",
        data_dir=data_dir,
        topology="many_to_one",
        inputs_feature="name",
        label_feature="gender",
        tokenizer="chars",
        **options,
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
    """Raises at the start of epoch `begin` or at the end of epoch `end`, as Ctrl-C would."""

    def __init__(self, begin=None, end=None):
        super().__init__()
        self.begin, self.end = begin, end

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.begin:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.end:
            raise KeyboardInterrupt


def train_vowels(out, data_dir, epochs=4, callbacks=(), batch_size=64, model_or_name="gru_uni", **arguments):
    return seqzoo.train(
        model_or_name,
        "japanese_vowels",
        epochs=epochs,
        batch_size=batch_size,
        out=str(out),
        data_dir=data_dir,
        verbose=0,
        callbacks=list(callbacks),
        **{**TINY_GRU, **arguments},
    )


# -- a finished run -----------------------------------------------------------


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
def test_finished_run_folder(names_run, data_dir):
    assert sorted(os.listdir(names_run)) == [
        "checkpoints",
        "config.json",
        "history.csv",
        "metrics.json",
        "model.keras",
        "run.json",
        "training_curve.png",
        "vocabulary_inputs.json",
    ]
    assert sorted(os.listdir(os.path.join(names_run, "checkpoints"))) == ["best.keras", "last.keras"]
    assert not hidden_files(names_run)
    run = RunFolder(names_run)
    record = run.record
    assert record["stage"] == "finished"
    assert {
        key: record[key] for key in ("model", "task", "task_options", "data_dir", "batch_size", "epochs", "seed")
    } == {
        "model": "gru_char_lm",
        "task": "names",
        "task_options": {},
        "data_dir": data_dir,
        "batch_size": 64,
        "epochs": 1,
        "seed": 0,
    }
    assert record["versions"]["keras"] == keras.__version__ and record["versions"]["backend"] == keras.backend.backend()
    model = run.load_model()
    assert model.seqzoo_config == run.config
    task = seqzoo.load_task("names", data_dir=data_dir)
    assert run.config["backbone"]["units"] == 16
    assert run.config["inputs"]["vocab_size"] == task.model_spec()["inputs"]["vocab_size"]
    assert run.vocabularies()["inputs"].inverse == task.vocabularies["inputs"].inverse
    assert epochs_logged(names_run) == [0]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(run.history()[0])
    with open(run.file("training_curve.png"), "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
def test_language_model_metrics_of_a_run(names_run, data_dir):
    results = RunFolder(names_run).metrics()
    assert set(results) == {"loss", "accuracy", "perplexity", "bits_per_token", "tokens"}
    task = seqzoo.load_task("names", data_dir=data_dir)
    names = [raw["name"].decode() for raw in task.raw("test").as_numpy_iterator()]
    assert results["tokens"] == sum(len(name) + 1 for name in names)  # Every name's characters plus EOS.
    assert results["bits_per_token"] == pytest.approx(math.log2(results["perplexity"]))
    assert math.log(results["perplexity"]) == pytest.approx(results["loss"], rel=0.02)
    assert results["perplexity"] < task.model_spec()["inputs"]["vocab_size"] / 2  # One epoch beats uniform.


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
def test_evaluate_a_run_reproduces_its_metrics(names_run, data_dir):
    results = RunFolder(names_run).metrics()
    again = seqzoo.evaluate(names_run)  # The run's task, data_dir, batch size and vocabularies.
    assert set(again) == set(results)
    for key in results:
        assert again[key] == pytest.approx(results[key], rel=1e-5), key
    model = keras.saving.load_model(os.path.join(names_run, "model.keras"))
    task = seqzoo.load_task("names", data_dir=data_dir).load_vocabularies(names_run)
    assert seqzoo.evaluate(model, task)["perplexity"] == pytest.approx(results["perplexity"], rel=1e-5)


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
def test_train_into_a_finished_run_is_an_error(names_run, data_dir):
    before = os.stat(os.path.join(names_run, "metrics.json")).st_mtime_ns
    with pytest.raises(RunFolderError, match="holds a finished run") as error:
        seqzoo.train("gru_char_lm", "names", epochs=1, out=names_run, data_dir=data_dir, verbose=0, **TINY_LM)
    assert names_run in str(error.value)
    assert os.stat(os.path.join(names_run, "metrics.json")).st_mtime_ns == before


# -- bad run folders and arguments, checked before anything is written ------------


def test_evaluate_a_missing_or_empty_folder(tmp_path):
    with pytest.raises(RunFolderError, match="does not exist"):
        seqzoo.evaluate(str(tmp_path / "nowhere"))
    with pytest.raises(RunFolderError, match="not a seqzoo run folder: it has no run.json") as error:
        seqzoo.evaluate(str(tmp_path))
    assert str(tmp_path) in str(error.value)


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
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


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"epochs": 0}, r"epochs=0; it must be an integer >= 1"),
        ({"batch_size": 0}, r"batch_size=0; it must be an integer >= 1"),
        ({"patience": -1}, r"patience=-1"),
        ({"freeze_backbone": True}, r"freeze_backbone=True without from_run"),
        ({"partial": True}, r"partial=True without from_run"),
        ({"model_or_name": None}, r"no model and no from_run"),
        ({"from_run": "nowhere"}, r"'nowhere' does not exist"),
        ({"backbone.unitz": 8}, r"Unknown override 'backbone.unitz'\. Did you mean 'backbone.units'"),
        ({"task_options": {"max_lenght": 3}}, r"max_lenght"),
    ],
)
def test_bad_arguments_write_nothing(tmp_path, data_dir, arguments, message):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=message):
        train_vowels(out, data_dir, **arguments)
    assert not out.exists()


def test_a_data_dir_that_is_a_file_writes_nothing(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ValueError, match="which is a file"):
        train_vowels(tmp_path / "run", str(tmp_path / "file"))
    assert not (tmp_path / "run").exists()


def test_out_in_a_folder_of_other_files_is_refused(tmp_path, data_dir):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match=r"holds other files \(notes.txt\)"):
        train_vowels(tmp_path, data_dir)
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_out_in_a_folder_of_the_users_files_named_as_a_runs_is_refused(tmp_path, data_dir):
    """Only the run knows what it wrote: the user's history.csv, config.json and vocabularies are not its."""
    mine = {"history.csv": "epoch,loss\n0,1.0\n", "config.json": "{}\n", "vocabulary_inputs.json": "[]\n"}
    for name, text in mine.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(RunFolderError, match=r"holds other files \(config.json, history.csv, vocabulary_inputs.json\)"):
        train_vowels(tmp_path, data_dir)
    assert {name: (tmp_path / name).read_text() for name in os.listdir(tmp_path)} == mine


# -- resuming -------------------------------------------------------------------


# Changed arguments -> how the refusal names the difference.
CHANGES = [
    ({"model": "lstm_uni"}, "model: 'gru_uni' -> 'lstm_uni'"),
    ({"task": "names"}, "task: 'japanese_vowels' -> 'names'"),
    ({"backbone.units": 16}, "overrides: {'backbone.units': 8} -> {'backbone.units': 16}"),
    ({"epochs": 7}, "epochs: 4 -> 7"),
    ({"seed": 3}, "seed: 0 -> 3"),
]


def test_resume_after_a_crash_between_history_and_backup(tmp_path, data_dir):
    """Interrupted after epoch 1 was logged but before it was backed up: epoch 1 runs again, logged once.

    Resuming with other arguments is refused first, writing nothing; the same arguments resume it.
    """
    out = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        train_vowels(out, data_dir, callbacks=[Crash(end=1)])
    assert epochs_logged(out) == [0, 1] and RunFolder(out).stage == "training"
    with pytest.raises(RunFolderError, match="unfinished.*resume it"):
        seqzoo.evaluate(out)
    before = {name: os.stat(os.path.join(out, name)).st_mtime_ns for name in ("run.json", "history.csv", "config.json")}
    for change, differs in CHANGES:
        arguments = {"model_or_name": "gru_uni", "task": "japanese_vowels", "epochs": 4, **TINY_GRU}
        arguments.update({("model_or_name" if key == "model" else key): value for key, value in change.items()})
        with pytest.raises(RunFolderError, match="was started with other arguments") as error:
            seqzoo.train(**arguments, batch_size=64, out=out, data_dir=data_dir, verbose=0)
        assert differs in str(error.value)
        assert before == {name: os.stat(os.path.join(out, name)).st_mtime_ns for name in before}
    recorder = EpochRecorder()
    train_vowels(out, data_dir, callbacks=[recorder])  # The same arguments resume it.
    assert recorder.epochs == [1, 2, 3]
    assert epochs_logged(out) == [0, 1, 2, 3]
    assert RunFolder(out).stage == "finished" and not hidden_files(out)
    assert not os.path.exists(os.path.join(out, "backup"))


class Sabotage(keras.callbacks.Callback):
    """Makes every epoch it sees far worse: the head's bias says class 0 with logit 50."""

    def on_epoch_begin(self, epoch, logs=None):
        kernel, bias = self.model.get_layer("head").get_weights()
        self.model.get_layer("head").set_weights([kernel, np.where(np.arange(len(bias)) == 0, 50.0, 0.0)])


def test_resumed_run_keeps_the_best_model_from_before_the_interruption(tmp_path, data_dir):
    out = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        train_vowels(out, data_dir, epochs=3, callbacks=[Crash(begin=2)])
    train_vowels(out, data_dir, epochs=3, callbacks=[Sabotage()])
    losses = [float(row["val_loss"]) for row in RunFolder(out).history()]
    assert min(losses[2:]) > 10 * max(losses[:2])  # The resumed epochs were sabotaged.
    model = keras.saving.load_model(os.path.join(out, "model.keras"))  # The best epoch's: from before.
    task = seqzoo.load_task("japanese_vowels", data_dir=data_dir)
    loss = model.evaluate(task.batches("validation", 64), verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(min(losses), rel=1e-4)


def test_early_stopping_counts_the_epochs_from_before_an_interruption():
    rows = [{"epoch": str(i), "loss": "1", "val_loss": str(value)} for i, value in enumerate([1.0, 0.5, 0.6, 0.7])]
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    resumed = ResumedEarlyStopping(rows, patience=3)
    resumed.set_model(model)
    resumed.on_train_begin()
    assert (resumed.best, resumed.wait) == (0.5, 2)
    resumed.on_epoch_end(4, {"val_loss": 0.8})  # The third epoch without improvement.
    assert model.stop_training
    model.stop_training = False
    fresh = ResumedEarlyStopping([], patience=3)  # A run with no history yet waits the whole patience.
    fresh.set_model(model)
    fresh.on_train_begin()
    for epoch, loss in enumerate([0.5, 0.6, 0.7]):
        fresh.on_epoch_end(epoch, {"val_loss": loss})
    assert not model.stop_training


@pytest.mark.filterwarnings("error:Your input ran out of data")
def test_the_same_seed_gives_the_same_run(tmp_path, data_dir):
    """Also: files keep the user's umask, and Keras is given the number of batches.

    Keras warns "Your input ran out of data" when a dataset of unknown length ends an epoch: never here.
    """
    previous = os.umask(0o027)
    try:
        first_run = train_vowels(tmp_path / "a", data_dir, epochs=2, seed=7)
    finally:
        os.umask(previous)
    for root, _, files in os.walk(first_run):
        for name in files:
            assert os.stat(os.path.join(root, name)).st_mode & 0o777 == 0o640, name
    assert seqzoo.evaluate(first_run, split="validation")["accuracy"] > 0
    first = seqzoo.evaluate(first_run)
    second = seqzoo.evaluate(train_vowels(tmp_path / "b", data_dir, epochs=2, seed=7))
    other = seqzoo.evaluate(train_vowels(tmp_path / "c", data_dir, epochs=2, seed=8))
    assert first == second
    assert first["loss"] != other["loss"]


# -- fine-tuning ------------------------------------------------------------------


class StartingWeights(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = {layer.name: layer.get_weights() for layer in self.model.layers if layer.weights}


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
def test_fine_tuning_with_no_model_builds_the_runs_own_and_copies_every_weight(names_run, data_dir, tmp_path):
    source = RunFolder(names_run)
    start = StartingWeights()

    def fine_tune(out, *model, **arguments):
        folder = str(tmp_path / out)
        return RunFolder(
            seqzoo.train(
                *model,
                task="names",
                task_options=FEW,
                from_run=names_run,
                epochs=1,
                batch_size=64,
                out=folder,
                data_dir=data_dir,
                verbose=0,
                **arguments,
            )
        )

    run = fine_tune("again", callbacks=[start])
    assert run.config == source.config and run.config["backbone"]["units"] == TINY_LM["backbone.units"]
    assert run.record["model"] == "gru_char_lm" and run.record["overrides"] == {}
    assert run.record["transferred"]["copied"] == ["inputs_embedding", "backbone", "head"]
    assert not run.record["transferred"]["skipped"] and "unused" not in run.record["transferred"]
    trained = source.load_model()
    for name, weights in start.weights.items():
        assert_same_weights(weights, trained.get_layer(name).get_weights())
    # The run's own model name builds the same (its resolved config, not the named model's defaults).
    named = fine_tune("named", "gru_char_lm")
    assert named.config == source.config and named.metrics() == run.metrics()


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
def test_a_layer_that_cannot_be_copied_is_an_error_that_names_it(names_run, data_dir, tmp_path):
    out = tmp_path / "lstm"
    with pytest.raises(ValueError, match="Not every layer of") as error:
        seqzoo.train("lstm_uni", "names", from_run=names_run, out=str(out), data_dir=data_dir, verbose=0, **TINY_LM)
    message = str(error.value)
    assert "backbone (weights (8, 48), (16, 48), (2, 48) in the run, (8, 64), (16, 64), (64,) here)" in message
    assert "partial=True (--partial)" in message and "head" not in message
    assert not out.exists()


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
def test_the_named_model_is_built_and_takes_the_weights_that_fit(names_run, data_dir, tmp_path):
    """An LSTM from a GRU run: the embedding and head fit (same shapes), the GRU backbone does not."""
    source = RunFolder(names_run).load_model()
    out = seqzoo.train(
        "lstm_uni",
        "names",
        epochs=1,
        batch_size=64,
        out=str(tmp_path / "lstm"),
        task_options=FEW,
        from_run=names_run,
        partial=True,
        data_dir=data_dir,
        verbose=0,
        **TINY_LM,
    )
    run = RunFolder(out)
    assert run.config["backbone"]["cell"] == "lstm" and run.config["topology"] == "language_model"
    transferred = run.record["transferred"]
    assert transferred["copied"] == ["inputs_embedding", "head"]
    assert "backbone" in transferred["skipped"] and "(8, 64)" in transferred["skipped"]["backbone"]
    assert run.record["from_run"] == os.path.abspath(names_run)
    assert run.vocabularies()["inputs"].inverse == RunFolder(names_run).vocabularies()["inputs"].inverse
    assert source.get_layer("inputs_embedding").get_weights()[0].shape == (run.config["inputs"]["vocab_size"], 8)


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
def test_overrides_apply_when_fine_tuning(names_run, data_dir, tmp_path):
    out = seqzoo.train(
        "gru_char_lm",
        "names",
        epochs=1,
        batch_size=64,
        out=str(tmp_path / "wide"),
        task_options=FEW,
        from_run=names_run,
        partial=True,
        data_dir=data_dir,
        verbose=0,
        **{**TINY_LM, "backbone.units": 32},
    )
    run = RunFolder(out)
    assert run.config["backbone"]["units"] == 32
    assert run.record["transferred"]["copied"] == ["inputs_embedding"]
    assert set(run.record["transferred"]["skipped"]) == {"backbone", "head"}


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
def test_fine_tuning_with_no_layer_that_fits_is_an_error(names_run, data_dir, tmp_path):
    out = tmp_path / "vowels"
    with pytest.raises(ValueError, match="No layer of the new model fits") as error:
        train_vowels(out, data_dir, from_run=names_run)
    assert "head" in str(error.value) and "backbone" in str(error.value)
    assert not out.exists()


class FirstWeights(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.head = weights(self.model, "head")
        self.backbone = weights(self.model, "backbone")


@pytest.mark.xdist_group("names_run")  # One worker trains `names_run` once.
def test_fine_tune_a_language_model_into_a_classifier_and_resume_it(names_run, data_dir, tmp_path):
    """Interrupted twice, then resumed: it starts from the run's backbone, keeps it frozen and trains a new head."""
    source = RunFolder(names_run).load_model()
    source_backbone = weights(source, "backbone")
    out = str(tmp_path / "gender")

    def fine_tune(*callbacks):
        return seqzoo.train(
            "gru_char_lm",
            gender_task(data_dir, **FEW),
            epochs=2,
            batch_size=64,
            out=out,
            from_run=names_run,
            freeze_backbone=True,
            partial=True,
            verbose=0,
            callbacks=list(callbacks),
            **TINY_LM,
        )

    with pytest.raises(KeyboardInterrupt):  # Interrupted before any epoch was backed up.
        fine_tune(Crash(begin=0))
    first = FirstWeights()
    with pytest.raises(KeyboardInterrupt):  # Interrupted after epoch 0.
        fine_tune(first, Crash(begin=1))
    assert_same_weights(first.backbone, source_backbone)  # Still fine-tunes the run, not a random model.
    recorder = EpochRecorder()
    fine_tune(recorder)
    assert recorder.epochs == [1]
    assert epochs_logged(out) == [0, 1]
    run = RunFolder(out)
    assert run.config["topology"] == "many_to_one" and run.config["outputs"] == {"type": "classes", "size": 2}
    run_vocabulary = Vocabulary.load(os.path.join(names_run, "vocabulary_inputs.json"))
    assert run.vocabularies()["inputs"].inverse == run_vocabulary.inverse  # Token ids keep their meaning.
    tuned = run.load_model()
    assert_same_weights(weights(tuned, "backbone"), source_backbone)  # Frozen across the interruption.
    assert not tuned.get_layer("backbone").trainable
    assert [w.shape for w in weights(tuned, "head")] == [(16, 2), (2,)]  # A new head, trained.
    assert min(np.abs(a - b).max() for a, b in zip(weights(tuned, "head"), first.head)) > 1e-4
    assert run.record["transferred"]["copied"] == ["inputs_embedding", "backbone"]
    assert run.record["task"] == "tfds:seqzoo_names" and run.record["task_options"]["topology"] == "many_to_one"
    assert seqzoo.evaluate(out)["loss"] == pytest.approx(run.metrics()["loss"], rel=1e-5)
