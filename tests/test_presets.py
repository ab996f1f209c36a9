"""Presets: shipped run folders that evaluate to their recorded metrics and generate with no training or network."""

import json
import os
import subprocess
import sys
import tarfile
import zipfile

import numpy as np
import pytest

import seqzoo
from seqzoo.cli import main
from seqzoo.presets import PresetError
from seqzoo.presets import sources
from seqzoo.runs import RunFolder

PRESETS = sources.ShippedPresets().names()
# The list: a names model, a gender-conditioned names model, the dates translator with attention,
# a Japanese Vowels classifier, a chorale melody model and a chorale harmonizer; and issue 24's minGRU names model.
EXPECTED = {"names", "names_by_gender", "dates", "japanese_vowels", "chorales", "chorales_harmony", "names_mingru"}
WHEEL_BUDGET_BYTES = 15 * 2**20


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names)


def test_the_shipped_presets_are_the_promised_ones_within_the_size_budget():
    assert set(PRESETS) == EXPECTED
    assert folder_bytes(sources.SHIPPED) < WHEEL_BUDGET_BYTES


# The presets by the offline dataset their task reads, so that each dataset is generated once per test process.
BY_DATASET = {
    "names": ["names", "names_by_gender", "names_mingru"],
    "chorales": ["chorales", "chorales_harmony"],
    "dates": ["dates"],
    "japanese_vowels": ["japanese_vowels"],
}


def test_every_preset_is_evaluated_below():
    assert sorted(name for names in BY_DATASET.values() for name in names) == PRESETS


@pytest.mark.parametrize("dataset", sorted(BY_DATASET))
def test_presets_evaluate_to_their_recorded_metrics_and_clear_their_bars(dataset, data_dir):
    for name in BY_DATASET[dataset]:
        preset = seqzoo.presets.get_preset(name)
        recorded = RunFolder(preset.path).metrics()
        measured = seqzoo.evaluate(f"preset:{name}", data_dir=data_dir)
        assert measured.keys() == recorded.keys()
        for key, value in recorded.items():
            np.testing.assert_allclose(measured[key], value, rtol=2e-3, atol=2e-3, err_msg=f"{name}: {key}")
        threshold = float(preset.bar.split()[1])
        assert preset.value <= threshold if preset.bar.startswith("<=") else preset.value >= threshold


def test_presets_lists_one_line_each_name_first(capsys):
    assert main(["presets"]) == 0
    header, *lines = capsys.readouterr().out.strip().splitlines()
    assert header.split()[:3] == ["name", "task", "model"]
    assert [line.split()[0] for line in lines] == PRESETS
    for line, preset in zip(lines, seqzoo.list_presets()):
        assert line.split()[1:3] == [preset.task, preset.model] and f"{preset.value:.4f}" in line


