"""The `seqzoo` command: results on stdout, one-line errors, checks before anything is written, a quiet fast start."""

import contextlib
import io
import json
import os
import subprocess
import sys

import pytest
import tensorflow_datasets as tfds

from seqzoo.cli import main
from seqzoo.runs import RunFolder
from seqzoo.tasks.catalog import OFFLINE_TASKS
from seqzoo.tasks.catalog import TASKS


# The tests that read it share one test process (`pytest -n 2 --dist loadgroup`), so it trains once.
@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, data_dir):
    """`seqzoo train` of a tiny GRU on japanese_vowels: (exit code, stdout, stderr, run folder)."""
    out = str(tmp_path_factory.mktemp("cli") / "run")
    stdout, stderr = io.StringIO(), io.StringIO()  # capsys is function-scoped: capture by hand.
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(
            [
                "train",
                "gru_uni",
                "--task",
                "japanese_vowels",
                "--epochs",
                "1",
                "--batch-size",
                "64",
                "--out",
                out,
                "--set",
                "backbone.units=8",
                "--set",
                "optimizer.learning_rate=5e-3",
                "--data-dir",
                data_dir,
            ]
        )
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
    names = [line.split()[0] for line in lines]
    assert names[: len(OFFLINE_TASKS)] == list(OFFLINE_TASKS)
    assert set(TASKS) <= set(names)
    for line in lines:
        name = line.split()[0]
        if name in TASKS:
            assert TASKS[name][1]["description"] in line
            assert ("offline" if name in OFFLINE_TASKS else "download") in line


@pytest.mark.xdist_group("cli_run")
def test_train_prints_one_json_line_of_metrics(cli_run):
    code, stdout, stderr, out = cli_run
    assert code == 0, stderr
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, stdout  # Machine-readable: only the result on stdout.
    run = RunFolder(out)
    assert json.loads(lines[0]) == {"run": out, **run.metrics()}
    assert run.config["backbone"]["units"] == 8  # --set values are read as YAML: an int,
    assert run.config["optimizer"]["learning_rate"] == 0.005  # and 5e-3 a float, as a user writes it.


