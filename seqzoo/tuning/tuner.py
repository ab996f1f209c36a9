"""seqzoo's flavour of keras-tuner's tuners: trial records, atomic trial files, a sweep that resumes, Ctrl-C that stops.

`tuner_class(kind)` is keras-tuner's `RandomSearch`, `Hyperband`,
`BayesianOptimization` or `GridSearch` with `SweepTuner` mixed in:

- each trial folder gets `history.csv` (the epochs of the trial) and
  `runs.jsonl` (which tuner process ran it, when, with which values, and how
  it ended);
- keras-tuner's JSON files are written atomically, and a project whose last
  `trial.json` was cut short is mended before keras-tuner reloads it (see
  `trials.repair_project`); the chief of a chief/worker sweep reloads a
  sweep begun in one process, and the other way round;
- one Ctrl-C (SIGINT) stops the search at once. Python raises
  `KeyboardInterrupt` where the main thread happens to be, and when that is
  Python code that TensorFlow called (the input pipeline), TensorFlow turns
  it into an error that Keras or keras-tuner swallow: the epoch ends early,
  or the trial counts as failed, and the search goes on (so the first Ctrl-C
  seemed ignored). So while a search runs, a SIGINT is remembered, and the
  search stops at the next batch, epoch or trial boundary at the latest;
  the interrupted trial is left running, to be run again on resume;
- in chief/worker mode, workers send heartbeats while they train, and the
  chief (`chief.serve_oracle`) gives the trial of a silent worker to another.
"""

import contextlib
import os
import signal
import threading
import time

import keras
import keras_tuner

from seqzoo import _compat
from seqzoo import atomic
from seqzoo.errors import unknown_name_error
from seqzoo.tuning import chief
from seqzoo.tuning import trials
from seqzoo.tuning.defaults import TUNER_NAMES
from seqzoo.tuning.defaults import WORKER_TIMEOUT

TUNERS = dict(
    zip(
        TUNER_NAMES,
        (keras_tuner.RandomSearch, keras_tuner.Hyperband, keras_tuner.BayesianOptimization, keras_tuner.GridSearch),
    )
)
TRIAL_HISTORY = "history.csv"

_interrupted = threading.Event()


@contextlib.contextmanager
def stop_on_interrupt():
    """While the block runs, SIGINT raises `KeyboardInterrupt` and is remembered (see the module's docstring).

    Outside the main thread (where Python cannot handle signals), does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        _interrupted.set()
        raise KeyboardInterrupt()

    _interrupted.clear()
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_if_interrupted(*args, **kwargs):
    if _interrupted.is_set():
        raise KeyboardInterrupt()


class _StopOnInterrupt(keras.callbacks.Callback):
    """Raises `KeyboardInterrupt` at the next batch or epoch after a SIGINT that something swallowed."""

    on_train_batch_end = on_test_batch_end = on_epoch_end = on_train_end = staticmethod(_stop_if_interrupted)


class SweepTuner:
    """What seqzoo adds to each keras-tuner tuner class (mixed in before it).

    Args:
        worker_timeout: seconds of silence after which a worker of a
            chief/worker sweep counts as dead (the chief's watch; workers
            send a heartbeat four times as often).
        *args, **kwargs: the keras-tuner tuner's arguments.
    """

    def __init__(self, *args, worker_timeout=WORKER_TIMEOUT, **kwargs):
        _compat.write_tuner_files_atomically()
        self.worker_timeout = worker_timeout
        project = os.path.join(
            str(kwargs.get("directory") or "."),
            kwargs.get("project_name") or "untitled_project",
        )
        role = _compat.tuner_role()
        own_state = os.path.join(project, f"{os.environ.get(chief.TUNER_ID, 'tuner0')}.json")
        resumes = not kwargs.get("overwrite") and role != "worker"
        if resumes:
            trials.report(trials.repair_project(project))
            if os.path.exists(own_state) and not _readable_json(own_state):
                os.remove(own_state)  # keras-tuner's tuner state is `{}`; a cut one would stop the reload.
        reloads = resumes and os.path.exists(own_state)
        super().__init__(*args, **kwargs)
        # keras-tuner reloads a project only when this tuner id saved state there; a sweep begun alone
        # (tuner0) and resumed with workers (chief), or the other way round, must reload the oracle too.
        if resumes and not reloads and os.path.exists(os.path.join(project, trials.ORACLE_FILE)):
            self.oracle.reload()

    def search(self, *fit_args, **fit_kwargs):
        if _compat.tuner_role() == "chief":
            self.save()
            chief.serve_oracle(self.oracle, self.worker_timeout)
            return
        with stop_on_interrupt():
            super().search(*fit_args, **fit_kwargs)

    def pre_create_trial(self):
        _stop_if_interrupted()
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
        trials.record_run(folder, self.tuner_id, "start", values=trial.hyperparameters.values)
        history = keras.callbacks.CSVLogger(os.path.join(folder, TRIAL_HISTORY))
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), history, _StopOnInterrupt()]
        try:
            with chief.heartbeat(self.oracle, trial.trial_id, max(self.worker_timeout / 4, 0.5)):
                outcome = super().run_trial(trial, *args, **kwargs)
        except Exception:
            _stop_if_interrupted()
            raise
        _stop_if_interrupted()  # Never report a trial that an interrupt cut short.
        return outcome

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        trials.record_run(
            self.get_trial_dir(trial.trial_id),
            self.tuner_id,
            "end",
            status=trial.status,
        )


def _readable_json(path):
    try:
        atomic.read_json(path)
    except (OSError, ValueError):
        return False
    return True


_TUNER_CLASSES = {}


def tuner_class(kind):
    """The seqzoo flavour of keras-tuner's tuner `kind` (`"random"`, `"hyperband"`, `"bayesian"`, `"grid"`)."""
    if kind not in TUNERS:
        raise unknown_name_error("tuner", kind, TUNERS)
    if kind not in _TUNER_CLASSES:
        base = TUNERS[kind]
        _TUNER_CLASSES[kind] = type(f"Seqzoo{base.__name__}", (SweepTuner, base), {})
    return _TUNER_CLASSES[kind]


def make_tuner(spec, hypermodel, objective, out, project, overwrite=False):
    """The tuner of the sweep that `spec` (a `SweepSpec`) describes, its project in `out/project`."""
    options = dict(
        hypermodel=hypermodel,
        objective=objective,
        seed=spec.seed,
        hyperparameters=spec.fixed_hyperparameters(),
        executions_per_trial=spec.executions_per_trial,
        overwrite=overwrite,
        directory=out,
        project_name=project,
        worker_timeout=spec.worker_timeout,
    )
    if spec.tuner == "hyperband":
        options["max_epochs"] = spec.epochs
    else:
        options["max_trials"] = spec.max_trials
    search = tuner_class(spec.tuner)(**options)
    if spec.tuner == "hyperband" and spec.max_trials is not None:
        search.oracle.max_trials = spec.max_trials  # Hyperband has no such argument; its oracle still stops there.
    return search
