"""What the command line answers before TensorFlow loads: listings, argument errors, a locked folder."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import yaml

from seqzoo.registry.index import read_index
from seqzoo.registry.sources import list_models
from seqzoo.runs.lock import FolderLock
from seqzoo.runs.lock import FolderLockedError
from seqzoo.tasks import catalog

# Runs `seqzoo ARGS...`, then prints the heavy frameworks it imported as the last line of stdout.
RUN_CLI = textwrap.dedent(
    """
    import json, sys
    import seqzoo.cli
    code = seqzoo.cli.main(sys.argv[1:])
    print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & {"tensorflow", "keras", "jax", "torch"})))
    sys.exit(code)
    """
)


def seqzoo_cli(env, *arguments):
    """`(exit code, stdout lines without the last, stderr, the frameworks imported)`."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_CLI, *arguments], env=env, capture_output=True, text=True, timeout=120
    )
    *lines, imported = done.stdout.strip().splitlines()
    return done.returncode, lines, done.stderr, json.loads(imported)


def test_tasks_lists_the_catalog_without_tensorflow(subprocess_env):
    code, lines, _, imported = seqzoo_cli(subprocess_env, "tasks")
    assert code == 0 and imported == []
    assert [line.split()[0] for line in lines[: len(catalog.OFFLINE_TASKS)]] == list(catalog.OFFLINE_TASKS)
    assert "japanese_vowels              many_to_one      offline" in lines[0]


OUT = "{out}"  # Replaced by a path in the test's folder, which must not be created.
MISSING_RUN = "Run folder '/no/such/run' does not exist."


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "gru_bi", "--task", "namez", "--out", OUT], "Unknown task 'namez'. Did you mean 'names'?"),
        (["tune", "gru_bi", "--task", "japanese_vowel", "--out", OUT], "Did you mean 'japanese_vowels'?"),
        (["train", "gru_bi", "--task", "csv:/no/such/texts.csv", "--out", OUT], "no such file '/no/such/texts.csv'"),
        (["train", "gru_bj", "--task", "names", "--out", OUT], "Unknown model 'gru_bj'"),
        (
            ["train", "gru_bi", "--task", "names", "--set", "backbone.unitz=8", "--out", OUT],
            "Unknown override 'backbone.unitz'. Did you mean 'backbone.units'",
        ),
        (
            ["train", "gru_bi", "--task", "names", "--set", "backbone.units=abc", "--out", OUT],
            "Received backbone.units='abc'; expected int.",
        ),
        (["generate", "preset:namez", "--out", OUT], "Unknown preset 'namez'. Did you mean 'names'?"),
        (["generate", "/no/such/run", "--out", OUT], MISSING_RUN),
        (
            ["generate", "preset:names", "--top-p", "2", "--out", OUT],
            "Received top_p=2.0; it must be a number in (0, 1]",
        ),
        (
            ["generate", "preset:names", "--beam", "3", "--temperature", "0.5", "--out", OUT],
            "beam search does not sample",
        ),
        (["predict", "/no/such/run", "a text", "--out", OUT], MISSING_RUN),
        (["predict", "preset:japanese_vowels", "--out", OUT], "give the inputs to predict for: INPUT ... or --input"),
        (["score", "/no/such/run", "a text"], MISSING_RUN),
        (["evaluate", "/no/such/run"], MISSING_RUN),
        (["export", "/no/such/run", "--out", OUT], MISSING_RUN),
        (["show", "/no/such/run"], MISSING_RUN),
        (["train", "--task", "names", "--from", "/no/such/run", "--out", OUT], MISSING_RUN),
    ],
)
def test_a_wrong_argument_is_refused_before_tensorflow_loads(subprocess_env, arguments, message, tmp_path):
    out = str(tmp_path / "run")
    code, _, stderr, imported = seqzoo_cli(
        subprocess_env, *[out if argument == OUT else argument for argument in arguments]
    )
    assert code == 2 and imported == [] and message in stderr and len(stderr.strip().splitlines()) == 1
    assert not os.path.exists(out)


def test_a_malformed_yaml_model_is_refused_before_tensorflow_loads(subprocess_env, tmp_path):
    config, out = tmp_path / "mine.yaml", tmp_path / "run"
    config.write_text("backbone: [1\n")
    code, _, stderr, imported = seqzoo_cli(subprocess_env, "train", str(config), "--task", "names", "--out", str(out))
    assert code == 2 and imported == [] and "mine.yaml: not valid YAML" in stderr and len(stderr.splitlines()) == 1
    assert not out.exists()


def test_list_and_show_answer_from_the_index_without_tensorflow(subprocess_env):
    models = read_index()["models"]  # Equal to the live resolution and to count_params(): tests/test_zoo.py.
    code, lines, _, imported = seqzoo_cli(subprocess_env, "list")
    assert code == 0 and imported == []
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == list_models()
    assert {row[0]: int(row[-1].replace(",", "")) for row in rows} == {
        name: entry["parameters"] for name, entry in models.items()
    }
    code, lines, stderr, imported = seqzoo_cli(subprocess_env, "show", "gru_bi")
    assert code == 0 and imported == []
    assert yaml.safe_load("\n".join(lines)) == models["gru_bi"]["config"]
    assert f"gru_bi: {models['gru_bi']['parameters']:,} parameters" in stderr


def test_the_catalog_names_every_task_class_by_its_topology():
    from seqzoo.tasks.factory import KINDS

    assert {name: kind.topology for name, kind in KINDS.items()} == catalog.TOPOLOGIES
    assert {kind for kind, _ in catalog.TASKS.values()} <= set(KINDS)


@pytest.mark.parametrize("command", ["train", "tune"])
def test_a_folder_another_process_holds_is_refused_before_tensorflow_loads(subprocess_env, tmp_path, command):
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from seqzoo.runs.lock import FolderLock; FolderLock(sys.argv[1]).acquire(); "
            "print('held', flush=True); time.sleep(120)",
            str(out),
        ],
        env=subprocess_env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, stderr, imported = seqzoo_cli(
            subprocess_env, command, "gru_bi", "--task", "japanese_vowels", "--out", str(out)
        )
    finally:
        holder.kill()
        holder.wait()
    assert code == 2 and imported == []
    assert f"is in use by process {holder.pid}" in stderr and len(stderr.strip().splitlines()) == 1
    assert os.listdir(out) == [".lock"]  # The holder's lock file; nothing of the refused command's.


def test_the_holder_may_lock_its_folder_again_and_keeps_it(tmp_path, subprocess_env):
    probe = [
        sys.executable,
        "-c",
        "import sys; from seqzoo.runs.lock import FolderLock; FolderLock(sys.argv[1]).acquire()",
        str(tmp_path),
    ]
    with FolderLock(str(tmp_path)):
        with FolderLock(str(tmp_path)):  # Nested, as `train` inside the command line's lock.
            pass
        refused = subprocess.run(probe, env=subprocess_env, capture_output=True, text=True)
        assert refused.returncode == 1 and FolderLockedError.__name__ in refused.stderr  # Still held.
    assert subprocess.run(probe, env=subprocess_env).returncode == 0  # Released by the outer lock.
