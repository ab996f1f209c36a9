"""Fuzzed entry points (issue 23, item 7): every generated input ends in success or one line, never a traceback.

Hypothesis generates configs, tables, folders of texts, archives, run records
and command lines; each property runs a fixed number of examples, derandomized
so that CI sees the same inputs every time, in a few seconds.
"""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import pytest
import yaml
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import seqzoo
from seqzoo.cli import parser
from seqzoo.presets import archives
from seqzoo.registry.overrides import dotted_keys
from seqzoo.runs import RunFolder

FUZZ = settings(
    max_examples=40,
    deadline=10_000,  # ms: a hang or a blow-up fails the example; a busy CI machine does not.
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NAMES = seqzoo.presets.get_preset("names").path


def scratch():
    """A fresh temporary folder for one example (pytest's `tmp_path` is shared by a test's examples)."""
    return tempfile.mkdtemp(prefix="seqzoo_fuzz_")


def outcome(call):
    """Calls `call`; a `ValueError` (every seqzoo error is one) must be one line. Returns the error or None."""
    try:
        call()
    except ValueError as error:
        assert "\n" not in str(error), str(error)
        return error
    return None


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
YAML_PIECES = [
    "&a ",
    "*a",
    "[",
    "]",
    "{",
    "}",
    ": ",
    ", ",
    "- ",
    "\n",
    "  ",
    "!!binary ",
    "2024-01-01",
    "'",
    '"',
    "#",
    "x",
    "1e3",
    "|",
]


@FUZZ
@given(
    base=st.sampled_from(["gru_uni", "lstm_bi", "gru_char_lm", "gru_seq2seq_attention"]),
    changes=st.dictionaries(
        st.sampled_from([*dotted_keys(), "topology", "description", "search", "attention"]), values, max_size=3
    ),
    noise=st.lists(st.sampled_from(YAML_PIECES), max_size=12),
)
def test_the_config_reader_answers_every_config(base, changes, noise):
    config = seqzoo.get_config(base)
    for key, value in changes.items():
        section, _, field = key.partition(".")
        if field and isinstance(config.get(section), dict):
            config[section][field] = value
        else:
            config[key] = value
    text = yaml.safe_dump(config) + "".join(noise)
    folder = scratch()
    try:
        path = os.path.join(folder, "fuzzed.yaml")
        with open(path, "w") as file:
            file.write(text)
        error = outcome(lambda: seqzoo.get_config(path))
        assert error is None or "fuzzed.yaml" in str(error) or "Received" in str(error) or "Unknown" in str(error)
    finally:
        shutil.rmtree(folder)


cells = st.text(st.sampled_from(list("ab ,\"'\n\t²é\x00;")), max_size=10)


@FUZZ
@given(
    header=st.lists(st.sampled_from(["text", "label", "split", "other", ""]), min_size=1, max_size=4),
    rows=st.lists(st.lists(cells, max_size=4), max_size=14),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]),
    tokenizer=st.sampled_from(["words", "chars"]),
)
def test_the_table_reader_answers_every_table(header, rows, encoding, tokenizer):
    folder = scratch()
    try:
        path = os.path.join(folder, "fuzzed.csv")
        text = "\n".join(",".join(row) for row in [header, *rows])
        with open(path, "wb") as file:
            file.write(text.encode(encoding, errors="replace"))
        outcome(lambda: seqzoo.load_task(f"csv:{path}", tokenizer=tokenizer))
    finally:
        shutil.rmtree(folder)


@FUZZ
@given(
    files=st.lists(
        st.tuples(
            st.sampled_from(["pos", "neg", "train/pos", "train/neg", "test/pos", "validation/neg", "x/y/z", "."]),
            st.sampled_from(["a.txt", "b.txt", "c.md", "d.txt"]),
            st.binary(max_size=20) | st.sampled_from([b"good film", b"bad plot", b"", b"\xff\xfe"]),
        ),
        max_size=16,
    )
)
def test_the_folder_reader_answers_every_folder(files):
    folder = scratch()
    try:
        for subfolder, name, data in files:
            os.makedirs(os.path.join(folder, "texts", subfolder), exist_ok=True)
            with open(os.path.join(folder, "texts", subfolder, name), "wb") as file:
                file.write(data)
        outcome(lambda: seqzoo.load_task(f"folder:{os.path.join(folder, 'texts')}"))
    finally:
        shutil.rmtree(folder)


