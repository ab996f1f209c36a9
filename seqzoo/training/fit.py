"""`train` and `evaluate`: a model on a task, in a run folder that survives any interruption."""

import contextlib
import os
import sys
import time

import keras

from seqzoo import _version
from seqzoo.presets.runs import open_run
from seqzoo.presets.sources import is_preset
from seqzoo.registry.build import build_from_config
from seqzoo.registry.build import compile_model
from seqzoo.registry.build import get_config
from seqzoo.registry.build import model_name
from seqzoo.registry.sources import model_label
from seqzoo.runs.folder import RunFolder
from seqzoo.runs.folder import RunFolderError
from seqzoo.runs.layout import BACKUP
from seqzoo.runs.layout import BEST
from seqzoo.runs.layout import CHECKPOINTS
from seqzoo.runs.layout import LOGS
from seqzoo.tasks import Task
from seqzoo.tasks import load_task
from seqzoo.training import distribute
from seqzoo.training.callbacks import ResumedEarlyStopping
from seqzoo.training.callbacks import RunBackup
from seqzoo.training.callbacks import RunCheckpoints
from seqzoo.training.callbacks import RunHistory
from seqzoo.training.callbacks import training_is_over
from seqzoo.training.options import BATCH_SIZE
from seqzoo.training.options import EPOCHS
from seqzoo.training.options import PATIENCE
from seqzoo.training.options import SEED
from seqzoo.training.options import check_training_arguments
from seqzoo.training.save import finish_run
from seqzoo.training.transfer import freeze_backbone as freeze
from seqzoo.training.transfer import transfer_weights


def train(
    model_or_name=None,
    task=None,
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    out=None,
    from_run=None,
    freeze_backbone=False,
    partial=False,
    patience=PATIENCE,
    seed=SEED,
    tensorboard=False,
    data_dir=None,
    task_options=None,
    callbacks=(),
    verbose="auto",
    strategy=None,
    **overrides,
):
    """Trains a model on a task in a run folder, resuming it if it was interrupted.

    The run folder (see `seqzoo.runs.RunFolder`) goes through the stages
    `created`, `training`, `trained` and `finished`. Calling `train` again
    with the same `out` and the same arguments resumes it where it stopped,
    whenever it was killed: in an epoch (that epoch runs again), after
    training (it evaluates and never trains again). Resuming with other
    arguments is refused, naming what differs. One process at a time works
    in a folder; a second is refused at once. Gradients are clipped by norm
    (the config's `optimizer.clipnorm`, 1.0 by default); the best epoch by
    validation loss becomes `model.keras`.

    Args:
        model_or_name: a name from `seqzoo.list_models()`, a YAML file's
            path, a config dict, or a model built by seqzoo. With
            `from_run`, `None` (or the run's own model name) builds the
            run's own resolved config (its `config.json`), overrides applied.
        task: a task name from `seqzoo.list_tasks()` (`tfds:NAME`, ...) or a `Task`.
        epochs: the most epochs, >= 1.
        batch_size: examples per batch, >= 1.
        out: the run folder (default `runs/<model>-<task>-<time>`).
        from_run: fine-tune: the model starts from this finished run's (or
            `preset:NAME`'s) weights, layer by layer (same name and weight
            shapes; what was copied is printed and recorded). A layer that
            does not carry over is an error naming it, unless `partial`.
        freeze_backbone: with `from_run`, keep the recurrent layers fixed.
        partial: with `from_run`, copy the layers that fit and start the
            others afresh (e.g. another cell, or a new head for a new task).
        patience: epochs without a better validation loss before stopping
            (counted across an interruption).
        seed: seeds Keras, NumPy and Python (`keras.utils.set_random_seed`,
            once the data is prepared) and the shuffling (epoch k's order
            from the seed and k), so the same call gives the same run on a
            CPU, resumed or not.
        tensorboard: whether to write TensorBoard logs to `<out>/logs`.
        data_dir: the TFDS data folder (by default TFDS's, or a resumed run's own).
        task_options: the task's options (`seqzoo.load_task(task, **task_options)`).
        callbacks: more Keras callbacks.
        verbose: Keras's progress bar setting.
        strategy: `None`, `"mirrored"`, `"multiworker"` or a
            `tf.distribute.Strategy` (TensorFlow backend only; see
            `seqzoo.training.distribute`). With several workers, each runs
            this same call and the chief writes the run folder.
        **overrides: config overrides of a named model (see `seqzoo.build`).

    Returns:
        The run folder's path.

    Example:

    >>> run = seqzoo.train("gru_bi", "japanese_vowels", epochs=30, out="runs/jv")
    >>> seqzoo.evaluate(run)["accuracy"]
    0.965...
    >>> tuned = seqzoo.train(task="names", from_run="preset:names", epochs=1)  # the preset's own model
    """
    check_training_arguments(epochs, batch_size, patience, seed, data_dir, from_run, freeze_backbone, partial)
    if model_or_name is None and from_run is None:
        raise ValueError("Received no model and no from_run; name a model, or give from_run= to fine-tune a run.")
    if task is None:
        raise ValueError("Received task=None; give a task name from seqzoo.list_tasks() (tfds:NAME, ...) or a Task.")
    if isinstance(model_or_name, keras.Model) and overrides:
        raise ValueError(
            f"Received overrides {sorted(overrides)} with a built model; overrides apply to a named model."
        )
    if isinstance(task, Task) and (task_options or data_dir not in (None, task.data_dir)):
        raise ValueError(
            f"Received task_options={task_options!r}, data_dir={data_dir!r} with a Task object, which has its own "
            f"(data_dir={task.data_dir!r}); give the task's name instead."
        )
    source = open_run(from_run) if from_run is not None else None
    if model_or_name is None:
        model_or_name = source.record["model"]
    label = model_label(model_or_name)
    run = RunFolder(out or _default_out(label, task))
    run.check_can_start()
    strategy = distribute.get_strategy(strategy)  # MultiWorkerMirroredStrategy must come before any TF op.
    work = RunFolder(distribute.worker_folder(run.path, strategy))  # `run`, except on a non-chief worker.
    try:
        with _owned(work) if work.path == run.path else contextlib.nullcontext():
            work.check_can_start()  # Again, now that no other process can change it.
            record = work.record
            distribute.check_can_resume(run.path, strategy, record is not None)
            if data_dir is None and record is not None:
                data_dir = record.get("data_dir")
            task = load_task(task, data_dir=data_dir, **(task_options or {}))
            distribute.chief_first(strategy, lambda: task.raw("train"))  # One worker generates the data.
            wanted = {
                "model": label,
                "overrides": overrides,
                "task": task.name,
                "task_options": task.options,
                "data_dir": task.data_dir,
                "epochs": epochs,
                "batch_size": batch_size,
                "patience": patience,
                "seed": seed,
                "from_run": _source_reference(from_run),
                "freeze_backbone": freeze_backbone,
                **({"partial": True} if partial else {}),
            }
            keras.utils.set_random_seed(seed)  # For a given model rebuilt in a strategy's scope; `_build` seeds again.
            if record is None:
                with distribute.scope(strategy):
                    model, transfer = _new_model(model_or_name, task, source, freeze_backbone, partial, overrides, seed)
                if strategy is not None and model is model_or_name:
                    model = distribute.rebuild_in_scope(model, strategy)
                work.start({**wanted, **_provenance(task, transfer)}, model.seqzoo_config, task.vocabularies)
            else:
                task.load_vocabularies(run.path)
                _check_same_run(run, wanted, model_or_name, task, source, overrides)
                model = model_or_name if isinstance(model_or_name, keras.Model) else None
            if work.stage in ("created", "training"):
                _fit(work, model, model_or_name, task, source, wanted, callbacks, verbose, strategy, tensorboard)
            if work.path == run.path:
                _finish(run, task, batch_size)
            distribute.barrier(strategy)
    finally:
        distribute.remove_worker_folder(run.path, work.path)
    return run.path


