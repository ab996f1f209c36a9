"""`TrainedRun`: one trained model with its task's preprocessing, and what it can be asked.

As KerasHub's tasks (`CausalLM.from_preset(...).generate(...)`), a trained run
holds the `keras.Model` and what turns text into its inputs and its outputs
back into text: the run's vocabularies, the task's tokenizer, condition and
label names. Nothing is hand-written: `seqzoo.load("runs/names")` or
`seqzoo.from_preset("names")` reads them from the run folder, and the model
and task load on first use, so asking a run what it can do loads nothing.

What a run can be asked follows its topology:

- a language model and a one-to-many model: `generate`, `score`;
- an encoder-decoder (translator): `generate`;
- a many-to-one model (classifier) and a many-to-many one (tagger, the
  harmonizer): `predict`;
- every run: `evaluate`, `export`.

Example:

>>> names = seqzoo.from_preset("names")
>>> names.generate(num=3, seed=0)
['Kasandra', 'Amiyah', 'Dell']
>>> names.score(["Maria"])[0]["bits_per_token"]
1.92
>>> seqzoo.load("preset:japanese_vowels").predict([frames])[0]["label"]
'3'
"""

import functools
import os

from seqzoo.inference.export import export
from seqzoo.presets.runs import open_run
from seqzoo.presets.sources import PREFIX
from seqzoo.tasks import load_task
from seqzoo.trained import generation
from seqzoo.trained import prediction
from seqzoo.trained import scoring
from seqzoo.training.evaluation import task_metrics
from seqzoo.training.options import check_count
from seqzoo.training.options import check_data_dir

KINDS = {  # topology -> (what the model is, what it can be asked besides evaluate and export)
    "language_model": ("a language model", ("generate", "score")),
    "one_to_many": ("a conditioned generator (one-to-many)", ("generate", "score")),
    "encoder_decoder": ("a translator (encoder-decoder)", ("generate",)),
    "many_to_one": ("a classifier (many-to-one)", ("predict",)),
    "many_to_many": ("a tagger (many-to-many)", ("predict",)),
}
ALWAYS = ("evaluate", "export")


class TrainedRun:
    """A trained model, its task (with the run's vocabularies) and its run folder's record.

    Made by `load` (a run folder or preset) or `TrainedRun(model, task)` (a
    model in memory); the model and task load on first use.

    Args:
        model: a seqzoo `keras.Model`, or `None` to load the run folder's.
        task: its `Task` (or a task name), or `None`: the run's own task, or
            for a bare model none (then `generate` works on ids).
        folder: the finished `RunFolder` it comes from, if any.
        reference: how the user named it (`"preset:names"`, a path), for messages.
        data_dir: the TFDS data folder (only evaluating reads data).

    Example:

    >>> run = seqzoo.load("runs/reviews")
    >>> run.predict(["a wonderful film"])[0]["label"]
    'pos'
    """

    def __init__(self, model=None, task=None, folder=None, reference=None, data_dir=None):
        if model is None and folder is None:
            raise ValueError("TrainedRun needs a model or a run folder; received neither.")
        self.folder, self.data_dir, self._task_argument = folder, data_dir, task
        if model is not None:
            self.__dict__["model"] = model
        if folder is not None:
            record = folder.record
            self.where = f"Run folder {reference or folder.path!r} ({record.get('model')} on task {record.get('task')})"
        else:
            self.where = f"Model {getattr(model, 'name', type(model).__name__)!r}"

    def __repr__(self):
        return f"<TrainedRun {self.where}: {self.kind}>"

    # -- what it is ---------------------------------------------------------------

    @functools.cached_property
    def model(self):
        """The `keras.Model` (loaded from the run folder on first use)."""
        return self.folder.load_model()

    @functools.cached_property
    def task(self):
        """The `Task`, with the run's vocabularies; `None` for a bare model without one."""
        if self.folder is None:
            return None if self._task_argument is None else load_task(self._task_argument, data_dir=self.data_dir)
        try:
            return self.folder.load_task(self._task_argument, self.data_dir)
        except (TypeError, KeyError) as error:
            raise ValueError(
                f"{self.where}: cannot recreate task {self.folder.record.get('task')!r} ({error}); "
                "pass task= the Task it was trained on."
            ) from error

    @property
    def config(self):
        """The model's resolved config (the run's `config.json`)."""
        return self.folder.config if self.folder is not None else dict(getattr(self.model, "seqzoo_config", {}))

    @property
    def record(self):
        """The run folder's `run.json` (model, task, options, versions); `None` for a model in memory."""
        return None if self.folder is None else self.folder.record

    @property
    def topology(self):
        return self.config.get("topology")

    @property
    def abilities(self):
        """What this run can be asked, e.g. `("generate", "score", "evaluate", "export")`."""
        return KINDS.get(self.topology, (None, ()))[1] + ALWAYS

    @property
    def kind(self):
        return KINDS.get(self.topology, (f"a {self.topology or 'non-seqzoo'} model",))[0]

    def require(self, ability):
        """Raises a `ValueError` naming what this run can do unless it can do `ability`."""
        if ability not in self.abilities:
            needs = ", ".join(topology for topology, (_, can) in KINDS.items() if ability in can)
            raise ValueError(
                f"{self.where} is {self.kind} ({self.topology}), which cannot {ability} (that needs a model of one "
                f"of: {needs}); it can {', '.join(self.abilities)}."
            )

    # -- its preprocessing --------------------------------------------------------------

    @property
    def vocabularies(self):
        """`{name: Vocabulary}`: the run's own (`{}` for a bare model)."""
        return {} if self.task is None else self.task.prepare().vocabularies

    @property
    def tokenizer(self):
        return getattr(self.task, "tokenizer", None)

    @property
    def target_vocabulary(self):
        """The vocabulary a generative model writes in."""
        return self.vocabularies.get("target" if self.topology == "encoder_decoder" else "inputs")

    @property
    def condition_names(self):
        """A one-to-many task's condition names (e.g. `["female", "male"]`), else `None`."""
        if self.topology != "one_to_many" or not hasattr(self.task, "condition_names"):
            return None
        return list(self.task.condition_names())

    # -- what it can be asked ---------------------------------------------------------------

    def generate(self, inputs=None, **settings):
        """Novel sequences as strings.

        Args:
            inputs: a translator's source text(s), or the prefix(es) of a
                language or one-to-many model (as `source=` / `prefix=`).
            **settings: those of `seqzoo.trained.generation.generate`: `num`,
                `condition`, `temperature`, `top_k`, `top_p`, `beam`, `greedy`,
                `seed`, `max_length`, `context`, `length_penalty`,
                `forbid_unk`, `compiled`, `labelled`, `prefix`, `source`.

        Returns:
            A list of strings (dicts with `labelled=True`).
        """
        if inputs is not None:
            key = "source" if self.topology == "encoder_decoder" else "prefix"
            if settings.get(key) is not None:
                raise ValueError(f"Received inputs={inputs!r} and {key}={settings[key]!r}; give one of them.")
            settings[key] = inputs
        return generation.generate(self, **settings)

    def predict(self, inputs, batch_size=64):
        """A classifier's label and probabilities, or a tagger's tag per token, for each input.

        See `seqzoo.trained.prediction.predict`.
        """
        self.require("predict")
        return prediction.predict(self, inputs, batch_size)

    def score(self, texts, condition=None):
        """Per text: log-probability per token, bits per token and perplexity; see `seqzoo.trained.scoring.score`."""
        self.require("score")
        return scoring.score(self, texts, condition)

    def evaluate(self, split="test", batch_size=None):
        """The task's metrics on a split (`"test"` or `"validation"`), as a dict of floats.

        Args:
            split: the split to judge on.
            batch_size: by default the run's own (64 for a model). Keras's
                loss over padded sequences depends on how examples are batched.
        """
        if batch_size is not None:
            check_count("batch_size", batch_size)
        if self.task is None:
            raise ValueError(f"{self.where} has no task to evaluate on; pass task=.")
        default = (self.record or {}).get("batch_size") or 64
        return task_metrics(self.task, self.model, split, batch_size or default)

    def export(self, out, **options):
        """Writes a SavedModel that serves strings; see `seqzoo.inference.export.export`.

        Returns:
            The endpoint names written, e.g. `["serve", "generate"]`.
        """
        return export(self.model, self.task, out, **options)


