"""Hyperparameter sweeps: the HyperModel's defaults, sweeps, their results, resuming, bad input."""

import csv
import json
import math
import os

import keras
import keras_tuner
import pytest

import seqzoo
from seqzoo import cli
from seqzoo import run_folder as rf
from seqzoo import tuning

TASK = "japanese_vowels"
SEARCH = {
    "optimizer.learning_rate": {"float": [1.0e-3, 3.0e-2], "sampling": "log"},
    "backbone.depth": {"int": [1, 2]},
}
TINY = {"backbone.units": 8, "search": SEARCH}


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("tfds"))
    seqzoo.load_task(TASK, data_dir=path).raw("train")  # Generates the dataset (from sktime) once.
    return path


@pytest.fixture(scope="session")
def task(data_dir):
    return seqzoo.load_task(TASK, data_dir=data_dir)


def trial_folders(out):
    project = os.path.join(out, tuning.PROJECT)
    return sorted(name for name in os.listdir(project) if name.startswith("trial_"))


# -- the HyperModel -------------------------------------------------------------


def test_default_hyperparameters_build_the_named_model(task):
    hypermodel = tuning.HyperModel("lstm_bi_deep", task)
    model = hypermodel.build(keras_tuner.HyperParameters())
    named = seqzoo.build("lstm_bi_deep", task=task)
    assert model.seqzoo_config == named.seqzoo_config
    assert model.count_params() == named.count_params()
    assert set(hypermodel.space) == set(named.seqzoo_config["search"])


def test_fixed_values_and_overrides_of_searched_keys_are_honoured(task):
    hp = keras_tuner.HyperParameters()
    hp.Fixed("backbone.units", 64)
    hypermodel = tuning.HyperModel("lstm_bi_deep", task)
    config = hypermodel.config(hp)
    assert config["backbone"]["units"] == 64
    assert config["backbone"]["depth"] == 3 and config["optimizer"]["learning_rate"] == 1e-3  # Defaults.
    assert config == seqzoo.get_config("lstm_bi_deep", task, **{"backbone.units": 64})

    # An override of a searched key fixes it: recorded as Fixed, not searched.
    fixed = tuning.HyperModel("lstm_bi_deep", task, **{"backbone.units": 16, "backbone": {"depth": 2}})
    assert "backbone.units" not in fixed.space and "backbone.depth" not in fixed.space
    space = keras_tuner.HyperParameters()
    fixed.declare_hyperparameters(space)
    kinds = {hp.name: type(hp).__name__ for hp in space.space}
    assert kinds["backbone.units"] == "Fixed" and kinds["backbone.depth"] == "Fixed"
    assert kinds["backbone.dropout"] == "Float"
    assert fixed.build(space).count_params() == seqzoo.build(
        "lstm_bi_deep", task=task, **{"backbone.units": 16, "backbone.depth": 2}
    ).count_params()


def test_every_named_config_is_the_default_point_of_its_search_space():
    for name in seqzoo.list_models():
        hypermodel = tuning.HyperModel(name)
        values = hypermodel.declare_hyperparameters(keras_tuner.HyperParameters())
        config = seqzoo.get_config(name)
        assert hypermodel.resolved_config(values) == config, name
        assert set(values) == set(config["search"]), name


def test_grid_values_cover_a_choice_and_an_int_range(task):
    hypermodel = tuning.HyperModel("gru_uni", task, **{"search": {"backbone.units": {"choice": [4, 8]}, "backbone.depth": {"int": [1, 3], "step": 2}}, "backbone.units": 8})
    assert set(hypermodel.space) == {"backbone.depth"} and hypermodel.fixed == {"backbone.units": 8}
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    depth = next(h for h in hp.space if h.name == "backbone.depth")
    assert list(depth.values) == [1, 3]


# -- sweeps ---------------------------------------------------------------------


