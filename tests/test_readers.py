"""Issue 23's probes of the input readers: each input ends in success or one line naming the file and what is wrong."""

import io
import json
import os
import shutil
import tarfile
import zipfile

import pytest

import seqzoo
from seqzoo.errors import InputError
from seqzoo.presets import archives
from seqzoo.registry import memory
from seqzoo.registry.plain_data import plain_config
from seqzoo.runs import RunFolder

SMALL = "backbone: {cell: gru, units: 4}\ninputs: {type: features, dim: 3}\noutputs: {type: classes, size: 2}\n"
NAMES = seqzoo.presets.get_preset("names").path  # A finished run folder of 0.6 MB.


def one_line(error):
    message = str(error.value)
    assert "\n" not in message, message
    return message


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return str(path)


# -- configs -------------------------------------------------------------------


def alias_bomb(levels=9):
    """A YAML `description` of nested aliases: 9 lines that stand for 9**9 (387 million) strings."""
    lines = ["description:", "  a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return SMALL + "\n".join(lines) + "\n"


def test_a_config_of_nested_aliases_is_refused_with_its_expanded_size(tmp_path):
    path = write(tmp_path / "bomb.yaml", alias_bomb())
    with pytest.raises(InputError, match=r"bomb.yaml: the config expands to 490,329,065 values") as error:
        seqzoo.get_config(path)
    assert "at most 100,000 values" in one_line(error)


def test_aliases_within_the_limits_expand_into_a_tree_that_shares_nothing(tmp_path):
    path = write(
        tmp_path / "shared.yaml", SMALL + "search:\n  backbone.units: &c {choice: [4, 8]}\n  backbone.depth: *c\n"
    )
    config = seqzoo.get_config(path)
    search = config["search"]
    assert search["backbone.units"] == search["backbone.depth"] == {"choice": [4, 8]}
    assert search["backbone.units"] is not search["backbone.depth"]
    shared = [1, 2]
    copied = plain_config({"a": shared, "b": shared}, "d")
    assert copied == {"a": [1, 2], "b": [1, 2]} and copied["a"] is not copied["b"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("description: [1, 2]\n" + SMALL, "description must be a string; received a list"),
        ("description: &d [*d]\n" + SMALL, "the value at 'description.0' contains itself"),
        ("description: 2024-01-01\n" + SMALL, "the value at 'description' is a date"),
        ("description: !!binary aGk=\n" + SMALL, "the value at 'description' is a bytes"),
        (SMALL + "search: {1: {choice: [1]}}\n", "the value at 'search' has the key 1, a int; keys must be strings"),
        ("description: " + "[" * 40 + "]" * 40 + "\n" + SMALL, "nested deeper than 32 levels"),
        (SMALL + "topology: [many_to_one]\n", "Unknown topology in"),
        (SMALL + "search: [backbone.units]\n", "search must be a mapping of keys to ranges; received a list"),
        ("backbone: {cell: gru\n", "not valid YAML: expected ',' or '}', but got '<stream end>' at line 2, column 1"),
    ],
)
def test_a_config_that_is_not_plain_data_is_one_line_naming_the_file(tmp_path, text, message):
    path = write(tmp_path / "mine.yaml", text)
    with pytest.raises(ValueError, match="mine.yaml") as error:  # An InputError, or the schema's ValueError.
        seqzoo.get_config(path)
    assert message in one_line(error)


def test_a_config_that_is_not_utf8_or_too_large_names_the_file(tmp_path):
    with pytest.raises(InputError, match=r"latin.yaml is not UTF-8 text \(byte 0xe9 on line 1\)"):
        seqzoo.get_config(write(tmp_path / "latin.yaml", "description: caf\xe9\n" + SMALL, "latin-1"))
    big = write(tmp_path / "big.yaml", SMALL + "description: " + "x" * (1 << 20) + "\n")
    with pytest.raises(InputError, match="big.yaml is larger than 1,048,576 bytes, the most it may be"):
        seqzoo.get_config(big)


def test_parameters_are_counted_exactly_without_allocating_them():
    for name in ("gru_char_lm", "lstm_bi_deep", "gru_seq2seq_attention"):
        config = seqzoo.get_config(name, **{"backbone.units": 16})
        assert memory.parameter_count(config) == seqzoo.build(config).count_params()
    units = 200_000  # An LSTM of 200,000 units over 3 features, and a head of 2 classes: 2.4 TB to train.
    huge = seqzoo.get_config(
        {
            "backbone": {"cell": "lstm", "units": units},
            "inputs": {"type": "features", "dim": 3},
            "outputs": {"type": "classes", "size": 2},
        }
    )
    assert memory.parameter_count(huge) == 4 * units * (3 + units + 1) + 2 * units + 2 == 160_003_600_002