@pytest.mark.xdist_group("cli_run")
def test_evaluate_prints_the_same_metrics(cli_run, capsys):
    _, stdout, _, out = cli_run
    trained = json.loads(stdout.strip().splitlines()[-1])
    assert main(["evaluate", out]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    evaluated = json.loads(lines[0])
    assert set(evaluated) == set(trained) == {"run", "loss", "accuracy"}
    for key in ("loss", "accuracy"):
        assert evaluated[key] == pytest.approx(trained[key], rel=1e-5)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--epochs", "0"], "argument --epochs: expected an integer >= 1, received 0"),
        (["--batch-size", "0"], "argument --batch-size: expected an integer >= 1, received 0"),
        (["--batch-size", "many"], "argument --batch-size: expected an integer >= 1, received 'many'"),
        (["--set", "backbone.units"], "expected KEY=VALUE, e.g. backbone.units=64; received 'backbone.units'"),
        (["--set", "backbone.units=8", "--set", "backbone.units=9"], "backbone.units is given twice"),
        (["--freeze-backbone"], "freeze_backbone=True without from_run"),
        (["--partial"], "partial=True without from_run"),
        (["--from", "nowhere"], "'nowhere' does not exist"),
        (["--set", "backbone.unitz=8"], "Did you mean 'backbone.units'"),
        (["--task-option", "max_lenght=3"], "max_lenght"),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(capsys, tmp_path, data_dir, arguments, message):
    out = tmp_path / "run"
    command = ["train", "gru_uni", "--task", "japanese_vowels", "--out", str(out), "--data-dir", data_dir]
    assert main(command + arguments) == 2
    assert message in one_error_line(capsys, "train")
    assert not out.exists()


def test_train_with_no_model_needs_from(capsys, tmp_path, data_dir):
    out = tmp_path / "run"
    assert main(["train", "--task", "japanese_vowels", "--out", str(out), "--data-dir", data_dir]) == 2
    assert "no model and no from_run" in one_error_line(capsys, "train")
    assert not out.exists()


def test_a_data_dir_that_is_a_file_is_one_line(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    assert (
        main(
            ["train", "gru_uni", "--task", "dates", "--data-dir", str(tmp_path / "file"), "--out", str(tmp_path / "r")]
        )
        == 2
    )
    assert "which is a file" in one_error_line(capsys, "train")
    assert not (tmp_path / "r").exists()


def test_unknown_model_is_one_line_naming_the_closest(capsys, tmp_path, data_dir):
    code = main(
        ["train", "gru_unii", "--task", "japanese_vowels", "--out", str(tmp_path / "run"), "--data-dir", data_dir]
    )
    assert code == 2
    line = one_error_line(capsys, "train")
    assert "Unknown model 'gru_unii'" in line and "Did you mean 'gru_uni'" in line


def test_unknown_task_is_one_line_naming_the_closest(capsys, tmp_path):
    assert main(["train", "gru_uni", "--task", "date", "--out", str(tmp_path / "run")]) == 2
    assert "Did you mean 'dates'" in one_error_line(capsys, "train")
    assert not (tmp_path / "run").exists()


def test_evaluate_a_folder_that_is_no_run(capsys, tmp_path):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "is not a seqzoo run folder: it has no run.json" in one_error_line(capsys, "evaluate")


def test_no_network_is_one_line_naming_the_offline_tasks(capsys, tmp_path, monkeypatch):
    def no_network(builder, *args, **kwargs):
        raise ConnectionError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_network)
    assert main(["train", "gru_uni", "--task", "imdb_reviews", "--out", str(tmp_path / "run")]) == 2
    line = one_error_line(capsys, "train")
    assert "'imdb_reviews'" in line and "data_dir=None" in line
    assert all(name in line for name in OFFLINE_TASKS)


LOADED = (
    "import sys; from seqzoo.cli import main; code = main(sys.argv[1:]); "
    "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules), file=sys.stderr); sys.exit(code)"
)


@pytest.mark.parametrize(
    "arguments, code",
    [
        (["--help"], 0),
        (["--version"], 0),
        (["train", "--help"], 0),
        (["train", "gru_unii", "--task", "dates"], 2),
        (["train", "gru_uni", "--task", "dates", "--epochs", "0"], 2),
        (["bogus"], 2),
        (["generate", "preset:nmaes"], 2),
        (["predict", "preset:nmaes", "fun"], 2),
        (["score", "preset:names"], 2),
        (["presets"], 0),
    ],
)
def test_help_and_argument_errors_never_load_tensorflow(arguments, code):
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-c", LOADED, *arguments], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == code, result.stderr
    *messages, loaded = result.stderr.strip().splitlines()
    assert loaded == "[]"
    assert len(messages) == (0 if code == 0 else 1), result.stderr  # Nothing else on stderr, no C++ log.


def test_version():
    result = subprocess.run([sys.executable, "-m", "seqzoo", "--version"], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().startswith("seqzoo ") and result.stdout.split()[1][0].isdigit()


@pytest.mark.xdist_group("cli_run")
def test_a_command_that_loads_tensorflow_prints_no_cpp_log(cli_run):
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-m", "seqzoo", "evaluate", cli_run[3]], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["run"] == cli_run[3]


def test_your_own_yaml_and_csv_train_through_the_command_line(tmp_path, capsys):
    config = tmp_path / "tiny_gru.yaml"
    config.write_text(
        "description: A tiny GRU over words.\ninputs: {type: tokens, vocab_size: 100, embedding_dim: 8}\n"
        "outputs: {type: binary}\nbackbone: {cell: gru, units: 8}\noptimizer: {learning_rate: 1e-2}\n"
    )
    rows = ["text,label"] + [
        f"a {'good' if i % 2 else 'bad'} film number {i},{'pos' if i % 2 else 'neg'}" for i in range(60)
    ]
    data = tmp_path / "reviews.csv"
    data.write_text("\n".join(rows) + "\n")
    assert main(["show", str(config)]) == 0
    assert "units: 8" in capsys.readouterr().out
    out = str(tmp_path / "run")
    assert main(["train", str(config), "--task", f"csv:{data}", "--epochs", "3", "--out", out, "--seed", "1"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    run = RunFolder(out)
    assert run.record["model"] == str(config) and run.record["task"] == f"csv:{data}" and run.record["seed"] == 1
    assert run.config["optimizer"]["learning_rate"] == 0.01
    assert run.config["outputs"] == {"type": "classes", "size": 2}  # Fitted to the task's two classes.
    assert printed["accuracy"] == run.metrics()["accuracy"]


def test_tune_arguments_are_checked_before_anything_is_written(capsys, tmp_path):
    out = tmp_path / "sweep"
    assert main(["tune", "gru_uni", "--task", "japanese_vowels", "--tuner", "hyperbnd", "--out", str(out)]) == 2
    assert "Unknown tuner 'hyperbnd'. Did you mean 'hyperband'" in one_error_line(capsys, "tune")
    assert main(["tune", "gru_uni", "--task", "japanese_vowels", "--max-trials", "0", "--out", str(out)]) == 2
    assert "random" in one_error_line(capsys, "tune")  # Random search never ends by itself.
    assert not out.exists()


def test_tune_help_says_how_to_add_workers(capsys):
    assert main(["tune", "--help"]) == 0
    text = capsys.readouterr().out
    for name in (
        "KERASTUNER_TUNER_ID",
        "KERASTUNER_ORACLE_IP",
        "KERASTUNER_ORACLE_PORT",
        "python -m seqzoo.tuning OUT",
    ):
        assert name in text


def test_help_opens_with_what_seqzoo_does(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    description = text.split("\n\n")[1]
    assert description.startswith("A zoo of recurrent sequence models for Keras 3")
    assert "argument parser" not in text


# -- never overwrite ------------------------------------------------------------------------


def test_export_refuses_a_file_and_a_folder_of_other_files_before_loading(capsys, tmp_path):
    """Even with --overwrite: a folder that is not a SavedModel keeps its files, and nothing is written beside."""
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "saved_model.pb").write_text("not mine to lose")
    (tmp_path / "folder" / "readme.md").write_text("mine")
    cases = [
        (["--out", str(tmp_path / "notes.txt")], "which is a file; give a folder for the SavedModel"),
        (["--out", str(tmp_path / "folder")], "holds other files than a SavedModel (readme.md)"),
        (["--out", str(tmp_path / "folder"), "--overwrite"], "overwrite replaces only a SavedModel"),
    ]
    for arguments, message in cases:
        assert main(["export", "preset:names", *arguments]) == 2
        assert message in one_error_line(capsys, "export")
    assert sorted(os.listdir(tmp_path)) == ["folder", "notes.txt"]
    assert sorted(os.listdir(tmp_path / "folder")) == ["readme.md", "saved_model.pb"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_generate_out_a_folder_or_in_a_missing_folder_is_one_line(capsys, tmp_path):
    assert main(["generate", "preset:names", "--out", str(tmp_path)]) == 2
    assert f"Cannot write {str(tmp_path)!r}: it is a folder" in one_error_line(capsys, "generate")
    missing = str(tmp_path / "missing" / "names.txt")
    assert main(["generate", "preset:names", "--out", missing]) == 2
    line = one_error_line(capsys, "generate")
    assert f"Cannot write {missing!r}: the folder {str(tmp_path / 'missing')!r} does not exist" in line
    assert ".tmp" not in line and os.listdir(tmp_path) == []
