"""`tune`: a hyperparameter sweep over a named config's search space, in a sweep folder that resumes.

A sweep folder (`out`) holds:

- `sweep.json`: the `SweepSpec`, what is searched and how;
- `trials/`: keras-tuner's project (its oracle, one `trial_<id>/` folder per
  trial with the best epoch's weights, `history.csv` and `runs.jsonl`, which
  records which tuner process ran the trial);
- `results.csv`, `results.md`: every trial, best first: score,
  hyperparameters, metrics, tuner id;
- `results.png`: the score of each trial, and the score against the
  hyperparameter that explains most of its variation;
- `best_run/`: the best trial's model as a run folder (`seqzoo evaluate` takes it);
- `logs/`: with `workers`, each process's output.

Running the same sweep again, or `resume(out)`, resumes it: keras-tuner
reloads its oracle, finished trials are not run again, and an interrupted
trial (or one whose `trial.json` was cut short) is run again.
"""

import contextlib
import os
import shutil
import sys

import keras_tuner

from seqzoo import _compat
from seqzoo import atomic
from seqzoo.runs.lock import FolderLock
from seqzoo.training.options import BATCH_SIZE
from seqzoo.tuning import chief
from seqzoo.tuning import defaults
from seqzoo.tuning.best_run import write_best_run
from seqzoo.tuning.hypermodel import HyperModel
from seqzoo.tuning.hypermodel import get_objective
from seqzoo.tuning.plot import RESULTS_PNG
from seqzoo.tuning.plot import write_plot
from seqzoo.tuning.results import BEST_RUN
from seqzoo.tuning.results import RESULTS_CSV
from seqzoo.tuning.results import RESULTS_MD
from seqzoo.tuning.results import collect_rows
from seqzoo.tuning.results import print_table
from seqzoo.tuning.results import read_results
from seqzoo.tuning.results import write_tables
from seqzoo.tuning.spec import SWEEP
from seqzoo.tuning.spec import SweepSpec
from seqzoo.tuning.spec import check_settings
from seqzoo.tuning.tuner import make_tuner

PROJECT = "trials"
_RESUMES = (
    "the sweep in {out} resumes where it stopped when run again (the same call, or `python -m seqzoo.tuning {out}`)."
)