def test_a_model_too_large_for_memory_is_refused_before_it_is_built(tmp_path, monkeypatch):
    path = write(tmp_path / "huge.yaml", SMALL.replace("gru, units: 4", "lstm, units: 200000"))
    with pytest.raises(InputError, match=r"Model 'huge' has 160,003,600,002 parameters, which take 2,384.2 GiB"):
        seqzoo.build(path)
    count = memory.parameter_count(seqzoo.get_config("gru_uni"))
    monkeypatch.setattr(memory, "physical_memory", lambda: 2 * count * memory.BYTES_PER_PARAMETER)
    assert seqzoo.build("gru_uni").count_params() == count  # At the limit: built.
    monkeypatch.setattr(memory, "physical_memory", lambda: 2 * (count - 1) * memory.BYTES_PER_PARAMETER)
    with pytest.raises(InputError, match=f"Model 'gru_uni' has {count:,} parameters.* {count - 1:,} parameters"):
        seqzoo.build("gru_uni")


# -- archives ------------------------------------------------------------------


def zip_of(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return str(path)


def tar_of(path, members, mode="w:gz"):
    with tarfile.open(path, mode) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


def run_members():
    return [(f"names/{name}", open(os.path.join(NAMES, name), "rb").read()) for name in sorted(os.listdir(NAMES))]


def refused(path, cache, message):
    with pytest.raises(InputError, match=f"Archive '{path}'") as error:
        archives.unpack(path, cache)
    assert message in one_line(error)
    assert not os.path.isdir(cache) or os.listdir(cache) == []  # Nothing half-unpacked stays.


def test_a_damaged_archive_is_one_line(tmp_path):
    whole = open(tar_of(tmp_path / "whole.tar.gz", run_members()), "rb").read()
    (tmp_path / "cut.tar.gz").write_bytes(whole[: len(whole) // 2])
    refused(str(tmp_path / "cut.tar.gz"), str(tmp_path / "cache"), "is damaged (Compressed file ended before")
    data = bytearray(open(zip_of(tmp_path / "whole.zip", run_members()), "rb").read())
    info = zipfile.ZipFile(tmp_path / "whole.zip").getinfo("names/model.keras")
    start = info.header_offset + 30 + len(info.filename) + 100
    data[start : start + 64] = bytes(byte ^ 0x55 for byte in data[start : start + 64])
    (tmp_path / "bad.zip").write_bytes(bytes(data))
    refused(str(tmp_path / "bad.zip"), str(tmp_path / "cache"), "is damaged (")


@pytest.mark.parametrize(
    "member, message",
    [
        ("/etc/evil", "its member '/etc/evil' has an absolute path"),
        ("names/../../evil", "its member 'names/../../evil' leads out of the folder"),
    ],
)
@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_an_unsafe_member_is_named(tmp_path, kind, member, message):
    members = run_members() + [(member, b"x")]
    path = zip_of(tmp_path / "a.zip", members) if kind == "zip" else tar_of(tmp_path / "a.tar", members, "w")
    refused(path, str(tmp_path / "cache"), message)


def test_a_link_member_is_named(tmp_path):
    path = str(tmp_path / "link.tar")
    with tarfile.open(path, "w") as archive:
        info = tarfile.TarInfo("names/run.json")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(info)
    refused(path, str(tmp_path / "cache"), "its member 'names/run.json' is a link")


def test_archives_are_capped_from_their_headers_and_while_unpacking(tmp_path, monkeypatch):
    many = run_members() + [(f"names/logs/{i}", b"") for i in range(archives.MAX_MEMBERS)]
    refused(zip_of(tmp_path / "many.zip", many), str(tmp_path / "cache"), "more than 1,000 members")
    monkeypatch.setattr(archives, "MAX_UNPACKED_BYTES", 1 << 20)
    bomb = zip_of(tmp_path / "bomb.zip", run_members() + [("names/zeros", bytes(1 << 20))])
    assert os.path.getsize(bomb) < 400_000
    refused(bomb, str(tmp_path / "cache"), "it unpacks to more than 1,048,576 bytes, the most an archive may")
    # Headers that say less than the stream holds: the bytes written are counted too.
    liar = archives._Member("zeros", 0, "file", lambda: io.BytesIO(bytes((1 << 20) + 1)))
    with pytest.raises(InputError, match="its headers said less"):
        archives._write([liar], str(tmp_path / "out"))


def test_a_whole_archive_still_unpacks(tmp_path):
    for path in (zip_of(tmp_path / "n.zip", run_members()), tar_of(tmp_path / "n.tgz", run_members())):
        folder = archives.unpack(path, str(tmp_path / "cache"))
        assert open(os.path.join(folder, "model.keras"), "rb").read() == dict(run_members())["names/model.keras"]


# -- run folders -----------------------------------------------------------------


@pytest.fixture
def run_copy(tmp_path):
    return shutil.copytree(NAMES, tmp_path / "run")


@pytest.mark.parametrize(
    "record, message",
    [
        ({}, "run.json is not a run record: it has no stage."),
        ({"stage": "finished"}, "run.json is not a run record: it has no model, task, task_options, batch_size."),
        ([], "run.json holds a JSON array, not a run record"),
        ("finished", "run.json holds a JSON string"),
        ({"stage": "done", "model": "m", "task": "t", "task_options": {}, "batch_size": 8}, "stage is 'done'"),
        ({"stage": "finished", "model": "m", "task": "t", "task_options": [], "batch_size": 8}, "task_options is []"),
        ({"stage": "finished", "model": "m", "task": "t", "task_options": {}, "batch_size": 0}, "batch_size is 0"),
    ],
)
def test_a_run_json_that_is_no_record_is_one_line(run_copy, record, message):
    (run_copy / "run.json").write_text(json.dumps(record))
    with pytest.raises(InputError, match="run.json") as error:
        RunFolder(run_copy).check_finished()
    assert message in one_line(error)


def test_a_model_that_names_an_unregistered_function_is_one_line(run_copy):
    with zipfile.ZipFile(run_copy / "model.keras") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = files["config.json"].decode()
    unknown = '{"module": "builtins", "class_name": "function", "config": "my_activation", "registered_name": "x"}'
    files["config.json"] = config.replace('"activation": "linear"', f'"activation": {unknown}', 1).encode()
    assert files["config.json"].decode() != config
    with zipfile.ZipFile(run_copy / "model.keras", "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(InputError, match="model.keras cannot be loaded") as error:
        RunFolder(run_copy).load_model()
    assert one_line(error).endswith("(TypeError: Could not locate function 'my_activation').")


def test_a_garbage_model_is_not_reported_as_missing(run_copy):
    (run_copy / "model.keras").write_bytes(b"garbage" * 100)
    with pytest.raises(InputError, match=r"model.keras is not a .keras file \(not a zip\)"):
        RunFolder(run_copy).load_model()
    (run_copy / "model.keras").unlink()
    with pytest.raises(InputError, match="it has no model.keras"):
        RunFolder(run_copy).load_model()


# -- tables and folders of texts -------------------------------------------------


def table(path, rows, encoding="utf-8"):
    text = "text,label\n" + "".join(f'"{text}",{label}\n' for text, label in rows)
    return f"csv:{write(path, text, encoding)}"


ROWS = [("good film" if i % 2 else "bad plot", str(i % 2)) for i in range(20)]


def test_a_field_of_any_length_is_read(tmp_path):
    task = seqzoo.load_task(table(tmp_path / "long.csv", ROWS + [("long " * 40_000, "1")]))
    assert max(len(text) for text in task.texts.texts) == 200_000


def test_labels_that_are_not_ascii_numbers_sort_as_text(tmp_path):
    task = seqzoo.load_task(
        table(tmp_path / "sup.csv", [(text, "²" if label == "1" else "10") for text, label in ROWS])
    )
    assert task.class_names() == ["10", "²"]
    task = seqzoo.load_task(
        table(tmp_path / "num.csv", [(text, "-2" if label == "1" else "10") for text, label in ROWS])
    )
    assert task.class_names() == ["-2", "10"]


def test_a_table_that_is_not_utf8_names_the_file(tmp_path):
    with pytest.raises(InputError, match=r"latin.csv is not UTF-8 text \(byte 0xe9 on line 3\); save it as UTF-8"):
        seqzoo.load_task(
            table(
                tmp_path / "latin.csv",
                [("caf\xe9" if i == 1 else text, label) for i, (text, label) in enumerate(ROWS)],
                "latin-1",
            )
        )


def test_texts_without_tokens_are_refused_before_a_run_folder_is_written(tmp_path):
    empty = table(tmp_path / "empty.csv", [("", label) for _, label in ROWS])
    out = tmp_path / "run"
    with pytest.raises(InputError, match="empty.csv: 20 of its 20 texts have no words once tokenized"):
        seqzoo.train("gru_uni", empty, epochs=1, out=str(out))
    assert RunFolder(out).record is None
    some = table(tmp_path / "some.csv", ROWS[:5] + [("!!", "0")] + ROWS[5:])
    with pytest.raises(InputError, match=r"1 of its 21 texts have no words .*text 6 of label '0': '!!'"):
        seqzoo.load_task(some)
    assert len(seqzoo.load_task(some, tokenizer="chars").texts.texts) == 21  # Characters it has.
