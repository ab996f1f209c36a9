"""Hyperparameter sweeps: the HyperModel's defaults, sweeps, their results, resuming, bad input."""

import csv
import json
import math
import os

import keras
import keras_tuner
import pytest

import seqzoo
from seqzoo import atomic
from seqzoo import cli
from seqzoo.runs import RunFolder
from seqzoo.tuning import HyperModel
from seqzoo.tuning import SweepSpec
from seqzoo.tuning import get_objective
from seqzoo.tuning import plot
from seqzoo.tuning import results
from seqzoo.tuning import sweep
from seqzoo.tuning import trials
from seqzoo.tuning import tuner as tuner_module

TASK = "japanese_vowels"
SEARCH = {
    "optimizer.learning_rate": {"float": [1.0e-3, 3.0e-2], "sampling": "log"},
    "backbone.depth": {"int": [1, 2]},
}
TINY = {"backbone.units": 8, "search": SEARCH}
pytestmark = pytest.mark.usefixtures("vowels_data")  # Generated once, before any sweep reads it.


@pytest.fixture(scope="session")
def task(data_dir):
    return seqzoo.load_task(TASK, data_dir=data_dir)


def trial_folders(out):
    project = os.path.join(out, sweep.PROJECT)
    return sorted(name for name in os.listdir(project) if name.startswith("trial_"))


# -- the HyperModel -------------------------------------------------------------


def test_default_hyperparameters_build_the_named_model(task):
    hypermodel = HyperModel("lstm_bi_deep", task)
    model = hypermodel.build(keras_tuner.HyperParameters())
    named = seqzoo.build("lstm_bi_deep", task=task)
    assert model.seqzoo_config == named.seqzoo_config
    assert model.count_params() == named.count_params()
    assert set(hypermodel.space) == set(named.seqzoo_config["search"])


def test_fixed_values_and_overrides_of_searched_keys_are_honoured(task):
    hp = keras_tuner.HyperParameters()
    hp.Fixed("backbone.units", 64)
    hypermodel = HyperModel("lstm_bi_deep", task)
    config = hypermodel.config(hp)
    assert config["backbone"]["units"] == 64
    assert config["backbone"]["depth"] == 3 and config["optimizer"]["learning_rate"] == 1e-3  # Defaults.
    assert config == seqzoo.get_config("lstm_bi_deep", task, **{"backbone.units": 64})

    # An override of a searched key fixes it: recorded as Fixed, not searched.
    fixed = HyperModel("lstm_bi_deep", task, **{"backbone.units": 16, "backbone": {"depth": 2}})
    assert "backbone.units" not in fixed.space and "backbone.depth" not in fixed.space
    space = keras_tuner.HyperParameters()
    fixed.declare_hyperparameters(space)
    kinds = {hp.name: type(hp).__name__ for hp in space.space}
    assert kinds["backbone.units"] == "Fixed" and kinds["backbone.depth"] == "Fixed"
    assert kinds["backbone.dropout"] == "Float"
    assert (
        fixed.build(space).count_params()
        == seqzoo.build("lstm_bi_deep", task=task, **{"backbone.units": 16, "backbone.depth": 2}).count_params()
    )


def test_every_named_config_is_the_default_point_of_its_search_space():
    for name in seqzoo.list_models():
        hypermodel = HyperModel(name)
        values = hypermodel.declare_hyperparameters(keras_tuner.HyperParameters())
        config = seqzoo.get_config(name)
        assert hypermodel.resolved_config(values) == config, name
        assert set(values) == set(config["search"]), name


def test_grid_values_cover_a_choice_and_an_int_range(task):
    hypermodel = HyperModel(
        "gru_uni",
        task,
        **{
            "search": {
                "backbone.units": {"choice": [4, 8]},
                "backbone.depth": {"int": [1, 3], "step": 2},
            },
            "backbone.units": 8,
        },
    )
    assert set(hypermodel.space) == {"backbone.depth"} and hypermodel.fixed == {"backbone.units": 8}
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    depth = next(h for h in hp.space if h.name == "backbone.depth")
    assert list(depth.values) == [1, 3]


# -- sweeps ---------------------------------------------------------------------


