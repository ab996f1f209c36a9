"""Hyperparameter sweeps: a keras-tuner `HyperModel` built from a named config's `search` section.

A named config's `search` section is its search space, and the config's own
values are the defaults, so the model built from default hyperparameters is
exactly the named model:

```yaml
backbone: {cell: lstm, units: 128, depth: 3, dropout: 0.2}
search:
  backbone.units: {choice: [64, 128, 256]}                           # hp.Choice, default 128
  backbone.depth: {int: [2, 4]}                                      # hp.Int, default 3
  backbone.dropout: {float: [0.0, 0.5]}                              # hp.Float, default 0.2
  optimizer.learning_rate: {float: [1.0e-4, 1.0e-2], sampling: log}  # default 1e-3
```

`tune()` runs keras-tuner's random, Hyperband, Bayesian or grid search over it,
writes a results table and plot, and saves the best model as a run folder.
A sweep folder (`out`) holds:

- `trials/`: keras-tuner's project (its oracle, one `trial_<id>/` folder per
  trial with the best epoch's weights, `history.csv` and `runs.jsonl`, which
  records which tuner process ran the trial);
- `sweep.json`: what is searched (model, task, tuner, objective, ...);
- `results.csv`, `results.md`: every trial, best first: score, hyperparameters,
  metrics, tuner id;
- `results.png`: the score of each trial, and the score against the
  hyperparameter that explains most of its variation;
- `best_run/`: the best trial's model as a run folder (`seqzoo evaluate` takes it);
- `logs/`: with `workers`, each process's output.

Running the same sweep again resumes it: keras-tuner reloads its oracle, and
finished trials are not run again (an interrupted trial is run again).
"""

import csv
import json
import math
import os
import shutil
import socket
import time
from dataclasses import dataclass

import keras
import keras_tuner

from seqzoo import distributed
from seqzoo import run_folder as rf
from seqzoo.architectures.heads import loss_and_metrics
from seqzoo.config import SECTIONS
from seqzoo.config import resolve
from seqzoo.errors import unknown_name_error
from seqzoo.tasks import load_task
from seqzoo.zoo import apply_overrides
from seqzoo.zoo import build_from_config
from seqzoo.zoo import fit_to_task
from seqzoo.zoo import read_config

TUNERS = {
    "random": keras_tuner.RandomSearch,
    "hyperband": keras_tuner.Hyperband,
    "bayesian": keras_tuner.BayesianOptimization,
    "grid": keras_tuner.GridSearch,
}
PROJECT, SWEEP, BEST_RUN, LOGS = "trials", "sweep.json", "best_run", "logs"
RESULTS_CSV, RESULTS_MD, RESULTS_PNG = "results.csv", "results.md", "results.png"
RUNS, TRIAL_HISTORY, BEST_RUN_RECORD = "runs.jsonl", "history.csv", "tuning.json"
TEXT_COLUMNS = ("trial", "status", "tuner", "tuner/trial_id")  # Trial ids such as "03" stay text.