def tune(
    name,
    task,
    tuner=defaults.TUNER,
    max_trials=defaults.MAX_TRIALS,
    epochs=defaults.EPOCHS,
    out=None,
    data_dir=None,
    objective=defaults.OBJECTIVE,
    direction=None,
    executions_per_trial=defaults.EXECUTIONS_PER_TRIAL,
    overwrite=False,
    workers=0,
    batch_size=BATCH_SIZE,
    seed=None,
    hyperparameters=None,
    oracle_ip=defaults.LOOPBACK,
    oracle_port=None,
    worker_timeout=defaults.WORKER_TIMEOUT,
    callbacks=(),
    verbose=1,
    top=defaults.TOP,
    **overrides,
):
    """Searches a named model's hyperparameters on a task with keras-tuner.

    The search space is the config's `search` section, its values the
    defaults (see `HyperModel`). Every argument is checked before anything is
    written. The sweep folder `out` holds keras-tuner's trials,
    `results.csv`/`results.md` (every trial, best first), `results.png` and
    `best_run/`, the best trial's model as a run folder (what `seqzoo.train`
    writes, with the task's test metrics). Calling `tune` again with the same
    `out` resumes the sweep: finished trials are kept, an interrupted one is
    run again, and a larger `max_trials` adds trials. One Ctrl-C stops the
    sweep at once (a `KeyboardInterrupt`), leaving it ready to resume.
    Progress and tables go to stderr.

    With `workers=N`, the sweep runs on keras-tuner's chief/worker mode: a
    chief process (the oracle, behind a gRPC service at
    `oracle_ip:oracle_port`) and N worker processes on this machine, each
    running `python -m seqzoo.tuning OUT` (which reads `OUT/sweep.json`) with
    `KERASTUNER_TUNER_ID`, `KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT`
    set. Running that command with those variables set
    (`KERASTUNER_TUNER_ID=chief` on one process, `tuner0`, `tuner1`, ... on the
    others) spreads a sweep across machines; the sweep folder must then be
    shared. The gRPC service has no authentication: it listens on 127.0.0.1
    unless `oracle_ip` says otherwise. A worker silent for `worker_timeout`
    seconds (killed, lost) counts as dead and its trial goes to another worker.

    Args:
        name: a name from `seqzoo.list_models()`.
        task: a task name (or a `Task`, without `workers`).
        tuner: `"random"`, `"hyperband"`, `"bayesian"` or `"grid"`.
        max_trials: the most trials; `None` only for Hyperband's and grid
            search's own end (random and Bayesian search never end by themselves).
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
        hyperparameters: a `keras_tuner.HyperParameters` (or its config), e.g.
            with `hp.Fixed` values set before the search.
        oracle_ip, oracle_port: where the chief listens (with `workers`).
        worker_timeout: seconds of silence after which a worker counts as dead.
        callbacks: more Keras callbacks for every trial (not with `workers`).
        verbose: keras-tuner's and Keras's verbosity.
        top: how many of the best trials to print.
        **overrides: config overrides for every trial (see `seqzoo.build`); an
            override of a searched key fixes it.

    Returns:
        A `TuneResult` (`result.summary()` is the one JSON line `seqzoo tune`
        prints); `None` in a worker process of a chief/worker sweep.

    Raises:
        ValueError: for a bad argument (nothing written), or an `out` that
            holds a sweep of other settings.
        KeyboardInterrupt: on Ctrl-C; the sweep resumes when run again.

    Example:

    >>> result = seqzoo.tune("gru_uni", "japanese_vowels", tuner="hyperband", max_trials=20, epochs=10)
    >>> result.best["optimizer.learning_rate"], result.best_run
    """
    check_settings(
        tuner=tuner,
        max_trials=max_trials,
        epochs=epochs,
        batch_size=batch_size,
        executions_per_trial=executions_per_trial,
        workers=workers,
        worker_timeout=worker_timeout,
        top=top,
    )
    role = _compat.tuner_role()
    if workers and role is not None:
        raise ValueError(
            f"Received workers={workers} in a process that keras-tuner's variables already make "
            f"the {role}; start workers either with --workers or with the variables, not both."
        )
    if workers and (not isinstance(task, str) or callbacks):
        raise ValueError("A sweep with workers takes a task name and no callbacks (each worker process rebuilds them).")
    if isinstance(hyperparameters, dict):
        hyperparameters = keras_tuner.HyperParameters.from_config(hyperparameters)
    task_name = task if isinstance(task, str) else task.name
    out = out or os.path.join("runs", f"tune-{name}-{task_name.replace('/', '_').replace(':', '_')}-{tuner}")
    hypermodel = HyperModel(name, task, data_dir=data_dir, batch_size=batch_size, **overrides)
    goal = get_objective(objective, hypermodel.metric_names(), direction)
    spec = SweepSpec(
        model=name,
        task=task_name,
        tuner=tuner,
        objective=goal.name,
        direction=goal.direction,
        epochs=epochs,
        batch_size=batch_size,
        executions_per_trial=executions_per_trial,
        overrides=hypermodel.overrides,
        search=hypermodel.space,
        hyperparameters=None if hyperparameters is None else hyperparameters.get_config(),
        max_trials=max_trials,
        data_dir=data_dir,
        seed=seed,
        worker_timeout=worker_timeout,
        verbose=verbose,
    )
    if role == "worker":  # The chief owns sweep.json; a worker only checks that it searches the same.
        _check_same(spec, out)
        return _run(spec, out, hypermodel, goal, callbacks, top)
    hypermodel.task.raw("train")  # Generates the dataset once, before any other process reads it.
    with _locked(out):
        if overwrite:
            _clear(out)
        _start(spec, out)
        if not workers:
            return _run(spec, out, hypermodel, goal, callbacks, top, overwrite=overwrite and role is None)
    return _launch(spec, out, workers, oracle_ip, oracle_port, top)  # Its chief takes the lock.


def resume(out, callbacks=(), top=defaults.TOP):
    """Runs this process's part of the sweep that `out/sweep.json` describes.

    Alone, it resumes the sweep (as calling `tune` again with the same
    arguments does); with keras-tuner's variables set, it is the chief or a
    worker of a chief/worker sweep. `python -m seqzoo.tuning OUT` calls it.

    Args:
        out: a sweep folder.
        callbacks: more Keras callbacks for every trial.
        top: how many of the best trials to print.

    Returns:
        A `TuneResult`, or `None` in a worker process.
    """
    spec = SweepSpec.read(out)
    if _compat.tuner_role() != "worker":
        with _locked(out):
            return _resume(spec, out, callbacks, top)
    return _resume(spec, out, callbacks, top)