RUN_FILES = {name: open(os.path.join(NAMES, name), "rb").read() for name in ("run.json", "config.json")}
member_names = st.sampled_from(
    ["names/run.json", "run.json", "names/", "/abs", "../up", "names/../../x", "a\\b", "", ".", "names/x/y", "C:/x"]
)


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile's, while the archive is written.
@FUZZ
@given(
    kind=st.sampled_from(["zip", "tar", "tar.gz"]),
    members=st.lists(st.tuples(member_names, st.sampled_from([*RUN_FILES.values(), b"", b"x" * 100])), max_size=6),
    cut=st.none() | st.floats(0, 1),
    flips=st.lists(st.integers(0, 10_000), max_size=3),
)
def test_the_archive_reader_answers_every_archive(kind, members, cut, flips):
    folder = scratch()
    try:
        path = os.path.join(folder, f"fuzzed.{kind}")
        if kind == "zip":
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, data in members:
                    archive.writestr(name or "_", data)
        else:
            with tarfile.open(path, "w:gz" if kind == "tar.gz" else "w") as archive:
                for name, data in members:
                    info = tarfile.TarInfo(name)
                    if name.endswith(("/", ".")):  # A folder, as `tar` writes one (`.` the root).
                        info.type = tarfile.DIRTYPE
                    else:
                        info.size = len(data)
                    archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
        data = bytearray(open(path, "rb").read())
        data = data[: int(len(data) * cut)] if cut is not None else data
        for flip in flips:
            if data:
                data[flip % len(data)] ^= 0xA5
        with open(path, "wb") as file:
            file.write(bytes(data))
        cache = os.path.join(folder, "cache")
        error = outcome(lambda: archives.unpack(path, cache))
        if error is not None:
            assert str(error).startswith(f"Archive {path!r}"), str(error)
        if os.path.isdir(cache):  # A whole unpacked folder, or nothing: never a half-written staging folder.
            assert all(entry.startswith("fuzzed-") for entry in os.listdir(cache)), os.listdir(cache)
    finally:
        shutil.rmtree(folder)


RECORD = json.loads(RUN_FILES["run.json"])


@FUZZ
@given(
    record=values | st.dictionaries(st.sampled_from([*RECORD, "extra"]), values, max_size=4),
    keep=st.booleans(),
)
def test_the_run_record_reader_answers_every_run_json(record, keep):
    folder = scratch()
    try:
        if keep and isinstance(record, dict):
            record = {**RECORD, **record}
        with open(os.path.join(folder, "run.json"), "w") as file:
            json.dump(record, file)
        run = RunFolder(folder)
        outcome(lambda: run.check_finished())
        outcome(lambda: run.stage)
    finally:
        shutil.rmtree(folder)


WORDS = [
    "train", "show", "evaluate", "generate", "export", "tune", "list", "presets", "tasks",
    "gru_uni", "gru_unii", "nope.yaml", "preset:names", "preset:nmaes", "preset:/no/such.zip", "preset:hf://x",
    "--task", "--epochs", "--batch-size", "--seed", "--set", "--task-option", "--out", "--data-dir", "--from",
    "--temperature", "--top-k", "--beam", "--tuner", "--max-trials", "--strategy", "--help", "--version",
    "0", "-1", "3", "1e3", "nan", "x", "backbone.units=8", "backbone.units=[1", "a", "=", "key=&a [*a]", "",
    "japanese_vowels", "csv:/no/such.csv", "--split", "test", "--worker-timeout", "é",
]  # fmt: skip


@settings(FUZZ, max_examples=150)
@given(argv=st.lists(st.sampled_from(WORDS), max_size=7))
def test_the_argument_parser_answers_every_command_line(argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            parser.parser().parse_args(argv)
            code = 0
        except SystemExit as exit:
            code = exit.code
    assert code in (0, 2), (argv, code)
    if code == 2:
        lines = stderr.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("seqzoo"), (argv, stderr.getvalue())


def test_refused_inputs_exit_2_with_one_line_in_a_real_process(tmp_path, subprocess_env):
    bomb = tmp_path / "bomb.yaml"
    levels = [f"  k{i}: &k{i} [*k{i - 1}, *k{i - 1}, *k{i - 1}, *k{i - 1}]" for i in range(1, 20)]
    bomb.write_text("description:\n  k0: &k0 [x, x, x, x]\n" + "\n".join(levels) + "\n")
    for argv in (["show", str(bomb)], ["train", "gru_uni", "--task", "names", "--set", "backbone.units=[1"]):
        result = subprocess.run(
            [sys.executable, "-m", "seqzoo", *argv],
            capture_output=True,
            text=True,
            env={**subprocess_env, "SEQZOO_CACHE": str(tmp_path / "cache")},
            timeout=120,
        )
        assert result.returncode == 2, (argv, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