class HyperModel(keras_tuner.HyperModel):
    """The search space of a named model, as a keras-tuner `HyperModel`.

    The problem is fixed in the constructor (the config's name, the task,
    overrides); `build(hp)` declares one hyperparameter per key of the
    config's `search` section, named by the key (`"backbone.units"`), with
    the config's value as its default, and builds the model. So
    `build(keras_tuner.HyperParameters())` is `seqzoo.build(name, task=task)`.

    A value set before the search with `hp.Fixed(key, value)` (in the
    `HyperParameters` given to the tuner) is honoured, and an override of a
    searched key (`**{"backbone.units": 8}`) fixes it the same way.

    Args:
        name: a name from `seqzoo.list_models()`.
        task: a task name or `Task` the models are fitted to and trained on
            (`None`: the config's own inputs and outputs; then no `fit`).
        data_dir: the TFDS data folder.
        batch_size: examples per batch in `fit`.
        **overrides: config overrides (see `seqzoo.build`), applied to every trial.

    Example:

    >>> hypermodel = seqzoo.tuning.HyperModel("gru_uni", "japanese_vowels")
    >>> model = hypermodel.build(keras_tuner.HyperParameters())   # the named model
    >>> tuner = keras_tuner.RandomSearch(hypermodel, objective="val_loss", max_trials=5)
    >>> tuner.search(epochs=3)
    """

    def __init__(self, name, task=None, data_dir=None, batch_size=32, **overrides):
        super().__init__(name=name, tunable=True)
        self.model_name = name
        self.task = None if task is None else load_task(task, data_dir=data_dir)
        self.batch_size = batch_size
        self.overrides = _dotted(overrides)
        self._spec = None if self.task is None else self.task.model_spec()
        self.base = self.resolved_config({})
        self.space, self.fixed = {}, {}
        for key, spec in self.base["search"].items():
            if key in self.overrides:
                self.fixed[key] = self.overrides[key]
            elif _lookup(self.base, key) is not None:  # A key the task left out (e.g. an embedding) is not searched.
                _check_default(name, key, spec, _lookup(self.base, key))
                self.space[key] = spec

    def resolved_config(self, values):
        """The resolved config with hyperparameter `values` (dotted keys) applied."""
        config = read_config(self.model_name)
        if self._spec is not None:
            config = fit_to_task(config, self._spec)
        return resolve(apply_overrides(config, {**self.overrides, **values}), self.model_name)

    def declare_hyperparameters(self, hp):
        """Declares every hyperparameter in `hp`; returns `{key: value}` (defaults unless set)."""
        values = {}
        for key, value in self.fixed.items():
            values[key] = hp.Fixed(key, value) if isinstance(value, (bool, int, float, str)) else value
        for key, spec in self.space.items():
            values[key] = _declare(hp, key, spec, _lookup(self.base, key))
        return values

    def config(self, hp):
        """The resolved config that `hp` chooses."""
        return self.resolved_config(self.declare_hyperparameters(hp))

    def build(self, hp):
        """Builds and compiles the model that `hp` chooses (its optimizer built, so checkpoints load whole)."""
        model = build_from_config(self.config(hp), name=self.model_name)
        model.optimizer.build(model.trainable_variables)
        return model

    def fit(self, hp, model, *args, **kwargs):
        """Trains on the task's training split, validating on its validation split.

        Args:
            hp: the trial's hyperparameters.
            model: the model `build(hp)` returned.
            **kwargs: `model.fit` arguments from the tuner (`epochs`,
                `callbacks`, ...).
        """
        if args or "x" in kwargs:
            raise ValueError("seqzoo's HyperModel trains on its task's batches; pass no data to search().")
        if self.task is None:
            raise ValueError(f"HyperModel({self.model_name!r}) has no task to train on; pass task=.")
        callbacks = [keras.callbacks.TerminateOnNaN(), *kwargs.pop("callbacks", [])]
        return model.fit(
            self.task.batches("train", self.batch_size, shuffle=True),
            validation_data=self.task.batches("validation", self.batch_size),
            callbacks=callbacks,
            **kwargs,
        )

    def metric_names(self):
        """The names a trial logs: `loss`, the head's metrics, and their `val_` forms."""
        outputs = self.base.get("outputs") or {"type": "classes"}
        names = ["loss"] + [metric.name for metric in loss_and_metrics(outputs)[1]]
        return names + [f"val_{name}" for name in names]


def _dotted(overrides):
    """Overrides with whole sections (`backbone={"units": 8}`) spread into dotted keys."""
    dotted = {}
    for key, value in overrides.items():
        if key in SECTIONS and isinstance(value, dict):
            dotted.update({f"{key}.{field}": field_value for field, field_value in value.items()})
        else:
            dotted[key] = value
    return dotted


def _lookup(config, key):
    section, _, field = key.partition(".")
    return config.get(section) if not field else (config.get(section) or {}).get(field)


def _check_default(name, key, spec, default):
    """The config's value must be a point of its own search space (it is the default)."""
    where = f"{name}: search.{key}"
    if "choice" in spec:
        if default not in spec["choice"]:
            raise ValueError(f"{where}: the config's value {default!r} (the default) is not among the choices {spec['choice']}.")
        return
    if "bool" in spec:
        if not isinstance(default, bool):
            raise ValueError(f"{where}: a bool search needs a bool value in the config; it holds {default!r}.")
        return
    low, high = spec["int"] if "int" in spec else spec["float"]
    if "int" in spec and not (isinstance(default, int) and isinstance(low, int) and isinstance(high, int)):
        raise ValueError(f"{where}: an int range needs int bounds and an int value; received {spec!r}, value {default!r}.")
    if not low <= default <= high:
        raise ValueError(f"{where}: the config's value {default!r} (the default) lies outside the range [{low}, {high}].")
    if spec.get("sampling") == "log" and low <= 0:
        raise ValueError(f"{where}: log sampling needs a range above 0; received [{low}, {high}].")