@contextlib.contextmanager
def _owned(run):
    """Holds the run's lock; a folder this call created is removed again if it fails before writing."""
    created = not os.path.exists(run.path)
    try:
        with run.lock():
            yield
    except BaseException:
        if created and not os.listdir(run.path):
            os.rmdir(run.path)
        raise


def _source_reference(from_run):
    """How the run records where it was fine-tuned from: a preset reference as given, a folder's absolute path."""
    if from_run is None or is_preset(from_run):
        return from_run
    return os.path.abspath(from_run)


def _default_out(label, task):
    task_name = task.name if isinstance(task, Task) else str(task)
    stem = os.path.splitext(os.path.basename(label))[0]
    return os.path.join(
        "runs", f"{stem}-{task_name.replace('/', '_').replace(':', '_')}-{time.strftime('%Y%m%d-%H%M%S')}"
    )


def _provenance(task, transfer):
    """What the run was made with: library versions, the data's, and the layers a fine-tuning copied."""
    backend = keras.backend.backend()
    versions = {"seqzoo": _version.__version__, "keras": keras.__version__, "backend": backend}
    module = sys.modules.get(backend)
    if module is not None and hasattr(module, "__version__"):
        versions[backend] = module.__version__
    if hasattr(task, "data_versions"):
        versions["data"] = task.data_versions()
    return {"versions": versions, **({"transferred": transfer.as_record()} if transfer else {})}


def _config(model_or_name, task, source, overrides):
    """The resolved config a new run builds: a fine-tuned run's own when the model is the run's own."""
    if source is not None and model_label(model_or_name) == source.record["model"]:
        return get_config(source.config, task, **overrides)
    return get_config(model_or_name, task, **overrides)


