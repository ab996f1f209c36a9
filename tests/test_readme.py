"""The README as a user reads it: every Python block runs as written, and its CLI table is the parser's."""

import argparse
import os
import re

import pytest
import tensorflow_datasets as tfds

import seqzoo
from seqzoo.cli import parser as cli_parser
from seqzoo.runs import RunFolder

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
FLAG = re.compile(r"--[a-z][a-z0-9-]*")
# The README's fine-tune of `preset:names` ends one epoch this close to the preset's own bits per token.
FINE_TUNE_TOLERANCE = 0.05


def readme():
    with open(README, encoding="utf-8") as file:
        return file.read()


@pytest.fixture(scope="module")
def blocks_run(tmp_path_factory, data_dir):
    """Every Python block of the README, run as written in an empty folder; their namespaces, in order.

    The blocks use TFDS's default data folder; here it is the session's, so
    each dataset is generated once (TFDS reads `TFDS_DATA_DIR` when it is
    imported, so the default is set on the module that holds it).
    """
    folder = tmp_path_factory.mktemp("readme")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setattr(tfds.core.constants, "DATA_DIR", data_dir)
        namespaces = []
        for index, code in enumerate(BLOCK.findall(readme())):
            namespace = {"__name__": "__main__"}
            exec(compile(code, f"README.md python block {index + 1}", "exec"), namespace)  # noqa: S102
            namespaces.append(namespace)
    return folder, namespaces


def test_every_python_block_of_the_readme_runs_in_an_empty_folder(blocks_run):
    folder, namespaces = blocks_run
    assert len(namespaces) == 2
    written = sorted(os.listdir(folder))
    assert written == ["my_model.yaml", "runs", "sweeps"]  # Nothing read from, or written to, the checkout.
    assert all(RunFolder(os.path.join(folder, "runs", run)).stage == "finished" for run in os.listdir(folder / "runs"))


def test_the_readme_fine_tune_of_the_names_preset_keeps_its_number(blocks_run):
    """`seqzoo.train(task="names", from_run="preset:names", epochs=1)` starts from every weight of the preset."""
    folder, namespaces = blocks_run
    tuned = RunFolder(os.path.join(folder, namespaces[0]["tuned"]))
    preset = seqzoo.presets.open_run("preset:names")
    assert tuned.config == preset.config and not tuned.record["transferred"]["skipped"]
    bits = tuned.metrics()["bits_per_token"]
    assert abs(bits - preset.metrics()["bits_per_token"]) < FINE_TUNE_TOLERANCE


def cli_rows():
    """The README's CLI table: each row's first cell (the command line it shows), `\\|` read as `|`."""
    rows = []
    for line in readme().splitlines():
        if line.startswith("| `seqzoo"):
            rows.append(line.replace("\\|", "\N{DIVIDES}").split(" | ")[0])
    return rows


def command_flags():
    """`{command: its option flags}` from the parser (`None`: the root's own), `--help` left out."""
    root = cli_parser.parser()
    flags = {None: root}
    for action in root._actions:
        if isinstance(action, argparse._SubParsersAction):
            flags.update(action.choices)
    return {
        name: {flag for action in command._actions for flag in action.option_strings if flag.startswith("--")}
        - {"--help"}
        for name, command in flags.items()
    }


def test_the_readme_cli_table_names_every_flag_of_every_command_and_no_other():
    flags = command_flags()
    shown = {}
    for row in cli_rows():
        commands = re.findall(r"`seqzoo (\w+)", row) or [None]
        allowed = set().union(*(flags.get(command, set()) for command in commands))
        assert all(command in flags for command in commands), f"the README shows an unknown command: {row}"
        assert set(FLAG.findall(row)) <= allowed, f"flags that do not exist: {set(FLAG.findall(row)) - allowed}"
        for command in commands:
            shown.setdefault(command, set()).update(FLAG.findall(row))
    assert set(shown) == set(flags), f"commands without a row: {set(flags) - set(shown)}"
    missing = {command: sorted(flags[command] - shown[command]) for command in flags if flags[command] - shown[command]}
    assert not missing