def _declare(hp, key, spec, default):
    if "choice" in spec:
        return hp.Choice(key, spec["choice"], default=default)
    if "bool" in spec:
        return hp.Boolean(key, default=default)
    if "int" in spec:
        low, high = spec["int"]
        return hp.Int(key, low, high, step=spec.get("step"), sampling=spec.get("sampling", "linear"), default=default)
    low, high = spec["float"]
    return hp.Float(key, low, high, step=spec.get("step"), sampling=spec.get("sampling", "linear"), default=default)


def get_objective(objective, names, direction=None):
    """A `keras_tuner.Objective` from a metric name a trial logs.

    Args:
        objective: `"val_loss"`, `"val_accuracy"`, `"val_accuracy:max"` or a
            `keras_tuner.Objective`.
        names: the metric names that trials log.
        direction: `"min"` or `"max"`; by default `max` for accuracies, `min`
            otherwise.
    """
    if isinstance(objective, keras_tuner.Objective):
        name, direction = objective.name, direction or objective.direction
    else:
        name, _, suffix = str(objective).partition(":")
        direction = direction or suffix or None
    if name not in names:
        raise unknown_name_error("objective (a metric the trials log)", name, names)
    direction = direction or ("max" if "accuracy" in name else "min")
    if direction not in ("min", "max"):
        raise ValueError(f"Received direction={direction!r} for the objective {name!r}; expected 'min' or 'max'.")
    return keras_tuner.Objective(name, direction)


class _SweepTuner:
    """What seqzoo adds to each keras-tuner tuner class.

    Each trial folder gets `history.csv` (the epochs of the trial) and
    `runs.jsonl` (which tuner process ran it, when, and how it ended). In
    chief/worker mode, workers send heartbeats while they train, and the
    chief (`distributed.serve_oracle`) gives the trial of a silent worker to
    another worker.
    """

    def __init__(self, *args, worker_timeout=60.0, **kwargs):
        self.worker_timeout = worker_timeout
        project = os.path.join(str(kwargs.get("directory") or "."), kwargs.get("project_name") or "untitled_project")
        own_state = os.path.join(project, f"{os.environ.get(distributed.TUNER_ID, 'tuner0')}.json")
        reloads = not kwargs.get("overwrite") and os.path.exists(own_state)
        super().__init__(*args, **kwargs)
        # keras-tuner reloads a project only when this tuner id saved state there; a sweep begun alone
        # (tuner0) and resumed with workers (chief), or the other way round, must reload the oracle too.
        oracle_state = os.path.join(project, "oracle.json")
        if not reloads and not kwargs.get("overwrite") and distributed.role() != "worker" and os.path.exists(oracle_state):
            self.oracle.reload()

    def search(self, *fit_args, **fit_kwargs):
        if distributed.role() == "chief":
            self.save()
            distributed.serve_oracle(self.oracle, self.worker_timeout)
            return
        super().search(*fit_args, **fit_kwargs)

    def pre_create_trial(self):
        # The chief answers IDLE ("ask again") while other workers' trials run; ask once a second.
        if getattr(self, "_asked", False):
            time.sleep(1.0)
        self._asked = True
        super().pre_create_trial()

    def on_trial_begin(self, trial):
        self._asked = False
        super().on_trial_begin(trial)

    def run_trial(self, trial, *args, **kwargs):
        folder = self.get_trial_dir(trial.trial_id)
        _record_run(folder, self.tuner_id, "start")
        history = keras.callbacks.CSVLogger(os.path.join(folder, TRIAL_HISTORY))
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), history]
        with distributed.heartbeat(self.oracle, trial.trial_id, max(self.worker_timeout / 4, 0.5)):
            return super().run_trial(trial, *args, **kwargs)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        _record_run(self.get_trial_dir(trial.trial_id), self.tuner_id, "end", status=trial.status)