def check_ranked_results_and_the_best_run(result, out, data_dir, printed, count):
    """A finished random sweep of `count` trials wrote its ranked table, its plot and its best run."""
    # The table: one row per trial, finite scores, best (smallest val_loss) first.
    assert len(result.rows) == count == len(trial_folders(out))
    with open(os.path.join(out, results.RESULTS_CSV)) as file:
        assert len(list(csv.DictReader(file))) == count
    scores = [row["score"] for row in result.rows]
    assert all(math.isfinite(score) for score in scores)
    assert [row["rank"] for row in result.rows] == list(range(1, count + 1))
    assert result.best["score"] == min(row["val_loss"] for row in result.rows) == scores[0]
    assert all(row["status"] == "COMPLETED" and row["tuner"] == "tuner0" for row in result.rows)
    for row in result.rows:
        assert 1e-3 <= row["optimizer.learning_rate"] <= 3e-2 and row["backbone.depth"] in (1, 2)
    with open(os.path.join(out, results.RESULTS_MD)) as file:
        markdown = file.read()
    assert "| rank | trial | status | score | optimizer.learning_rate | backbone.depth |" in markdown
    with open(os.path.join(out, plot.RESULTS_PNG), "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "| rank |" in printed.err and f"best: trial {result.best['trial']}" in printed.err
    assert printed.out == ""  # stdout is left for the result (the CLI's one JSON line).
    assert result.summary()["finished"] == count and json.loads(json.dumps(result.summary()))["best"] == result.best

    # The best run: a finished run folder of the best trial's hyperparameters and weights.
    best_run = result.best_run
    assert best_run == os.path.join(out, results.BEST_RUN)
    RunFolder(best_run).check_finished()
    for name in (
        "run.json",
        "config.json",
        "model.keras",
        "metrics.json",
        "history.csv",
        "training_curve.png",
    ):
        assert os.path.exists(os.path.join(best_run, name)), name
    config = atomic.read_json(os.path.join(best_run, "config.json"))
    assert config["backbone"]["units"] == 8
    assert config["backbone"]["depth"] == result.best["backbone.depth"]
    assert config["optimizer"]["learning_rate"] == pytest.approx(result.best["optimizer.learning_rate"])
    record = atomic.read_json(os.path.join(best_run, "run.json"))
    assert record["model"] == "gru_uni" and record["sweep"]["trial"] == result.best["trial"]
    assert record["sweep"]["score"] == pytest.approx(result.best["score"])
    metrics = atomic.read_json(os.path.join(best_run, "metrics.json"))
    assert seqzoo.evaluate(best_run, data_dir=data_dir) == pytest.approx(metrics, rel=1e-5)
    # The best trial's weights: the best run scores the trial's validation loss.
    validation = seqzoo.evaluate(best_run, split="validation", data_dir=data_dir)
    assert validation["loss"] == pytest.approx(result.best["score"], rel=1e-4)
    assert cli.main(["evaluate", best_run, "--data-dir", data_dir]) == 0


class Interrupted(BaseException):
    """Stands for a kill: not an `Exception`, so keras-tuner does not catch it."""


class InterruptThirdTrial(keras.callbacks.Callback):
    started = 0  # A class attribute: keras-tuner deep-copies callbacks for each trial.

    def on_train_begin(self, logs=None):
        type(self).started += 1
        if type(self).started == 3:
            raise Interrupted()


def test_interrupted_sweep_resumes_without_repeating_finished_trials(data_dir, tmp_path, capsys):
    """Resumed, it writes the ranked results and the best run of a sweep that ran through."""
    out = str(tmp_path / "sweep")
    with pytest.raises(Interrupted):
        seqzoo.tune(
            "gru_uni",
            TASK,
            max_trials=4,
            epochs=1,
            out=out,
            data_dir=data_dir,
            seed=2,
            verbose=0,
            callbacks=[InterruptThirdTrial()],
            **TINY,
        )
    finished = {name: trials.trial_runs(os.path.join(out, sweep.PROJECT, name)) for name in trial_folders(out)}
    assert [len(runs) for runs in finished.values()] == [
        2,
        2,
        1,
    ]  # Two finished trials, one interrupted.

    capsys.readouterr()
    result = seqzoo.tune(
        "gru_uni",
        TASK,
        max_trials=4,
        epochs=1,
        out=out,
        data_dir=data_dir,
        seed=2,
        verbose=0,
        **TINY,
    )
    assert len(result.rows) == 4 and all(row["status"] == "COMPLETED" for row in result.rows)
    runs = {name: trials.trial_runs(os.path.join(out, sweep.PROJECT, name)) for name in trial_folders(out)}
    starts = {name: sum(run["event"] == "start" for run in records) for name, records in runs.items()}
    assert starts == {
        "trial_0": 1,
        "trial_1": 1,
        "trial_2": 2,
        "trial_3": 1,
    }  # Only the interrupted one again.
    assert runs["trial_0"] == finished["trial_0"] and runs["trial_1"] == finished["trial_1"]
    check_ranked_results_and_the_best_run(result, out, data_dir, capsys.readouterr(), count=4)

    # The chief of a chief/worker sweep resumes a sweep begun in one process (another tuner id).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERASTUNER_TUNER_ID", "chief")
        patch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
        patch.setenv("KERASTUNER_ORACLE_PORT", "1")
        hypermodel = HyperModel("gru_uni", TASK, data_dir=data_dir, **TINY)
        objective = get_objective("val_loss", hypermodel.metric_names())
        chief = tuner_module.make_tuner(SweepSpec.read(out), hypermodel, objective, out, sweep.PROJECT)
        assert sorted(chief.oracle.trials) == ["0", "1", "2", "3"] and not chief.oracle.ongoing_trials

    # A finished sweep run again changes nothing; other settings are refused.
    again = seqzoo.tune(
        "gru_uni",
        TASK,
        max_trials=4,
        epochs=1,
        out=out,
        data_dir=data_dir,
        seed=2,
        verbose=0,
        **TINY,
    )
    assert again.rows == result.rows
    with pytest.raises(ValueError, match="other epochs"):
        seqzoo.tune(
            "gru_uni",
            TASK,
            max_trials=4,
            epochs=2,
            out=out,
            data_dir=data_dir,
            verbose=0,
            **TINY,
        )


@pytest.mark.parametrize(
    "tuner, options",
    [
        ("grid", {"max_trials": None, "search": {"backbone.depth": {"int": [1, 2]}}}),
        (
            "hyperband",
            {
                "max_trials": 2,
                "epochs": 2,
                "search": {"backbone.depth": {"int": [1, 2]}},
            },
        ),
        ("bayesian", {"max_trials": 2, "objective": "val_accuracy", "search": SEARCH}),
    ],
)
def test_other_tuners(tuner, options, data_dir, tmp_path):
    options = {"epochs": 1, **options}
    result = seqzoo.tune(
        "gru_uni",
        TASK,
        tuner=tuner,
        out=str(tmp_path / tuner),
        data_dir=data_dir,
        seed=3,
        verbose=0,
        **{"backbone.units": 8},
        **options,
    )
    assert len(result.rows) == 2 and all(row["rank"] in (1, 2) for row in result.rows)
    if tuner == "grid":
        assert sorted(row["backbone.depth"] for row in result.rows) == [1, 2]
    if tuner == "hyperband":
        assert all("tuner/epochs" in row for row in result.rows)
    if tuner == "bayesian":
        assert result.direction == "max"
        assert result.best["score"] == max(row["val_accuracy"] for row in result.rows)
    assert result.best_run is not None


# -- bad input ------------------------------------------------------------------


def test_bad_input_is_a_clear_value_error(task, tmp_path):
    out = str(tmp_path / "never")
    with pytest.raises(ValueError, match=r"Unknown tuner 'hyperbnd'\. Did you mean 'hyperband'"):
        seqzoo.tune("gru_uni", TASK, tuner="hyperbnd", out=out)
    with pytest.raises(
        ValueError,
        match=r"Unknown search key .*'backbone\.unit'.*Did you mean 'backbone\.units'",
    ):
        HyperModel("gru_uni", task, search={"backbone.unit": {"choice": [8, 16]}})
    with pytest.raises(
        ValueError,
        match=r"search\.backbone\.depth int range must be \[low, high\] with low < high",
    ):
        HyperModel("gru_uni", task, search={"backbone.depth": {"int": [2, 2]}})
    with pytest.raises(ValueError, match=r"choice must be a non-empty list"):
        HyperModel("gru_uni", task, search={"backbone.units": {"choice": []}})
    with pytest.raises(
        ValueError,
        match=r"value 128 \(the default\) is not among the choices \[8, 16\]",
    ):
        HyperModel("gru_uni", task, search={"backbone.units": {"choice": [8, 16]}})
    with pytest.raises(ValueError, match=r"outside the range \[2, 4\]"):
        HyperModel("gru_uni", task, search={"backbone.depth": {"int": [2, 4]}})
    with pytest.raises(
        ValueError,
        match=r"Unknown objective .*'val_acuracy'.*Did you mean 'val_accuracy'",
    ):
        seqzoo.tune("gru_uni", task, objective="val_acuracy", out=out, **TINY)
    with pytest.raises(ValueError, match=r"no callbacks"):
        seqzoo.tune(
            "gru_uni",
            TASK,
            workers=2,
            callbacks=[keras.callbacks.TerminateOnNaN()],
            out=out,
            **TINY,
        )
    bad_settings = [
        ({"max_trials": 0}, r"max_trials=0; expected a whole number >= 1"),
        ({"epochs": 0}, r"epochs=0; expected a whole number >= 1"),
        ({"batch_size": 0}, r"batch_size=0; expected a whole number >= 1"),
        (
            {"executions_per_trial": 0},
            r"executions_per_trial=0; expected a whole number >= 1",
        ),
        ({"epochs": 1.5}, r"epochs=1\.5; expected a whole number >= 1"),
        ({"workers": -1}, r"workers=-1; expected 0 \(run here\) or more"),
        ({"worker_timeout": 0}, r"worker_timeout=0; expected a number of seconds > 0"),
        # Random and Bayesian search never end by themselves (it ran 167 trials in 12 minutes).
        (
            {"max_trials": None},
            r"max_trials=None .*tuner='random', which never ends by itself",
        ),
        (
            {"max_trials": None, "tuner": "bayesian"},
            r"tuner='bayesian', which never ends by itself",
        ),
    ]
    for settings, message in bad_settings:
        with pytest.raises(ValueError, match=message):
            seqzoo.tune("gru_uni", TASK, out=out, **{**TINY, **settings})
    assert not os.path.exists(out)  # Checked before anything was written.