def test_random_sweep_writes_ranked_results_and_the_best_run(data_dir, tmp_path, capsys):
    out = str(tmp_path / "sweep")
    result = seqzoo.tune("gru_uni", TASK, tuner="random", max_trials=3, epochs=1, out=out, data_dir=data_dir, seed=1, verbose=0, **TINY)

    # The table: one row per trial, finite scores, best (smallest val_loss) first.
    assert len(result.rows) == 3 == len(trial_folders(out))
    with open(os.path.join(out, tuning.RESULTS_CSV)) as file:
        assert len(list(csv.DictReader(file))) == 3
    scores = [row["score"] for row in result.rows]
    assert all(math.isfinite(score) for score in scores)
    assert [row["rank"] for row in result.rows] == [1, 2, 3]
    assert result.best["score"] == min(row["val_loss"] for row in result.rows) == scores[0]
    assert all(row["status"] == "COMPLETED" and row["tuner"] == "tuner0" for row in result.rows)
    for row in result.rows:
        assert 1e-3 <= row["optimizer.learning_rate"] <= 3e-2 and row["backbone.depth"] in (1, 2)
    with open(os.path.join(out, tuning.RESULTS_MD)) as file:
        markdown = file.read()
    assert "| rank | trial | status | score | optimizer.learning_rate | backbone.depth |" in markdown
    with open(os.path.join(out, tuning.RESULTS_PNG), "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "| rank |" in printed and f"best: trial {result.best['trial']}" in printed

    # The best run: a finished run folder of the best trial's hyperparameters and weights.
    best_run = result.best_run
    assert best_run == os.path.join(out, tuning.BEST_RUN)
    rf.check_complete(best_run)
    for name in (rf.CONFIG, rf.TASK, rf.MODEL, rf.METRICS, rf.HISTORY, rf.CURVE, "vocabulary_inputs.json"):
        if name.startswith("vocabulary_"):
            continue  # japanese_vowels has dense features, so no vocabulary.
        assert os.path.exists(os.path.join(best_run, name)), name
    config = rf.read_json(os.path.join(best_run, rf.CONFIG))
    assert config["backbone"]["units"] == 8
    assert config["backbone"]["depth"] == result.best["backbone.depth"]
    assert config["optimizer"]["learning_rate"] == pytest.approx(result.best["optimizer.learning_rate"])
    assert rf.read_json(os.path.join(best_run, rf.TASK))["model"] == "gru_uni"
    assert rf.read_json(os.path.join(best_run, tuning.BEST_RUN_RECORD))["trial"] == result.best["trial"]
    metrics = rf.read_json(os.path.join(best_run, rf.METRICS))
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


def test_interrupted_sweep_resumes_without_repeating_finished_trials(data_dir, tmp_path):
    out = str(tmp_path / "sweep")
    with pytest.raises(Interrupted):
        seqzoo.tune("gru_uni", TASK, max_trials=4, epochs=1, out=out, data_dir=data_dir, seed=2, verbose=0,
                    callbacks=[InterruptThirdTrial()], **TINY)
    finished = {name: tuning.trial_runs(os.path.join(out, tuning.PROJECT, name)) for name in trial_folders(out)}
    assert [len(runs) for runs in finished.values()] == [2, 2, 1]  # Two finished trials, one interrupted.

    result = seqzoo.tune("gru_uni", TASK, max_trials=4, epochs=1, out=out, data_dir=data_dir, seed=2, verbose=0, **TINY)
    assert len(result.rows) == 4 and all(row["status"] == "COMPLETED" for row in result.rows)
    runs = {name: tuning.trial_runs(os.path.join(out, tuning.PROJECT, name)) for name in trial_folders(out)}
    starts = {name: sum(run["event"] == "start" for run in records) for name, records in runs.items()}
    assert starts == {"trial_0": 1, "trial_1": 1, "trial_2": 2, "trial_3": 1}  # Only the interrupted one again.
    assert runs["trial_0"] == finished["trial_0"] and runs["trial_1"] == finished["trial_1"]

    # The chief of a chief/worker sweep resumes a sweep begun in one process (another tuner id).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERASTUNER_TUNER_ID", "chief")
        patch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
        patch.setenv("KERASTUNER_ORACLE_PORT", "1")
        hypermodel = tuning.HyperModel("gru_uni", TASK, data_dir=data_dir, **TINY)
        objective = tuning.get_objective("val_loss", hypermodel.metric_names())
        chief = tuning._make_tuner("random", hypermodel, objective, 4, 1, 2, None, 1, False, out, 60.0)
        assert sorted(chief.oracle.trials) == ["0", "1", "2", "3"] and not chief.oracle.ongoing_trials

    # A finished sweep run again changes nothing; other settings are refused.
    again = seqzoo.tune("gru_uni", TASK, max_trials=4, epochs=1, out=out, data_dir=data_dir, seed=2, verbose=0, **TINY)
    assert again.rows == result.rows
    with pytest.raises(ValueError, match="other epochs"):
        seqzoo.tune("gru_uni", TASK, max_trials=4, epochs=2, out=out, data_dir=data_dir, verbose=0, **TINY)


@pytest.mark.parametrize(
    "tuner, options",
    [
        ("grid", {"max_trials": None, "search": {"backbone.depth": {"int": [1, 2]}}}),
        ("hyperband", {"max_trials": 2, "epochs": 2, "search": {"backbone.depth": {"int": [1, 2]}}}),
        ("bayesian", {"max_trials": 2, "objective": "val_accuracy", "search": SEARCH}),
    ],
)
def test_other_tuners(tuner, options, data_dir, tmp_path):
    options = {"epochs": 1, **options}
    result = seqzoo.tune("gru_uni", TASK, tuner=tuner, out=str(tmp_path / tuner), data_dir=data_dir, seed=3,
                         verbose=0, **{"backbone.units": 8}, **options)
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
    with pytest.raises(ValueError, match=r"Unknown search key .*'backbone\.unit'.*Did you mean 'backbone\.units'"):
        tuning.HyperModel("gru_uni", task, search={"backbone.unit": {"choice": [8, 16]}})
    with pytest.raises(ValueError, match=r"search\.backbone\.depth int range must be \[low, high\] with low < high"):
        tuning.HyperModel("gru_uni", task, search={"backbone.depth": {"int": [2, 2]}})
    with pytest.raises(ValueError, match=r"choice must be a non-empty list"):
        tuning.HyperModel("gru_uni", task, search={"backbone.units": {"choice": []}})
    with pytest.raises(ValueError, match=r"value 128 \(the default\) is not among the choices \[8, 16\]"):
        tuning.HyperModel("gru_uni", task, search={"backbone.units": {"choice": [8, 16]}})
    with pytest.raises(ValueError, match=r"outside the range \[2, 4\]"):
        tuning.HyperModel("gru_uni", task, search={"backbone.depth": {"int": [2, 4]}})
    with pytest.raises(ValueError, match=r"Unknown objective .*'val_acuracy'.*Did you mean 'val_accuracy'"):
        seqzoo.tune("gru_uni", task, objective="val_acuracy", out=out, **TINY)
    with pytest.raises(ValueError, match=r"expected a whole number >= 1"):
        seqzoo.tune("gru_uni", TASK, max_trials=0, out=out)
    with pytest.raises(ValueError, match=r"no callbacks"):
        seqzoo.tune("gru_uni", TASK, workers=2, callbacks=[keras.callbacks.TerminateOnNaN()], out=out, **TINY)
    assert not os.path.exists(os.path.join(out, tuning.PROJECT))
    assert cli.main(["tune", "gru_uni", "--task", TASK, "--tuner", "hyperbnd"]) == 2


def test_cli_tune_documents_the_distributed_settings(capsys):
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["tune", "--help"])
    text = capsys.readouterr().out
    for setting in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "--workers", "--oracle-ip", "no authentication", "127.0.0.1"):
        assert setting in text
    args = cli.parser().parse_args(["tune", "gru_uni", "--task", TASK, "--tuner", "hyperband", "--max-trials", "4", "--epochs", "2", "--out", "x"])
    assert (args.tuner, args.max_trials, args.epochs, args.out, args.oracle_ip) == ("hyperband", 4, 2, "x", "127.0.0.1")
    assert json.dumps(args.set) == "[]"