def _record_run(folder, tuner_id, event, **extra):
    line = {"event": event, "tuner_id": tuner_id, "pid": os.getpid(), "host": socket.gethostname(), "time": time.time(), **extra}
    with open(os.path.join(folder, RUNS), "a") as file:
        file.write(json.dumps(line) + "\n")


def trial_runs(folder):
    """The `runs.jsonl` records of a trial folder: one per start and end of a run."""
    path = os.path.join(folder, RUNS)
    if not os.path.exists(path):
        return []
    with open(path) as file:
        return [json.loads(line) for line in file if line.strip()]


_TUNER_CLASSES = {}


def tuner_class(kind):
    """The seqzoo flavour of keras-tuner's tuner `kind` (`"random"`, `"hyperband"`, `"bayesian"`, `"grid"`)."""
    if kind not in TUNERS:
        raise unknown_name_error("tuner", kind, TUNERS)
    if kind not in _TUNER_CLASSES:
        base = TUNERS[kind]
        _TUNER_CLASSES[kind] = type(f"Seqzoo{base.__name__}", (_SweepTuner, base), {})
    return _TUNER_CLASSES[kind]


@dataclass
class TuneResult:
    """A sweep's results: `rows` (one dict per trial, best first), the objective and the best run folder."""

    out: str
    objective: str
    direction: str
    rows: list
    best_run: str = None

    @property
    def best(self):
        """The best trial's row (`None` when no trial finished)."""
        return self.rows[0] if self.rows and self.rows[0].get("rank") not in (None, "") else None


