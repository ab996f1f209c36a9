"""Training and evaluation on a task, in a run folder that survives interruptions."""

import csv
import os
import time

import keras

from seqzoo import distributed
from seqzoo import run_folder as rf
from seqzoo.tasks import load_task
from seqzoo.zoo import build
from seqzoo.zoo import build_from_config
from seqzoo.zoo import compile_model
from seqzoo.zoo import fit_to_task
from seqzoo.config import resolve


class RunCheckpoints(keras.callbacks.Callback):
    """Saves `checkpoints/last.keras` every epoch and `best.keras` when `monitor` improves, atomically."""

    def __init__(self, folder, monitor="val_loss", history=None):
        super().__init__()
        self.folder, self.monitor, self.history = folder, monitor, history
        self.best = float("inf")

    def on_train_begin(self, logs=None):
        """A resumed run starts from the best value of the epochs already in `history`."""
        self.best = min(_logged_values(self.history, self.monitor), default=float("inf"))

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.folder, exist_ok=True)
        rf.save_model(self.model, os.path.join(self.folder, "last.keras"))
        value = (logs or {}).get(self.monitor, (logs or {}).get("loss"))
        best_path = os.path.join(self.folder, "best.keras")
        if value is not None and (value < self.best or not os.path.exists(best_path)):
            self.best = value
            rf.save_model(self.model, best_path)


class ResumedEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` on `val_loss` that counts the epochs a resumed run already has in `history`.

    Keras's callback starts every `fit` with no best value and no epochs
    waited, so a run interrupted after waiting `patience - 1` epochs would
    otherwise wait `patience` more after resuming.
    """

    def __init__(self, history, patience):
        super().__init__(monitor="val_loss", mode="min", patience=patience)
        self.history = history

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        for value in _logged_values(self.history, self.monitor):
            self.wait += 1
            if self.best is None or value < self.best:
                self.best, self.wait = value, 0


def _logged_values(history, key):
    """The values of `key` (`loss` if it was not logged) in a history CSV, epoch by epoch."""
    if history is None or not os.path.exists(history):
        return []
    with open(history) as file:
        rows = list(csv.DictReader(file))
    key = key if rows and key in rows[0] else "loss"
    return [float(row[key]) for row in rows if row.get(key)]


def _trim_history(path, first_epoch):
    """Drops history rows from `first_epoch` on, so a resumed run never repeats one."""
    if not os.path.exists(path):
        return
    with open(path) as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return
    kept = [row for row in rows if int(row["epoch"]) < first_epoch]
    temporary = rf.atomic_path(path)
    with open(temporary, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    os.replace(temporary, path)


def _resumed_epoch(folder):
    metadata = os.path.join(folder, rf.BACKUP, "training_metadata.json")
    return rf.read_json(metadata)["epoch"] if os.path.exists(metadata) else 0


def plot_history(history_path, image_path):
    """Writes the training curves (every logged metric, train and validation) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(history_path) as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return
    metrics = [key for key in rows[0] if key != "epoch" and not key.startswith("val_") and key != "learning_rate"]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    epochs = [int(row["epoch"]) + 1 for row in rows]
    for axis, metric in zip(axes[0], metrics):
        axis.plot(epochs, [float(row[metric]) for row in rows], marker="o", label="train")
        if f"val_{metric}" in rows[0]:
            axis.plot(epochs, [float(row[f"val_{metric}"]) for row in rows], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.legend()
    figure.tight_layout()
    rf.save_figure(figure, image_path)


def _prepare_model(model_or_name, task, folder, from_run, freeze_backbone, overrides):
    """The model to train: resumed, fine-tuned, built from a name, or given."""
    config_path = os.path.join(folder, rf.CONFIG)
    if os.path.exists(config_path):  # Resuming: rebuild exactly what was being trained.
        record = rf.read_json(os.path.join(folder, rf.TASK))
        task.load_vocabularies(folder)
        if record.get("from_run") and _resumed_epoch(folder) == 0:  # No epoch backed up: fine-tune afresh.
            return fine_tune_model(record["from_run"], task, record.get("freeze_backbone", False)), record["model"]
        config = rf.read_json(config_path)
        model = build_from_config(config, name=record["model"])
        if record.get("freeze_backbone"):
            _freeze_backbone(model, config)
        return model, record["model"]
    if from_run is not None:
        return fine_tune_model(from_run, task, freeze_backbone), f"{os.path.basename(os.path.normpath(from_run))}-finetuned"
    if isinstance(model_or_name, str):
        return build(model_or_name, task=task, **overrides), model_or_name
    if getattr(model_or_name, "seqzoo_config", None) is None:
        raise ValueError(f"Received a {type(model_or_name).__name__}; train() takes a model name or a model built by seqzoo.")
    return model_or_name, model_or_name.name


def fine_tune_model(run, task, freeze_backbone=False):
    """A model for `task` that starts from a finished run's weights.

    The run's config is fitted to the new task; every layer whose name and
    weight shapes match (the recurrent backbone, an embedding over the same
    vocabulary) takes the run's weights, and a head whose outputs differ is
    new. Where both tasks tokenize their inputs, the run's input vocabulary
    is reused so that token ids keep their meaning.

    Args:
        run: a finished run folder.
        task: the new `Task`.
        freeze_backbone: whether to keep the reused recurrent layers fixed.
    """
    source, config, _ = rf.load_run(run)
    vocabulary = os.path.join(run, "vocabulary_inputs.json")
    if os.path.exists(vocabulary) and "inputs" in task.prepare().vocabularies:
        task.vocabularies["inputs"] = type(task.vocabularies["inputs"]).load(vocabulary)
        task._examples = {}
    new_config = resolve(fit_to_task({k: v for k, v in config.items() if k != "search"}, task.model_spec()), "fine-tuned model")
    model = build_from_config(new_config, name=source.name)
    for layer in model.layers:
        try:
            old = source.get_layer(layer.name)
        except ValueError:
            continue
        if [w.shape for w in old.get_weights()] == [w.shape for w in layer.get_weights()]:
            layer.set_weights(old.get_weights())
    if freeze_backbone:
        _freeze_backbone(model, new_config)
    return model


def _freeze_backbone(model, config):
    """Keeps the recurrent layers (`backbone`, `encoder`) fixed, and compiles again."""
    for name in ("backbone", "encoder"):
        if any(layer.name == name for layer in model.layers):
            model.get_layer(name).trainable = False
    compile_model(model, config)


def train(
    model_or_name,
    task,
    epochs=10,
    batch_size=32,
    out=None,
    from_run=None,
    freeze_backbone=False,
    patience=5,
    tensorboard=False,
    data_dir=None,
    callbacks=(),
    verbose="auto",
    strategy=None,
    **overrides,
):
    """Trains a model on a task in a run folder, resuming it if it was interrupted.

    The run folder holds `config.json` (the resolved config), `task.json`,
    the vocabularies, `checkpoints/best.keras` and `last.keras`,
    `history.csv`, then, when training ends, `model.keras` (the best
    weights), `metrics.json` (the task's test metrics) and
    `training_curve.png`. Every file is written atomically; `metrics.json`
    is written last, so a folder without it is an unfinished run, which
    calling `train` again with the same `out` resumes from its last epoch
    (Keras's `BackupAndRestore`), without repeating or losing an epoch.
    Gradients are clipped by norm (the config's `optimizer.clipnorm`, 1.0
    by default).

    Args:
        model_or_name: a name from `seqzoo.list_models()` or a seqzoo model.
        task: a task name from `seqzoo.list_tasks()` or a `Task`.
        epochs: the total number of epochs.
        batch_size: examples per batch.
        out: the run folder (default `runs/<model>-<task>-<time>`).
        from_run: fine-tune from this finished run folder.
        freeze_backbone: with `from_run`, keep the reused recurrent layers fixed.
        patience: epochs without validation improvement before stopping
            (counted across an interruption and resume).
        tensorboard: whether to write TensorBoard logs to `<out>/logs`.
        data_dir: the TFDS data folder.
        callbacks: more Keras callbacks.
        verbose: Keras's progress bar setting.
        strategy: `None`, `"mirrored"` (this machine's GPUs), `"multiworker"`
            (the machines in `TF_CONFIG`) or a `tf.distribute.Strategy`: the
            model is built and compiled inside `strategy.scope()` (TensorFlow
            backend only). With several workers, each runs this same call;
            the chief (task 0) writes the run folder, the others write to a
            temporary folder that is deleted when training ends.
        **overrides: config overrides for a named model (see `seqzoo.build`).

    Returns:
        The run folder's path.
    """
    strategy = distributed.get_strategy(strategy)  # First: MultiWorkerMirroredStrategy precedes any TF op.
    task = load_task(task, data_dir=data_dir)
    distributed.chief_first(strategy, lambda: task.raw("train"))  # Workers sharing data_dir: one generates it.
    folder = out or os.path.join("runs", f"{model_or_name if isinstance(model_or_name, str) else 'model'}-{task.name.replace('/', '_')}-{time.strftime('%Y%m%d-%H%M%S')}")
    if os.path.exists(os.path.join(folder, rf.METRICS)):
        raise rf.RunFolderError(f"Run folder {folder!r} holds a finished run; choose another --out.")
    distributed.check_can_resume(folder, strategy, rf.CONFIG)
    work = distributed.worker_folder(folder, strategy)  # `folder`, except on a non-chief worker.
    try:
        return _train_in(folder, work, model_or_name, task, strategy, epochs, batch_size, from_run, freeze_backbone,
                         patience, tensorboard, data_dir, callbacks, verbose, overrides)
    finally:
        distributed.remove_worker_folder(folder, work)


def _train_in(folder, work, model_or_name, task, strategy, epochs, batch_size, from_run, freeze_backbone,
              patience, tensorboard, data_dir, callbacks, verbose, overrides):
    """`train` once the run folder is known: `work` is where this process writes (`folder` on the chief)."""
    os.makedirs(work, exist_ok=True)
    with distributed.scope(strategy):
        model, model_name = _prepare_model(model_or_name, task, work, from_run, freeze_backbone, overrides)
    if strategy is not None and model is model_or_name:
        model = distributed.rebuild_in_scope(model, strategy)
    if not os.path.exists(os.path.join(work, rf.CONFIG)):
        start_run_folder(work, task, model, model_name, data_dir, from_run, freeze_backbone, batch_size)
    history = os.path.join(work, rf.HISTORY)
    _trim_history(history, _resumed_epoch(work))
    train_batches = distributed.shard_by_data(task.batches("train", batch_size, shuffle=True), strategy)
    validation = distributed.shard_by_data(task.batches("validation", batch_size), strategy)
    with distributed.scope(strategy):
        _build(model, train_batches)
    distributed.prepare_to_fit(model, validation, strategy)
    all_callbacks = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(history, append=True),
        RunCheckpoints(os.path.join(work, rf.CHECKPOINTS), history=history),
        ResumedEarlyStopping(history, patience),
        *([keras.callbacks.TensorBoard(os.path.join(work, "logs"))] if tensorboard else []),
        *callbacks,
        keras.callbacks.BackupAndRestore(os.path.join(work, rf.BACKUP), double_checkpoint=True),
    ]
    model.fit(train_batches, validation_data=validation, epochs=epochs, callbacks=all_callbacks, verbose=verbose)
    if work == folder:  # The chief (or the only process) writes the run folder; other workers wait for it.
        best = keras.saving.load_model(os.path.join(folder, rf.CHECKPOINTS, "best.keras"))
        finish_run_folder(folder, best, task, batch_size)
    distributed.barrier(strategy)
    return folder


def start_run_folder(folder, task, model, model_name, data_dir=None, from_run=None, freeze_backbone=False, batch_size=32):
    """Writes what a run folder holds from its start: the vocabularies, `task.json`, `config.json`.

    `task.json` records how to load the task again and the batch size, which
    `evaluate` reuses: Keras's loss and accuracy over padded sequences depend
    on how the examples are batched.
    """
    task.save_vocabularies(folder)
    rf.write_json(os.path.join(folder, rf.TASK), {
        "task": task.name, "options": task.options, "model": model_name,
        "data_dir": data_dir or task.data_dir, "from_run": from_run,
        "freeze_backbone": bool(from_run and freeze_backbone), "batch_size": batch_size,
    })
    rf.write_json(os.path.join(folder, rf.CONFIG), model.seqzoo_config)


def finish_run_folder(folder, model, task, batch_size=32):
    """Writes what a finished run holds: `model.keras`, the training curve, then `metrics.json` (last)."""
    rf.save_model(model, os.path.join(folder, rf.MODEL))
    history = os.path.join(folder, rf.HISTORY)
    if os.path.exists(history):
        plot_history(history, os.path.join(folder, rf.CURVE))
    rf.write_json(os.path.join(folder, rf.METRICS), task.evaluate(model, "test", batch_size))


def _build(model, batches):
    """Builds the optimizer's variables so that `BackupAndRestore` can restore them."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def load_run_task(folder, record, task=None, data_dir=None):
    """The task of a run folder, with the run's vocabularies.

    Args:
        folder: the run folder.
        record: its `task.json`.
        task: another task to use instead of the run's own.
        data_dir: the TFDS data folder; by default the run's own.
    """
    options = record.get("options", {}) if task is None else {}  # The run's own task, as it was loaded.
    task = load_task(task or record["task"], data_dir=data_dir or record.get("data_dir"), **options)
    return task.load_vocabularies(folder)


def evaluate(run_or_model, task=None, split="test", batch_size=None, data_dir=None):
    """The task's metrics for a run folder or a model.

    Args:
        run_or_model: a finished run folder, or a seqzoo model (then `task` is needed).
        task: the task; by default the run's own, with the run's vocabularies.
        split: `"test"` or `"validation"`.
        batch_size: by default the run's own (64 for a model).
        data_dir: the TFDS data folder; by default the run's own.

    Returns:
        A dict of metric names to floats.
    """
    if isinstance(run_or_model, str):
        model, _, record = rf.load_run(run_or_model)
        task = load_run_task(run_or_model, record, task, data_dir)
        batch_size = batch_size or record.get("batch_size")
    else:
        model = run_or_model
        if task is None:
            raise ValueError("evaluate(model) needs a task; received task=None.")
        task = load_task(task, data_dir=data_dir)
    return task.evaluate(model, split, batch_size or 64)