def test_generate_from_a_preset_needs_no_training_data_or_network(tmp_path, subprocess_env):
    home = tmp_path / "home"  # an empty home: no TFDS data, no cache
    env = {**subprocess_env, "HOME": str(home), "TFDS_DATA_DIR": str(home / "tfds"), "NO_PROXY": "", "no_proxy": ""}
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")  # any request would fail
    # `seqzoo generate ...`, then the libraries it loaded that generating needs none of (TFDS: 0.1 s).
    code = (
        "import sys, seqzoo.cli; code = seqzoo.cli.main(sys.argv[1:]); "
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'tensorflow_datasets', 'keras_tuner'})); "
        "sys.exit(code)"
    )
    command = [sys.executable, "-c", code, "generate", "preset:names", "--num", "5", "--seed", "0"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    *names, loaded = result.stdout.split()
    assert len(names) == 5 and all(name.isalpha() and name[0].isupper() for name in names), names
    assert loaded == "[]"
    assert not (home / "tfds").exists()  # the task's data were never generated


def test_a_preset_loads_in_a_process_that_imported_nothing_else(subprocess_env):
    code = "import seqzoo; print(seqzoo.presets.open_run('preset:names').load_model().name)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["gru_char_lm"]


def test_generate_conditions_on_a_class_of_the_preset():
    preset = seqzoo.from_preset("names_by_gender")  # Loaded once: both calls run one compiled loop.
    female = seqzoo.generate(preset, num=40, condition="female", seed=0)
    male = seqzoo.generate(preset, num=40, condition="male", seed=0)
    ending_in_a = [sum(name.endswith("a") for name in names) for names in (female, male)]
    assert ending_in_a[0] >= ending_in_a[1] + 8, (female, male)


def test_the_dates_preset_translates(dates_preset):
    sources = ["3 may 1999", "december 25, 2021", "tuesday, march 5, 2024", "12/31/99"]
    assert seqzoo.generate(dates_preset, prefix=sources, context="en_US") == [
        "1999-05-03",
        "2021-12-25",
        "2024-03-05",
        "1999-12-31",
    ]
    assert seqzoo.generate(dates_preset, prefix=["3 mai 1999"], context="fr_FR") == ["1999-05-03"]


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_a_preset_from_an_archive_is_unpacked_once_and_evaluates_the_same(suffix, tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("SEQZOO_CACHE", str(tmp_path / "cache"))
    source = seqzoo.presets.get_preset("japanese_vowels").path
    archive = str(tmp_path / f"vowels{suffix}")
    if suffix == ".zip":
        with zipfile.ZipFile(archive, "w") as file:
            for name in os.listdir(source):
                file.write(os.path.join(source, name), f"vowels/{name}")
    else:
        with tarfile.open(archive, "w:gz") as file:
            file.add(source, arcname=".")
    reference = f"preset:{archive}"
    assert seqzoo.evaluate(reference, data_dir=data_dir) == seqzoo.evaluate("preset:japanese_vowels", data_dir=data_dir)
    unpacked = os.listdir(tmp_path / "cache" / "presets")
    assert seqzoo.presets.open_run(reference).path == seqzoo.presets.open_run(reference).path
    assert os.listdir(tmp_path / "cache" / "presets") == unpacked and len(unpacked) == 1  # no temporaries left


def test_a_run_folder_given_as_a_preset_path_is_read_in_place():
    source = seqzoo.presets.get_preset("japanese_vowels").path
    assert seqzoo.presets.open_run(f"preset:{source}").path == source


@pytest.mark.parametrize(
    "reference, message",
    [
        ("preset:nmaes", "Unknown preset 'nmaes'. Did you mean 'names'"),
        ("preset:hf://someone/names", "no preset source reads 'hf' handles"),
        ("preset:/no/such/archive.zip", "no such folder or archive"),
    ],
)
def test_a_bad_reference_is_one_clear_error(reference, message):
    with pytest.raises(PresetError, match=message.replace("(", r"\(")):
        seqzoo.presets.open_run(reference)
    with pytest.raises(PresetError, match=message.replace("(", r"\(")):  # The command line's early check says the same.
        sources.check_reference(reference)


def test_an_archive_without_a_run_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQZOO_CACHE", str(tmp_path / "cache"))
    archive = tmp_path / "notes.zip"
    with zipfile.ZipFile(archive, "w") as file:
        file.writestr("notes.txt", "no run here")
    with pytest.raises(PresetError, match="holds no run folder"):
        seqzoo.presets.open_run(f"preset:{archive}")
    assert os.listdir(tmp_path / "cache" / "presets") == []  # nothing half-unpacked stays


def test_fine_tuning_from_a_preset_records_the_reference(tmp_path, vowels_data):
    out = seqzoo.train(
        "gru_bi",
        "japanese_vowels",
        epochs=1,
        out=str(tmp_path / "run"),
        from_run="preset:japanese_vowels",
        data_dir=vowels_data,
        verbose=0,
    )
    record = RunFolder(out).record
    assert record["from_run"] == "preset:japanese_vowels"
    assert record["transferred"]["copied"] == ["backbone", "head"] and not record["transferred"]["skipped"]
    # Starting from the preset's weights, one epoch keeps it near the preset's accuracy.
    assert seqzoo.evaluate(out)["accuracy"] > 0.9


def test_a_preset_is_never_written_to(vowels_data):
    source = seqzoo.presets.get_preset("japanese_vowels").path
    before = {name: os.path.getmtime(os.path.join(source, name)) for name in os.listdir(source)}
    seqzoo.evaluate("preset:japanese_vowels", data_dir=vowels_data)
    assert {name: os.path.getmtime(os.path.join(source, name)) for name in os.listdir(source)} == before
    assert json.loads(open(os.path.join(source, "run.json")).read())["data_dir"] is None  # the user's TFDS folder