def tune(
    name,
    task,
    tuner="random",
    max_trials=10,
    epochs=5,
    out=None,
    data_dir=None,
    objective="val_loss",
    direction=None,
    executions_per_trial=1,
    overwrite=False,
    workers=0,
    batch_size=32,
    seed=None,
    hyperparameters=None,
    oracle_ip=distributed.LOOPBACK,
    oracle_port=None,
    worker_timeout=60.0,
    callbacks=(),
    verbose=1,
    top=10,
    **overrides,
):
    """Searches a named model's hyperparameters on a task with keras-tuner.

    The search space is the config's `search` section, its values the
    defaults (see `HyperModel`). The sweep folder `out` holds keras-tuner's
    trials, `results.csv`/`results.md` (every trial, best first),
    `results.png` and `best_run/`, the best trial's model as a run folder
    (what `seqzoo.train` writes, with the task's test metrics). Calling
    `tune` again with the same `out` resumes the sweep: finished trials are
    kept, an interrupted one is run again, and a larger `max_trials` adds
    trials.

    With `workers=N`, the sweep runs on keras-tuner's chief/worker mode: a
    chief process (the oracle, behind a gRPC service at
    `oracle_ip:oracle_port`) and N worker processes on this machine, each
    running `python -m seqzoo tune ...` with `KERASTUNER_TUNER_ID`,
    `KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT` set. Running the same
    command with those variables set (`KERASTUNER_TUNER_ID=chief` on one
    process, `tuner0`, `tuner1`, ... on the others) spreads a sweep across
    machines; the sweep folder must then be shared. The gRPC service has no
    authentication: it listens on 127.0.0.1 unless `oracle_ip` says
    otherwise. A worker silent for `worker_timeout` seconds (killed, lost)
    counts as dead and its trial goes to another worker.

    Args:
        name: a name from `seqzoo.list_models()`.
        task: a task name (or a `Task`, without `workers`).
        tuner: `"random"`, `"hyperband"`, `"bayesian"` or `"grid"`.
        max_trials: the most trials (`None`: Hyperband's and grid search's own end).
        epochs: epochs per trial (Hyperband: the most epochs of one model).
        out: the sweep folder (default `runs/tune-<model>-<task>-<tuner>`).
        data_dir: the TFDS data folder.
        objective: the metric to optimize, one the trials log: `"val_loss"`,
            `"val_accuracy"`, ..., optionally `"name:max"`; or a `keras_tuner.Objective`.
        direction: `"min"` or `"max"` (default: max for accuracies, else min).
        executions_per_trial: models trained per trial (their scores are averaged).
        overwrite: start over, deleting the sweep in `out`.
        workers: worker processes to start on this machine (0: run here).
        batch_size: examples per batch.
        seed: the tuner's random seed.
        hyperparameters: a `keras_tuner.HyperParameters`, e.g. with `hp.Fixed`
            values set before the search.
        oracle_ip, oracle_port: where the chief listens (with `workers`).
        worker_timeout: seconds of silence after which a worker counts as dead.
        callbacks: more Keras callbacks for every trial (not with `workers`).
        verbose: keras-tuner's and Keras's verbosity.
        top: how many of the best trials to print.
        **overrides: config overrides for every trial (see `seqzoo.build`); an
            override of a searched key fixes it.

    Returns:
        A `TuneResult`; `None` in a worker process of a chief/worker sweep.

    Example:

    >>> result = seqzoo.tune("gru_uni", "japanese_vowels", tuner="hyperband", max_trials=20, epochs=10)
    >>> result.best["optimizer.learning_rate"], result.best_run
    """
    tuner_class(tuner)  # An unknown tuner fails before anything is loaded.
    _check_counts(max_trials=max_trials, epochs=epochs, executions_per_trial=executions_per_trial, top=top)
    if workers < 0:
        raise ValueError(f"Received workers={workers}; expected 0 (run here) or more.")
    task_name = task if isinstance(task, str) else task.name
    out = out or os.path.join("runs", f"tune-{name}-{task_name.replace('/', '_').replace(':', '_')}-{tuner}")
    if isinstance(hyperparameters, dict):
        hyperparameters = keras_tuner.HyperParameters.from_config(hyperparameters)
    role = distributed.role()
    if workers and role is not None:
        raise ValueError(
            f"Received workers={workers} in a process that keras-tuner's variables already make "
            f"the {role}; start workers either with --workers or with the variables, not both."
        )
    if workers and (not isinstance(task, str) or callbacks):
        raise ValueError("A sweep with workers takes a task name and no callbacks (each worker process rebuilds them).")
    hypermodel = HyperModel(name, task, data_dir=data_dir, batch_size=batch_size, **overrides)
    goal = get_objective(objective, hypermodel.metric_names(), direction)
    if workers:
        return _launch(
            name, task, tuner, max_trials, epochs, out, data_dir, goal, executions_per_trial, overwrite, workers,
            batch_size, seed, hyperparameters, oracle_ip, oracle_port, worker_timeout, verbose, top, overrides,
            hypermodel,
        )
    if role != "worker":
        hypermodel.task.raw("train")  # Generates the dataset before the chief serves workers that read it.
        if overwrite:
            _clear(out)
        _check_sweep(out, name, task_name, tuner, goal, epochs, batch_size, executions_per_trial, hypermodel)
    if role == "chief":
        ip, port = os.environ[distributed.ORACLE_IP], os.environ[distributed.ORACLE_PORT]
        print(distributed.security_warning(ip, port), flush=True)
        print(distributed.settings_message(ip, port), flush=True)
    search = _make_tuner(
        tuner, hypermodel, goal, max_trials, epochs, seed, hyperparameters, executions_per_trial,
        overwrite and role is None, out, worker_timeout,
    )
    search.search(epochs=epochs, callbacks=list(callbacks), verbose=verbose)
    if role == "worker":
        return None
    return write_results(search, hypermodel, out, data_dir, batch_size, top=top, verbose=verbose)


def _check_counts(**counts):
    for key, value in counts.items():
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ValueError(f"Received {key}={value!r}; expected a whole number >= 1.")


def _make_tuner(kind, hypermodel, objective, max_trials, epochs, seed, hyperparameters, executions_per_trial,
                overwrite, out, worker_timeout):
    options = dict(
        hypermodel=hypermodel,
        objective=objective,
        seed=seed,
        hyperparameters=hyperparameters,
        executions_per_trial=executions_per_trial,
        overwrite=overwrite,
        directory=out,
        project_name=PROJECT,
        worker_timeout=worker_timeout,
    )
    if kind == "hyperband":
        options["max_epochs"] = epochs
    else:
        options["max_trials"] = max_trials
    search = tuner_class(kind)(**options)
    if kind == "hyperband" and max_trials is not None:
        search.oracle.max_trials = max_trials  # Hyperband has no such argument; keras-tuner's oracle still stops there.
    return search