def _resume(spec, out, callbacks, top):
    hypermodel = HyperModel(
        spec.model,
        spec.task,
        data_dir=spec.data_dir,
        batch_size=spec.batch_size,
        **spec.overrides,
    )
    goal = get_objective(spec.objective, hypermodel.metric_names(), spec.direction)
    return _run(spec, out, hypermodel, goal, callbacks, top)


@contextlib.contextmanager
def _locked(out):
    """Holds the sweep folder's lock: one process at a time writes a sweep (alone, or its chief)."""
    os.makedirs(out, exist_ok=True)
    with FolderLock(out):
        atomic.remove_temporaries(out)  # What a killed writer left,
        for name in os.listdir(out):
            if name.startswith(f".{BEST_RUN}."):  # and the best runs it was staging.
                shutil.rmtree(os.path.join(out, name), ignore_errors=True)
        yield


def _start(spec, out):
    """Writes `sweep.json`, after checking that a sweep already in `out` searches the same thing."""
    _check_same(spec, out)
    spec.write(out)


def _check_same(spec, out):
    """Refuses a `spec` that searches other things than the sweep in `out` (if there is one)."""
    if not os.path.exists(os.path.join(out, SWEEP)):
        return
    previous = SweepSpec.read(out)
    changed = previous.differences(spec)
    if changed:
        raise ValueError(
            f"{out!r} holds a sweep with other {', '.join(changed)} "
            f"({', '.join(f'{key}={getattr(previous, key)!r}' for key in changed)}); resume it with the same "
            f"settings, or pass overwrite=True (--overwrite) or another out."
        )


def _clear(out):
    """Deletes what a sweep wrote in `out` (and nothing else there)."""
    for entry in (
        PROJECT,
        SWEEP,
        BEST_RUN,
        chief.LOGS,
        RESULTS_CSV,
        RESULTS_MD,
        RESULTS_PNG,
    ):
        path = os.path.join(out, entry)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def _run(spec, out, hypermodel, objective, callbacks, top, overwrite=False):
    """Runs the search in this process (alone, chief or worker); writes the results unless a worker."""
    role = _compat.tuner_role()
    if role == "chief":
        ip, port = os.environ[chief.ORACLE_IP], os.environ[chief.ORACLE_PORT]
        print(chief.security_warning(ip, port), file=sys.stderr, flush=True)
        print(chief.settings_message(ip, port, out=out), file=sys.stderr, flush=True)
    with contextlib.redirect_stdout(sys.stderr):  # keras-tuner and Keras print progress on stdout.
        search = make_tuner(spec, hypermodel, objective, out, PROJECT, overwrite=overwrite)
        try:
            search.search(epochs=spec.epochs, callbacks=list(callbacks), verbose=spec.verbose)
        except KeyboardInterrupt:
            print(f"\nseqzoo tune: interrupted; {_RESUMES.format(out=out)}", file=sys.stderr, flush=True)
            raise
        if role == "worker":
            return None
        rows = collect_rows(search, hypermodel)
        write_tables(rows, hypermodel, objective, out)
        write_plot(rows, hypermodel, objective, out)
        best_run = None
        if rows and rows[0]["rank"] != "":
            best_run = write_best_run(search, hypermodel, rows[0], out, spec.data_dir, spec.batch_size)
    result = read_results(out)
    result.best_run = best_run
    print_table(result, top)
    return result


def _launch(spec, out, workers, ip, port, top):
    """Runs the sweep as a chief and `workers` worker processes; returns the chief's results."""
    try:
        code = chief.launch_sweep(out, workers, ip=ip, port=port, worker_timeout=spec.worker_timeout)
    except KeyboardInterrupt:
        print(f"\nseqzoo tune: interrupted; {_RESUMES.format(out=out)}", file=sys.stderr, flush=True)
        raise
    if code != 0 or not os.path.exists(os.path.join(out, RESULTS_CSV)):
        raise RuntimeError(
            f"The sweep's chief ended with {'exit code ' + str(code) if code is not None else 'no exit code'} and "
            f"no results; see {os.path.join(out, chief.LOGS)}/. Running the same call again resumes the sweep."
        )
    result = read_results(out)
    print_table(result, top)
    return result
