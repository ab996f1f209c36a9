"""The search space of a named model, as a keras-tuner `HyperModel`.

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
"""

import keras
import keras_tuner

from seqzoo.architectures.heads import loss_and_metrics
from seqzoo.errors import unknown_name_error
from seqzoo.registry.build import build_from_config
from seqzoo.registry.overrides import apply_overrides
from seqzoo.registry.overrides import fit_to_task
from seqzoo.registry.schema import SECTIONS
from seqzoo.registry.schema import resolve
from seqzoo.registry.sources import read_config
from seqzoo.tasks import load_task
from seqzoo.training.options import BATCH_SIZE


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

    def __init__(self, name, task=None, data_dir=None, batch_size=BATCH_SIZE, **overrides):
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
        config, _ = read_config(self.model_name)
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
        kwargs.setdefault("shuffle", False)  # The task's batches are shuffled already: Keras would warn it ignores it.
        return model.fit(
            self.task.sized_batches("train", self.batch_size, shuffle=True),
            validation_data=self.task.sized_batches("validation", self.batch_size),
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
            raise ValueError(
                f"{where}: the config's value {default!r} (the default) is not among the choices {spec['choice']}."
            )
        return
    if "bool" in spec:
        if not isinstance(default, bool):
            raise ValueError(f"{where}: a bool search needs a bool value in the config; it holds {default!r}.")
        return
    low, high = spec["int"] if "int" in spec else spec["float"]
    if "int" in spec and not (isinstance(default, int) and isinstance(low, int) and isinstance(high, int)):
        raise ValueError(
            f"{where}: an int range needs int bounds and an int value; received {spec!r}, value {default!r}."
        )
    if not low <= default <= high:
        raise ValueError(
            f"{where}: the config's value {default!r} (the default) lies outside the range [{low}, {high}]."
        )
    if spec.get("sampling") == "log" and low <= 0:
        raise ValueError(f"{where}: log sampling needs a range above 0; received [{low}, {high}].")


def _declare(hp, key, spec, default):
    if "choice" in spec:
        return hp.Choice(key, spec["choice"], default=default)
    if "bool" in spec:
        return hp.Boolean(key, default=default)
    kind = "int" if "int" in spec else "float"
    low, high = spec[kind]
    declare = hp.Int if kind == "int" else hp.Float
    sampling = spec.get("sampling", "linear")
    return declare(key, low, high, step=spec.get("step"), sampling=sampling, default=default)


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