def _clear(out):
    """Deletes what a sweep wrote in `out` (and nothing else there)."""
    for entry in (PROJECT, SWEEP, BEST_RUN, LOGS, RESULTS_CSV, RESULTS_MD, RESULTS_PNG):
        path = os.path.join(out, entry)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def _check_sweep(out, name, task_name, tuner, objective, epochs, batch_size, executions_per_trial, hypermodel):
    """Writes `sweep.json`, or checks that a resumed sweep searches the same thing."""
    record = {
        "model": name,
        "task": task_name,
        "tuner": tuner,
        "objective": objective.name,
        "direction": objective.direction,
        "epochs": epochs,
        "batch_size": batch_size,
        "executions_per_trial": executions_per_trial,
        "overrides": hypermodel.overrides,
        "search": hypermodel.space,
    }
    path = os.path.join(out, SWEEP)
    if os.path.exists(path):
        previous = rf.read_json(path)
        changed = [key for key in record if previous.get(key) != json.loads(json.dumps(record[key]))]
        if changed:
            raise ValueError(
                f"{out!r} holds a sweep with other {', '.join(changed)} "
                f"({', '.join(f'{key}={previous.get(key)!r}' for key in changed)}); resume it with the same "
                f"settings, or pass overwrite=True (--overwrite) or another out."
            )
        return
    os.makedirs(out, exist_ok=True)
    rf.write_json(path, record)


def _launch(name, task, tuner, max_trials, epochs, out, data_dir, objective, executions_per_trial, overwrite, workers,
            batch_size, seed, hyperparameters, oracle_ip, oracle_port, worker_timeout, verbose, top, overrides, hypermodel):
    """Runs the sweep as a chief and `workers` worker processes; returns the chief's results."""
    if overwrite:
        _clear(out)
    _check_sweep(out, name, task, tuner, objective, epochs, batch_size, executions_per_trial, hypermodel)
    hypermodel.task.prepare().raw("train")  # Generate the dataset once, before several processes read it.
    arguments = [
        name, "--task", task, "--tuner", tuner, "--max-trials", str(max_trials or 0), "--epochs", str(epochs),
        "--out", out, "--objective", objective.name, "--direction", objective.direction,
        "--executions-per-trial", str(executions_per_trial), "--batch-size", str(batch_size),
        "--worker-timeout", str(worker_timeout), "--verbose", str(int(verbose) if verbose != "auto" else 1),
        "--top", str(top),
    ]
    if data_dir is not None:
        arguments += ["--data-dir", data_dir]
    if seed is not None:
        arguments += ["--seed", str(seed)]
    for key, value in overrides.items():
        arguments += ["--set", f"{key}={json.dumps(value)}"]
    if hyperparameters is not None:
        arguments += ["--hyperparameters", json.dumps(hyperparameters.get_config())]
    code = distributed.launch_sweep(arguments, workers, out, ip=oracle_ip, port=oracle_port, worker_timeout=worker_timeout)
    if code != 0 or not os.path.exists(os.path.join(out, RESULTS_CSV)):
        raise RuntimeError(
            f"The sweep's chief ended with {'exit code ' + str(code) if code is not None else 'no exit code'} and "
            f"no results; see {os.path.join(out, LOGS)}/. Running the same command again resumes the sweep."
        )
    result = read_results(out)
    _print_table(result, top)
    return result


# -- results ------------------------------------------------------------------


def write_results(search, hypermodel, out, data_dir=None, batch_size=32, top=10, verbose=1):
    """Writes the results table and plot and the best run folder; prints the table. Returns a `TuneResult`."""
    objective = search.oracle.objective
    rows = _rows(search, hypermodel, objective)
    columns = _columns(rows, hypermodel)
    temporary = rf.atomic_path(os.path.join(out, RESULTS_CSV))
    with open(temporary, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, os.path.join(out, RESULTS_CSV))
    _write_text(os.path.join(out, RESULTS_MD), _markdown(rows, columns, objective, len(rows)))
    plot_results(rows, hypermodel, objective, os.path.join(out, RESULTS_PNG))
    best_run = None
    if rows and rows[0]["rank"] != "":
        best_run = _write_best_run(search, hypermodel, rows[0], out, data_dir, batch_size)
    result = read_results(out)
    result.best_run = best_run
    _print_table(result, top)
    return result


