"""`SweepSpec`: what a sweep searches and how it runs; it *is* the sweep folder's `sweep.json`.

The spec is validated whole before anything is written, written once when a
sweep starts, and read back by every process that works on the sweep: a
resumed sweep checks that it searches the same thing, and the chief and
workers of a chief/worker sweep (`python -m seqzoo.tuning OUT`) read it
instead of being handed the arguments again.
"""

import dataclasses
import json
import os

import keras_tuner

from seqzoo import atomic
from seqzoo.training.options import BATCH_SIZE
from seqzoo.tuning import defaults
from seqzoo.tuning.tuner import tuner_class

SWEEP = "sweep.json"

# What a sweep searches: resuming a sweep with another value of one of these is refused.
SEARCHED = (
    "model",
    "task",
    "tuner",
    "objective",
    "direction",
    "epochs",
    "batch_size",
    "executions_per_trial",
    "overrides",
    "search",
    "hyperparameters",
)


@dataclasses.dataclass
class SweepSpec:
    """A sweep's settings, as written in its `sweep.json`.

    The fields in `SEARCHED` say what is searched and must stay the same when
    the sweep is resumed; `max_trials` may grow (more trials), and
    `data_dir`, `seed`, `worker_timeout` and `verbose` are this run's.

    Args:
        model: a name from `seqzoo.list_models()`.
        task: a task name.
        tuner: `"random"`, `"hyperband"`, `"bayesian"` or `"grid"`.
        objective, direction: the metric the tuner optimizes, `"min"` or `"max"`.
        epochs: epochs per trial (Hyperband: the most of one model).
        batch_size: examples per batch.
        executions_per_trial: models trained per trial (scores averaged).
        overrides: config overrides (dotted keys) for every trial.
        search: the searched keys and their ranges (the HyperModel's space).
        hyperparameters: a `keras_tuner.HyperParameters` config with values
            fixed before the search, or `None`.
        max_trials: the most trials; `None` only for tuners with their own
            end (Hyperband, grid).
        data_dir: the TFDS data folder.
        seed: the tuner's random seed.
        worker_timeout: seconds of silence after which a worker counts as dead.
        verbose: keras-tuner's and Keras's verbosity.
    """

    model: str
    task: str
    tuner: str = defaults.TUNER
    objective: str = defaults.OBJECTIVE
    direction: str = "min"
    epochs: int = defaults.EPOCHS
    batch_size: int = BATCH_SIZE
    executions_per_trial: int = defaults.EXECUTIONS_PER_TRIAL
    overrides: dict = dataclasses.field(default_factory=dict)
    search: dict = dataclasses.field(default_factory=dict)
    hyperparameters: dict = None
    max_trials: int = defaults.MAX_TRIALS
    data_dir: str = None
    seed: int = None
    worker_timeout: float = defaults.WORKER_TIMEOUT
    verbose: int = 1

    def __post_init__(self):
        check_settings(
            tuner=self.tuner,
            max_trials=self.max_trials,
            epochs=self.epochs,
            batch_size=self.batch_size,
            executions_per_trial=self.executions_per_trial,
            worker_timeout=self.worker_timeout,
        )
        self.overrides = _plain(self.overrides)
        self.search = _plain(self.search)

    def fixed_hyperparameters(self):
        """The `keras_tuner.HyperParameters` fixed before the search, or `None`."""
        if self.hyperparameters is None:
            return None
        return keras_tuner.HyperParameters.from_config(self.hyperparameters)

    def differences(self, other):
        """The `SEARCHED` fields on which `other` (a `SweepSpec`) differs from this one."""
        return [key for key in SEARCHED if _plain(getattr(self, key)) != _plain(getattr(other, key))]

    def write(self, out):
        """Writes `out/sweep.json` atomically."""
        atomic.write_json(os.path.join(out, SWEEP), dataclasses.asdict(self))

    @classmethod
    def read(cls, out):
        """The spec in `out/sweep.json`.

        Raises:
            ValueError: when `out` holds no readable sweep.json.
        """
        path = os.path.join(out, SWEEP)
        try:
            record = atomic.read_json(path)
        except FileNotFoundError as error:
            raise ValueError(f"{out!r} holds no sweep ({SWEEP} is missing); start one with seqzoo.tuning.") from error
        except (OSError, ValueError) as error:
            raise ValueError(f"{path} cannot be read ({error}).") from error
        fields = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in record.items() if key in fields})


def _plain(value):
    """`value` as JSON reads it back (tuples become lists), so that specs compare as their files do."""
    return json.loads(json.dumps(value))


def check_settings(
    tuner=defaults.TUNER,
    max_trials=defaults.MAX_TRIALS,
    epochs=1,
    batch_size=1,
    executions_per_trial=1,
    workers=0,
    worker_timeout=defaults.WORKER_TIMEOUT,
    top=defaults.TOP,
):
    """Checks a sweep's settings, before anything is written.

    Raises:
        ValueError: for an unknown tuner (naming the closest), a count below
            1 (`workers` below 0), a non-positive `worker_timeout`, or
            `max_trials=None` for a tuner that never ends by itself.
    """
    tuner_class(tuner)
    counts = dict(
        epochs=epochs,
        batch_size=batch_size,
        executions_per_trial=executions_per_trial,
        top=top,
    )
    if max_trials is not None:
        counts["max_trials"] = max_trials
    for key, value in counts.items():
        if not _is_count(value, 1):
            raise ValueError(f"Received {key}={value!r}; expected a whole number >= 1.")
    if max_trials is None and tuner not in defaults.OWN_END:
        raise ValueError(
            f"Received max_trials=None (--max-trials 0) with tuner={tuner!r}, which never ends by itself; "
            f"give max_trials >= 1, or use a tuner with its own end ({', '.join(defaults.OWN_END)})."
        )
    if not _is_count(workers, 0):
        raise ValueError(f"Received workers={workers!r}; expected 0 (run here) or more.")
    if isinstance(worker_timeout, bool) or not isinstance(worker_timeout, (int, float)) or not worker_timeout > 0:
        raise ValueError(f"Received worker_timeout={worker_timeout!r}; expected a number of seconds > 0.")


def _is_count(value, low):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low