def _build(config, model_or_name, seed):
    """The run's model, its initial weights and random states from `seed` alone.

    The seed is set here, after the data is prepared: building a dataset may
    draw from the global generators, and must not change the model.
    """
    keras.utils.set_random_seed(seed)
    return build_from_config(config, name=model_name(model_or_name))


def _new_model(model_or_name, task, source, freeze_backbone, partial, overrides, seed):
    """The model a new run trains: built (or given), then fine-tuned from `source` if any."""
    if isinstance(model_or_name, keras.Model):
        if getattr(model_or_name, "seqzoo_config", None) is None:
            raise ValueError(
                f"Received a {type(model_or_name).__name__} without a seqzoo config; build it with seqzoo.build."
            )
        model = model_or_name
    else:
        if source is not None:
            _reuse_input_vocabulary(source, task)
        model = _build(_config(model_or_name, task, source, overrides), model_or_name, seed)
    transfer = None
    if source is not None:
        transfer = transfer_weights(source.load_model(), model, source.path, partial)
        print(transfer.summary(), file=sys.stderr)
        if freeze_backbone:
            freeze(model)
            compile_model(model, model.seqzoo_config)
    return model, transfer


def _reuse_input_vocabulary(source, task):
    """Where both the run and the task tokenize their inputs, the run's tokens keep their ids."""
    vocabulary = source.vocabularies().get("inputs")
    if vocabulary is not None and "inputs" in task.prepare().vocabularies:
        task.use_vocabularies({**task.vocabularies, "inputs": vocabulary})


def _check_same_run(run, wanted, model_or_name, task, source, overrides):
    """Refuses to resume `run` with other arguments or another model than it was started with."""
    differences = run.differences(wanted)
    if not differences and not isinstance(model_or_name, keras.Model):
        config = _config(model_or_name, task, source, overrides)
        if config != run.config:
            differences.append(f"config: the model {wanted['model']!r} resolves to another config than config.json")
    elif not differences and model_or_name.seqzoo_config != run.config:
        differences.append("config: the given model's config differs from config.json")
    if differences:
        raise RunFolderError(
            f"Run folder {run.path!r} was started with other arguments ({'; '.join(differences)}); resume it with "
            f"the arguments it was started with (in its run.json), or give another out folder for a new run."
        )


def _fit(run, model, model_or_name, task, source, record, callbacks, verbose, strategy, tensorboard):
    """Trains until the epochs run out or early stopping, resuming from the run's backup."""
    epoch = RunBackup.saved_epoch(run)
    logged = run.history()
    rows = [row for row in logged if int(row["epoch"]) < epoch]
    if training_is_over(rows, record["epochs"], record["patience"]):
        run.set_stage("trained")
        return
    if model is None:  # Resuming: rebuild exactly what was being trained.
        with distribute.scope(strategy):
            if epoch == 0 and source is not None:  # Nothing backed up yet: fine-tune afresh.
                model, _ = _new_model(
                    model_or_name,
                    task,
                    source,
                    record["freeze_backbone"],
                    record.get("partial"),
                    record["overrides"],
                    record["seed"],
                )
            else:
                model = _build(run.config, model_or_name, record["seed"])
                if record["freeze_backbone"]:
                    freeze(model)
                    compile_model(model, run.config)
    if len(rows) != len(logged):  # Epochs logged but not backed up run again.
        run.write_history(rows)
    run.set_stage("training")
    train_batches = distribute.shard_by_data(
        task.sized_batches("train", record["batch_size"], True, record["seed"], first_epoch=epoch), strategy
    )
    validation = distribute.shard_by_data(task.sized_batches("validation", record["batch_size"]), strategy)
    with distribute.scope(strategy):
        epoch = RunBackup.restore(run, model) if epoch else epoch
        if not model.optimizer.built:  # Built before fit, as the backup restores into it.
            model.optimizer.build(model.trainable_variables)
    distribute.prepare_to_fit(model, validation, strategy)
    model.fit(
        train_batches,
        validation_data=validation,
        shuffle=False,  # The task's batches are shuffled already.
        epochs=record["epochs"],
        initial_epoch=epoch,
        verbose=verbose,
        callbacks=[
            keras.callbacks.TerminateOnNaN(),
            RunCheckpoints(run, rows),
            RunHistory(run, rows),
            ResumedEarlyStopping(rows, record["patience"]),
            *([keras.callbacks.TensorBoard(run.file(LOGS))] if tensorboard else []),
            *callbacks,
            RunBackup(run),
        ],
    )
    run.set_stage("trained")


def _finish(run, task, batch_size):
    """From `trained` to `finished`, with the best epoch's model (the backup is no longer needed)."""
    best = run.load_model(os.path.join(CHECKPOINTS, BEST))
    run.remove(BACKUP)
    finish_run(run, best, task, batch_size)