def _rows(search, hypermodel, objective):
    finished, others = [], []
    for trial in sorted(search.oracle.trials.values(), key=lambda t: (len(t.trial_id), t.trial_id)):
        folder = os.path.join(search.project_dir, f"trial_{trial.trial_id}")
        runs = trial_runs(folder)
        ends = [run for run in runs if run["event"] == "end"]
        row = {
            "rank": "",
            "trial": trial.trial_id,
            "status": trial.status,
            "score": trial.score if trial.score is not None else "",
            **{key: trial.hyperparameters.values.get(key, "") for key in hypermodel.space},
            **{key: trial.hyperparameters.values.get(key, "") for key in hypermodel.fixed},
            **{key: value for key, value in trial.hyperparameters.values.items() if key.startswith("tuner/")},
            **{key: _last(trial, key) for key in trial.metrics.metrics},
            "tuner": (ends or runs or [{}])[-1].get("tuner_id", ""),
        }
        good = trial.status == "COMPLETED" and isinstance(row["score"], (int, float)) and math.isfinite(row["score"])
        (finished if good else others).append(row)
    finished.sort(key=lambda row: row["score"], reverse=objective.direction == "max")
    for rank, row in enumerate(finished, 1):
        row["rank"] = rank
    return finished + others


def _last(trial, metric):
    value = trial.metrics.get_last_value(metric)
    return "" if value is None else float(value)


