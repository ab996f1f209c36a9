"""A run folder: its layout, its stage, its record, and every read and write of it."""

import contextlib
import csv
import io
import os
import shutil
import warnings
import zipfile
import zlib

import keras

# Registers the classes a saved model names (SeqzooModel, RecurrentStack, the cells), so that
# `load_model` works in a process that has loaded nothing else of seqzoo.
import seqzoo.architectures  # noqa: F401
from seqzoo import atomic
from seqzoo.errors import one_line
from seqzoo.registry.build import compile_model
from seqzoo.runs.layout import CONFIG
from seqzoo.runs.layout import HISTORY
from seqzoo.runs.layout import METRICS
from seqzoo.runs.layout import MODEL
from seqzoo.runs.layout import RECORD
from seqzoo.runs.layout import STAGES
from seqzoo.runs.layout import STARTING
from seqzoo.runs.layout import VOCABULARY_PREFIX
from seqzoo.runs.lock import LOCK_FILE
from seqzoo.runs.lock import FolderLock
from seqzoo.runs.record import RunFolderError
from seqzoo.runs.record import check_finished
from seqzoo.runs.record import read_record
from seqzoo.tasks import Vocabulary
from seqzoo.tasks import load_task


class RunFolder:
    """One training run on disk, the only code that knows its layout.

    A run goes through four stages, recorded in `run.json`:

    - `created`: `config.json` (the resolved config), the vocabularies and
      `run.json` (the model, task, options and arguments) are written;
    - `training`: `history.csv`, `checkpoints/best.keras` and `last.keras`
      and `backup/` (the last finished epoch) grow epoch by epoch;
    - `trained`: training is over; `model.keras` (the best epoch) comes next;
    - `finished`: `model.keras`, `training_curve.png` and `metrics.json` (the
      test metrics) are written.

    Every file is written atomically with the user's umask, so a process
    killed at any moment leaves the folder at a stage it can resume from
    (`seqzoo.train` with the same arguments); stray temporary files are
    removed when a process takes the folder's lock (`lock()`), which only
    one process holds at a time.

    Args:
        path: the folder.

    Example:

    >>> run = RunFolder("runs/names")
    >>> run.stage
    'finished'
    >>> model = run.load_model()
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def __repr__(self):
        return f"RunFolder({self.path!r})"

    def file(self, name):
        """The path of a file in the folder, e.g. `run.file("history.csv")`."""
        return os.path.join(self.path, name)

    # -- state ---------------------------------------------------------------

    @property
    def record(self):
        """`run.json`: the stage, and what the run was started with; `None` before `start`."""
        return read_record(self.path)

    @property
    def stage(self):
        """`None` (nothing started here), `"created"`, `"training"`, `"trained"` or `"finished"`."""
        record = self.record
        return None if record is None else record["stage"]

    @property
    def config(self):
        """The resolved config of the run's model."""
        return atomic.read_json(self.file(CONFIG))

    @contextlib.contextmanager
    def lock(self):
        """Creates the folder and holds its lock while the block runs; see `seqzoo.runs.FolderLock`.

        Stray temporary files of a killed writer are removed once the lock is held.
        """
        os.makedirs(self.path, exist_ok=True)
        with FolderLock(self.path):
            atomic.remove_temporaries(self.path)
            yield self

    def check_can_start(self):
        """Raises unless the folder is new, empty, or an unfinished run (`out=` of `train`)."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise RunFolderError(f"Received out={self.path!r}, which is a file; give a folder for the run.")
        if self.stage == "finished":
            raise RunFolderError(f"Run folder {self.path!r} holds a finished run; choose another out folder.")
        if self.record is None and os.path.isdir(self.path):
            names = os.listdir(self.path)
            cut_short = STARTING in names  # A start killed before run.json: what it wrote is the run's own.
            others = sorted(
                name
                for name in names
                if name not in (LOCK_FILE, STARTING)
                and not atomic.is_temporary(name)
                and not (cut_short and (name == CONFIG or name.startswith(VOCABULARY_PREFIX)))
            )
            if others:
                raise RunFolderError(
                    f"Received out={self.path!r}, a folder that holds other files ({', '.join(others[:5])}); "
                    "give a new or empty folder for the run."
                )

    def differences(self, record):
        """What `record` (a new call's arguments) changes from the run's own, as `key: old -> new` lines."""
        own = self.record
        keys = [key for key in record if key not in ("stage", "versions", "transferred")]
        return [f"{key}: {own.get(key)!r} -> {record[key]!r}" for key in keys if own.get(key) != record[key]]

    # -- writing ---------------------------------------------------------------

    def start(self, record, config, vocabularies):
        """Writes the vocabularies, `config.json`, then `run.json` at stage `created`.

        A marker written first says, until `run.json` is there, that the
        files beside it are this run's (see `check_can_start`).
        """
        atomic.write_text(self.file(STARTING), "")
        for name, vocabulary in vocabularies.items():
            vocabulary.save(self.file(f"{VOCABULARY_PREFIX}{name}.json"))
        atomic.write_json(self.file(CONFIG), config)
        atomic.write_json(self.file(RECORD), {**record, "stage": "created"})
        self.remove(STARTING)

    def set_stage(self, stage):
        """Records that the run has reached `stage`."""
        if stage not in STAGES:
            raise ValueError(f"Unknown stage {stage!r}; stages are {', '.join(STAGES)}.")
        atomic.write_json(self.file(RECORD), {**self.record, "stage": stage})

    def write_json(self, name, value):
        atomic.write_json(self.file(name), value)

    def save_model(self, model, name=MODEL):
        os.makedirs(os.path.dirname(self.file(name)), exist_ok=True)
        atomic.save_model(model, self.file(name))

    def write_history(self, rows):
        """Writes `history.csv` (one dict per epoch) whole, atomically: never a half row."""
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
        writer.writeheader()
        writer.writerows(rows)
        atomic.write_text(self.file(HISTORY), text.getvalue())

    def save_figure(self, figure, name):
        atomic.save_figure(figure, self.file(name))

    def remove(self, name):
        """Removes a file or folder of the run, if it is there."""
        path = self.file(name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)

    # -- reading ---------------------------------------------------------------

    def vocabularies(self):
        """`{name: Vocabulary}` from the run's `vocabulary_<name>.json` files."""
        return {
            name[len(VOCABULARY_PREFIX) : -len(".json")]: Vocabulary.load(self.file(name))
            for name in sorted(os.listdir(self.path))
            if name.startswith(VOCABULARY_PREFIX) and name.endswith(".json")
        }

    def history(self):
        """The rows of `history.csv` (dicts of strings), epoch by epoch."""
        if not os.path.exists(self.file(HISTORY)):
            return []
        with open(self.file(HISTORY), newline="") as file:
            return list(csv.DictReader(file))

    def check_finished(self):
        """Raises a `RunFolderError` that says what is wrong unless this is a finished run; returns `self`."""
        check_finished(self.path)
        return self

    def load_model(self, name=MODEL):
        """The Keras model saved as `name` (by default the finished run's `model.keras`).

        The finished model is compiled afresh from the run's config, with
        today's loss and metrics: a `.keras` file keeps the compile settings
        it was saved with, and runs saved before batches carried sample
        weights (fixed-shape buckets) would weigh a batch's padded steps.
        """
        if name == MODEL:
            self.check_finished()
        path = self.file(name)
        if not os.path.isfile(path):
            raise RunFolderError(f"Run folder {self.path!r} is corrupted: it has no {name}.")
        if not zipfile.is_zipfile(path):
            raise RunFolderError(f"Run folder {self.path!r} is corrupted: {name} is not a .keras file (not a zip).")
        try:
            with warnings.catch_warnings():
                # A preset is saved without its optimizer's state, which nothing that reads a run needs.
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                # The finished model is compiled below: restoring the saved compile first would be undone.
                model = keras.saving.load_model(path, compile=name != MODEL)
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, zlib.error) as error:
            # Keras's message for a class or function it cannot find ends with the cause, after the whole config.
            cause = one_line(str(error).rpartition("Exception encountered:")[2]).split(". ")[0].rstrip(".")
            raise RunFolderError(
                f"Run folder {self.path!r} is corrupted: {name} cannot be loaded ({type(error).__name__}: {cause})."
            ) from error
        if name == MODEL:
            compile_model(model, self.config)
        return model

    def load_task(self, task=None, data_dir=None):
        """The run's task (or `task`) with the run's vocabularies.

        Args:
            task: another task (a name or `Task`) to use instead of the run's own.
            data_dir: the TFDS data folder; by default the run's own.
        """
        record = self.record
        if task is None:
            task = load_task(record["task"], data_dir=data_dir or record.get("data_dir"), **record["task_options"])
        else:
            task = load_task(task, data_dir=data_dir)
        return task.load_vocabularies(self.path)

    def metrics(self):
        """The finished run's test metrics."""
        return atomic.read_json(self.check_finished().file(METRICS))
