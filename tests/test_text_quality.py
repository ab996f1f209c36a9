"""`benchmarks/text_quality.py`: its real-text dataset is the same in every process, and seqzoo learns it."""

import collections
import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "text_quality.py"


def load():
    spec = importlib.util.spec_from_file_location("text_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def text_quality():
    return load()


@pytest.fixture(scope="module")
def dataset(text_quality, tmp_path_factory):
    path = tmp_path_factory.mktemp("docstrings") / "docstrings.csv"
    return path, text_quality.build_dataset(str(path))


def test_dataset_is_balanced_and_split_80_10_10(text_quality, dataset):
    path, counts = dataset
    per_class = text_quality.PER_CLASS
    expected = {"train": per_class * 8 // 10, "validation": per_class // 10, "test": per_class // 10}
    assert counts == {split: dict.fromkeys(text_quality.SOURCES, size) for split, size in expected.items()}
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 4 * per_class and list(rows[0]) == ["text", "label", "split"]
    labels = collections.defaultdict(set)
    for row in rows:
        labels[row["text"]].add(row["label"])
        assert len(row["text"].split()) >= text_quality.MIN_WORDS
    assert len(labels) == len(rows), "a text appears twice"
    splits, names = text_quality.read_split(str(path))
    assert names == ["keras", "matplotlib", "numpy", "python"]
    assert [len(splits[split][0]) for split in ("train", "validation", "test")] == [4 * n for n in expected.values()]


def build_in_a_new_process(path):
    """Builds the dataset in a fresh Python (pytest patches `threading.excepthook`, one of the documented objects)."""
    code = f"import importlib.util as u; s = u.spec_from_file_location('t', {str(SCRIPT)!r}); m = u.module_from_spec(s)"
    code += f"; s.loader.exec_module(m); m.build_dataset({str(path)!r})"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return path.read_bytes()


def test_dataset_is_the_same_in_every_new_process(tmp_path):
    assert build_in_a_new_process(tmp_path / "a.csv") == build_in_a_new_process(tmp_path / "b.csv")


def test_another_seed_draws_another_dataset(text_quality, dataset, tmp_path):
    path, _ = dataset
    other = tmp_path / "seed1.csv"
    text_quality.build_dataset(str(other), seed=1)
    assert other.read_bytes() != path.read_bytes()


@pytest.mark.slow
def test_seqzoo_defaults_learn_the_real_text_task(text_quality, dataset, tmp_path):
    path, _ = dataset
    numbers = text_quality.train_seqzoo("gru_bi", str(path), 0, 30, 5, str(tmp_path / "run"))
    assert numbers["test_accuracy"] > 0.75  # Chance is 0.25; seqzoo and the Keras baseline: 0.80-0.88 (QUALITY.md).
    assert numbers["best_epoch"] < numbers["epochs"] <= 30
