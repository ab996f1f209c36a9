"""The callbacks that keep a run folder resumable: history, checkpoints, backup, early stopping.

At the end of each epoch they write, in this order, each file atomically:
the checkpoints (`last.keras`, and `best.keras` when the monitored value
improves), `history.csv` (the whole table again), then the backup (the
weights with the optimizer's state, then `backup/state.json` naming them
and holding the random states of the dropout layers).
`state.json` is the commit: a run killed at any moment resumes from the
epoch it names, and the history rows of later epochs are dropped, so no
epoch is lost or logged twice. Keras's `BackupAndRestore` writes its files
in place, so a kill during a write can leave a backup that never loads;
that is why seqzoo writes its own.
"""

import math
import os
import re

import keras

from seqzoo import atomic
from seqzoo.runs.layout import BACKUP
from seqzoo.runs.layout import BEST
from seqzoo.runs.layout import CHECKPOINTS
from seqzoo.runs.layout import LAST

MONITOR = "val_loss"
BACKUP_STATE = "state.json"
_BACKUP_WEIGHTS = re.compile(r"epoch-\d+\.weights\.h5")


def monitored_values(rows, monitor=MONITOR):
    """The values of `monitor` (`loss` when it was not logged) in history rows, epoch by epoch."""
    key = monitor if rows and monitor in rows[0] else "loss"
    return [float(row[key]) for row in rows if row.get(key) not in (None, "")]


def epochs_without_improvement(values):
    """`(best, wait)`: the lowest value, and how many epochs came after it."""
    best, wait = None, 0
    for value in values:
        wait += 1
        if best is None or value < best:
            best, wait = value, 0
    return best, wait


def training_is_over(rows, epochs, patience):
    """Whether the epochs in `rows` already ended training (all epochs, or early stopping)."""
    return len(rows) >= epochs or epochs_without_improvement(monitored_values(rows))[1] >= patience


class RunCheckpoints(keras.callbacks.Callback):
    """Saves `checkpoints/last.keras` every epoch and `best.keras` when `val_loss` improves.

    Args:
        run: the `RunFolder`.
        rows: the history rows of the epochs before this `fit` (a resumed run's).
    """

    def __init__(self, run, rows):
        super().__init__()
        self.run = run
        self.best = epochs_without_improvement(monitored_values(rows))[0]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.run.save_model(self.model, os.path.join(CHECKPOINTS, LAST))
        value = logs.get(MONITOR, logs.get("loss"))
        improved = value is not None and math.isfinite(value) and (self.best is None or value < self.best)
        if improved or not os.path.exists(self.run.file(os.path.join(CHECKPOINTS, BEST))):
            self.best = value if improved else self.best
            self.run.save_model(self.model, os.path.join(CHECKPOINTS, BEST))


class RunHistory(keras.callbacks.Callback):
    """Writes `history.csv` whole after every epoch (`CSVLogger` appends, so a kill can cut a row).

    Args:
        run: the `RunFolder`.
        rows: the rows of the epochs before this `fit`; this callback appends to them.
    """

    def __init__(self, run, rows):
        super().__init__()
        self.run, self.rows = run, rows

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append({"epoch": epoch, **{key: float(value) for key, value in sorted((logs or {}).items())}})
        self.run.write_history(self.rows)


def random_states(model):
    """The model's random states: its `SeedGenerator`s' (dropout), which `save_weights` leaves out."""
    weights = {id(weight) for weight in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


class RunBackup(keras.callbacks.Callback):
    """Backs up the weights, the optimizer's state and the random states after every epoch, atomically.

    `restore` (before `fit`) loads the last backup and returns the epoch to
    start from, which `fit` takes as `initial_epoch`. With the shuffle of
    epoch k drawn from the seed and k, a resumed run goes on exactly as the
    uninterrupted one.

    Args:
        run: the `RunFolder`.
    """

    def __init__(self, run):
        super().__init__()
        self.run = run

    @staticmethod
    def saved_epoch(run):
        """The number of epochs the backup holds (0: none)."""
        path = run.file(os.path.join(BACKUP, BACKUP_STATE))
        return atomic.read_json(path)["epoch"] if os.path.exists(path) else 0

    @staticmethod
    def restore(run, model):
        """Loads the backup into `model` (its optimizer built first); returns its epoch (0: no backup)."""
        path = run.file(os.path.join(BACKUP, BACKUP_STATE))
        if not os.path.exists(path):
            return 0
        state = atomic.read_json(path)
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(run.file(os.path.join(BACKUP, state["weights"])))
        # Backups written before seqzoo saved the random states have none.
        for variable, value in zip(random_states(model), state.get("random_states", [])):
            variable.assign(keras.ops.convert_to_tensor(value, dtype=variable.dtype))
        return state["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        folder = self.run.file(BACKUP)
        os.makedirs(folder, exist_ok=True)
        name = f"epoch-{epoch + 1:04d}.weights.h5"
        with atomic.replacing(os.path.join(folder, name)) as temporary:
            self.model.save_weights(temporary)
        randomness = [keras.ops.convert_to_numpy(variable.value).tolist() for variable in random_states(self.model)]
        atomic.write_json(
            os.path.join(folder, BACKUP_STATE), {"epoch": epoch + 1, "weights": name, "random_states": randomness}
        )
        for old in os.listdir(folder):
            if _BACKUP_WEIGHTS.fullmatch(old) and old != name:
                os.remove(os.path.join(folder, old))


class ResumedEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` on `val_loss` that counts the epochs a resumed run already has.

    Keras's callback starts every `fit` with no best value and no epochs
    waited, so a run interrupted after waiting `patience - 1` epochs would
    otherwise wait `patience` more after resuming.

    Args:
        rows: the history rows of the epochs before this `fit`.
        patience: epochs without improvement before stopping.
    """

    def __init__(self, rows, patience):
        super().__init__(monitor=MONITOR, mode="min", patience=patience)
        self.rows = list(rows)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        best, wait = epochs_without_improvement(monitored_values(self.rows))
        if best is not None:
            self.best, self.wait = best, wait