def load(reference, task=None, data_dir=None):
    """A finished run as a `TrainedRun`: a run folder, `preset:NAME`, or `preset:PATH` (a folder or archive).

    Args:
        reference: the run.
        task: another task (a name or `Task`) to use, with the run's vocabularies.
        data_dir: the TFDS data folder; by default the run's own (only evaluating reads data).

    Example:

    >>> seqzoo.load("preset:names_by_gender").generate(condition=["female", "male"], num=2, seed=0)
    ['Lorine', 'Anna', 'Doyle', 'Jame']
    """
    check_data_dir(data_dir)
    reference = os.fspath(reference)
    return TrainedRun(folder=open_run(reference), task=task, reference=reference, data_dir=data_dir)


def from_preset(name, **kwargs):
    """A shipped (or local) preset as a `TrainedRun`: `from_preset("names")` is `load("preset:names")`.

    Example:

    >>> seqzoo.from_preset("dates").generate(["3 may 1999"], context="en_US")
    ['1999-05-03']
    """
    return load(name if name.startswith(PREFIX) else PREFIX + name, **kwargs)


def as_trained(run_or_model, task=None, data_dir=None):
    """A `TrainedRun` of a run reference (see `load`) or of a seqzoo model in memory (with `task`, if any)."""
    if isinstance(run_or_model, TrainedRun):
        return run_or_model
    if isinstance(run_or_model, (str, os.PathLike)):
        return load(run_or_model, task, data_dir)
    check_data_dir(data_dir)
    return TrainedRun(run_or_model, task, data_dir=data_dir)


def evaluate(run_or_model, task=None, split="test", batch_size=None, data_dir=None):
    """The task's metrics for a finished run or a model: `as_trained(...).evaluate(split, batch_size)`.

    Args:
        run_or_model: a finished run folder or `preset:NAME`, or a seqzoo model (then `task` is needed).
        task: the task; by default the run's own, with the run's vocabularies.
        split: `"test"` or `"validation"`.
        batch_size: by default the run's own (64 for a model).
        data_dir: the TFDS data folder; by default the run's own.

    Returns:
        A dict of metric names to floats.

    Example:

    >>> seqzoo.evaluate("preset:japanese_vowels")["accuracy"]
    0.965
    """
    if not isinstance(run_or_model, (str, os.PathLike, TrainedRun)) and task is None:
        raise ValueError("evaluate(model) needs a task; received task=None.")
    return as_trained(run_or_model, task, data_dir).evaluate(split, batch_size)
