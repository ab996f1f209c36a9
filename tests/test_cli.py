"""The `seqzoo` command: tasks, train, evaluate, and one-line errors for a user's mistakes."""

import contextlib
import io
import json
import os

import pytest
import tensorflow_datasets as tfds

from seqzoo.cli import main
from seqzoo.tasks.catalog import OFFLINE_TASKS
from seqzoo.tasks.catalog import TASKS


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """One TFDS folder for the whole session, so each dataset is generated once."""
    path = tmp_path_factory.getbasetemp() / "seqzoo_tfds"
    path.mkdir(exist_ok=True)
    return str(path)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, data_dir):
    """`seqzoo train` of a tiny GRU on japanese_vowels: (exit code, stdout, stderr, run folder)."""
    out = str(tmp_path_factory.mktemp("cli") / "run")
    # capsys is function-scoped: capture by hand for the module's one training run.
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([
            "train", "gru_uni", "--task", "japanese_vowels", "--epochs", "1", "--batch-size", "64",
            "--out", out, "--set", "backbone.units=8", "--data-dir", data_dir,
        ])
    return code, stdout.getvalue(), stderr.getvalue(), out


def one_error_line(capsys, command):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"seqzoo {command}: error: ")
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def test_tasks_lists_every_task_offline_first(capsys):
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(TASKS)
    names = [line.split()[0] for line in lines]
    assert names[: len(OFFLINE_TASKS)] == list(OFFLINE_TASKS)
    for line in lines:
        name, topology, where = line.split()[:3]
        assert topology == TASKS[name][0].topology
        assert where == ("offline" if name in OFFLINE_TASKS else "download")
        assert TASKS[name][1]["description"] in line
    assert "japanese_vowels" in lines[0] and "many_to_one" in lines[0]


def test_train_prints_one_json_line_of_metrics(cli_run):
    code, stdout, stderr, out = cli_run
    assert code == 0, stderr
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, stdout  # machine-readable: only the result on stdout
    printed = json.loads(lines[0])
    with open(os.path.join(out, "metrics.json")) as file:
        metrics = json.load(file)
    assert printed == {"run": out, **metrics}
    assert set(metrics) == {"loss", "accuracy"}
    with open(os.path.join(out, "config.json")) as file:
        assert json.load(file)["backbone"]["units"] == 8  # --set backbone.units=8, read as YAML: an int


def test_evaluate_prints_the_same_metrics(cli_run, capsys):
    _, stdout, _, out = cli_run
    trained = json.loads(stdout.strip().splitlines()[-1])
    assert main(["evaluate", out]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    evaluated = json.loads(lines[0])
    assert set(evaluated) == set(trained) == {"run", "loss", "accuracy"}
    # japanese_vowels is many-to-one (no padding in the targets): batching does not change the numbers.
    for key in ("loss", "accuracy"):
        assert evaluated[key] == pytest.approx(trained[key], rel=1e-5)


def test_unknown_model_is_one_line_naming_the_closest(capsys, tmp_path, data_dir):
    code = main(["train", "gru_unii", "--task", "japanese_vowels", "--out", str(tmp_path / "run"), "--data-dir", data_dir])
    assert code == 2
    line = one_error_line(capsys, "train")
    assert "Unknown model 'gru_unii'" in line and "Did you mean 'gru_uni'" in line


def test_unknown_task_is_one_line_naming_the_closest(capsys, tmp_path):
    assert main(["train", "gru_uni", "--task", "date", "--out", str(tmp_path / "run")]) == 2
    assert "Did you mean 'dates'" in one_error_line(capsys, "train")


def test_bad_set_is_one_line(capsys, tmp_path):
    assert main(["train", "gru_uni", "--task", "dates", "--set", "backbone.units", "--out", str(tmp_path / "run")]) == 2
    assert "expected KEY=VALUE" in one_error_line(capsys, "train")


def test_evaluate_a_folder_that_is_no_run(capsys, tmp_path):
    assert main(["evaluate", str(tmp_path)]) == 2
    line = one_error_line(capsys, "evaluate")
    assert "not a finished seqzoo run folder" in line and "missing config.json" in line


def test_generic_task_without_options_is_one_line(capsys, tmp_path):
    assert main(["train", "gru_uni", "--task", "tfds:imdb_reviews", "--out", str(tmp_path / "run")]) == 2
    assert "topology" in one_error_line(capsys, "train")


def test_no_network_is_one_line_naming_the_offline_tasks(capsys, tmp_path, monkeypatch):
    def no_network(name, *args, **kwargs):
        raise ConnectionError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(tfds, "load", no_network)
    assert main(["train", "gru_uni", "--task", "imdb_reviews", "--out", str(tmp_path / "run")]) == 2
    line = one_error_line(capsys, "train")
    assert "'imdb_reviews'" in line and "data_dir=None" in line
    assert all(name in line for name in OFFLINE_TASKS)