def _columns(rows, hypermodel):
    columns = ["rank", "trial", "status", "score", *hypermodel.space, *hypermodel.fixed]
    for row in rows:
        columns += [key for key in row if key not in columns and key != "tuner"]
    return columns + ["tuner"]


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _markdown(rows, columns, objective, count):
    lines = [
        f"Objective: {objective.name} ({objective.direction}); {sum(1 for r in rows if r['rank'] != '')} of "
        f"{len(rows)} trials finished.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    lines += ["| " + " | ".join(_format(row.get(column, "")) for column in columns) + " |" for row in rows[:count]]
    return "\n".join(lines) + "\n"


def _write_text(path, text):
    temporary = rf.atomic_path(path)
    with open(temporary, "w") as file:
        file.write(text)
    os.replace(temporary, path)


def _print_table(result, top):
    if not result.rows:
        print("seqzoo tune: no trials.")
        return
    columns = [column for column in result.rows[0] if column != ""]
    print(_markdown(result.rows, columns, keras_tuner.Objective(result.objective, result.direction), top), end="")
    best = result.best
    if best is not None:
        print(f"best: trial {best['trial']}, {result.objective} {_format(best['score'])}; run folder {result.best_run}")


def read_results(out):
    """A sweep's `TuneResult`, read from `out/results.csv` and `sweep.json`."""
    record = rf.read_json(os.path.join(out, SWEEP))
    with open(os.path.join(out, RESULTS_CSV)) as file:
        rows = [{key: value if key in TEXT_COLUMNS else _parse(value) for key, value in row.items()} for row in csv.DictReader(file)]
    best_run = os.path.join(out, BEST_RUN)
    return TuneResult(
        out=out,
        objective=record["objective"],
        direction=record["direction"],
        rows=rows,
        best_run=best_run if os.path.exists(os.path.join(best_run, rf.METRICS)) else None,
    )


def _parse(text):
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def importance(rows, hypermodel):
    """How much of the score's variation each searched hyperparameter explains, in [0, 1].

    For a numeric range, the squared correlation of the score with the value
    (its logarithm for log sampling); for choices and booleans, the share of
    the score's variance between the groups of equal value (eta squared).
    Only finished trials count; a hyperparameter that took one value is left out.
    """
    finished = [row for row in rows if row["rank"] != ""]
    scores = [row["score"] for row in finished]
    result = {}
    for key, spec in hypermodel.space.items():
        values = [row[key] for row in finished]
        if len(set(map(str, values))) < 2:
            continue
        if "int" in spec or "float" in spec:
            xs = [math.log(v) if spec.get("sampling") == "log" else float(v) for v in values]
            result[key] = _correlation(xs, scores) ** 2
        else:
            result[key] = _eta_squared([str(v) for v in values], scores)
    return result


def _correlation(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    return 0.0 if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def _eta_squared(groups, ys):
    mean = sum(ys) / len(ys)
    total = sum((y - mean) ** 2 for y in ys)
    if total == 0:
        return 0.0
    between = 0.0
    for group in set(groups):
        members = [y for g, y in zip(groups, ys) if g == group]
        between += len(members) * (sum(members) / len(members) - mean) ** 2
    return between / total


def plot_results(rows, hypermodel, objective, path):
    """Writes the sweep's plot: the score of each trial (and the best so far), and the score
    against the hyperparameter of highest `importance`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    finished = sorted((row for row in rows if row["rank"] != ""), key=lambda row: (len(str(row["trial"])), str(row["trial"])))
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    if finished:
        positions = list(range(len(finished)))
        scores = [row["score"] for row in finished]
        pick = max if objective.direction == "max" else min
        best = [pick(scores[: i + 1]) for i in positions]
        left.plot(positions, scores, "o", label="trial")
        left.plot(positions, best, "-", drawstyle="steps-post", label="best so far")
        left.set_xticks(positions, [str(row["trial"]) for row in finished], rotation=90 if len(finished) > 20 else 0)
        left.legend()
    left.set_xlabel("trial")
    left.set_ylabel(f"{objective.name} ({objective.direction})")
    left.set_title("score per trial")
    weights = importance(rows, hypermodel)
    if weights:
        key = max(weights, key=weights.get)
        spec = hypermodel.space[key]
        xs = [row[key] for row in finished]
        if "int" in spec or "float" in spec:
            right.plot(xs, [row["score"] for row in finished], "o")
            if spec.get("sampling") == "log":
                right.set_xscale("log")
        else:
            labels = sorted(set(map(str, xs)), key=lambda s: (_parse(s) if not isinstance(_parse(s), str) else 0, s))
            right.plot([labels.index(str(x)) for x in xs], [row["score"] for row in finished], "o")
            right.set_xticks(range(len(labels)), labels)
        right.set_xlabel(key)
        right.set_title(f"score vs {key} (explains {weights[key]:.0%} of the variance)")
    else:
        right.text(0.5, 0.5, "needs finished trials with\ndifferent hyperparameters", ha="center", va="center")
        right.set_title("score vs the most important hyperparameter")
    right.set_ylabel(objective.name)
    figure.tight_layout()
    rf.save_figure(figure, path)


def _write_best_run(search, hypermodel, best, out, data_dir, batch_size):
    """Saves the best trial's model as a run folder, `out/best_run` (what `seqzoo.train` writes)."""
    from seqzoo.training import finish_run_folder
    from seqzoo.training import start_run_folder

    folder = os.path.join(out, BEST_RUN)
    record_path = os.path.join(folder, BEST_RUN_RECORD)
    if os.path.exists(os.path.join(folder, rf.METRICS)) and os.path.exists(record_path):
        if rf.read_json(record_path).get("trial") == best["trial"]:
            return folder  # Already saved.
    trial = search.oracle.get_trial(str(best["trial"]))
    trial_folder = os.path.join(search.project_dir, f"trial_{trial.trial_id}")
    try:
        model = search.load_model(trial)
    except (OSError, ValueError) as error:
        print(f"seqzoo tune: the best trial's weights could not be loaded from {trial_folder} ({error}); no best run written.")
        return None
    staging = os.path.join(out, f".{BEST_RUN}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    start_run_folder(staging, hypermodel.task, model, hypermodel.model_name, data_dir, batch_size=batch_size)
    if os.path.exists(os.path.join(trial_folder, TRIAL_HISTORY)):
        shutil.copyfile(os.path.join(trial_folder, TRIAL_HISTORY), os.path.join(staging, rf.HISTORY))
    rf.write_json(
        os.path.join(staging, BEST_RUN_RECORD),
        {
            "sweep": os.path.abspath(out),
            "trial": best["trial"],
            "objective": search.oracle.objective.name,
            "score": best["score"],
            "hyperparameters": {key: value for key, value in trial.hyperparameters.values.items()},
        },
    )
    finish_run_folder(staging, model, hypermodel.task, batch_size)
    old = os.path.join(out, f".{BEST_RUN}.old.{os.getpid()}")
    if os.path.exists(folder):
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder
