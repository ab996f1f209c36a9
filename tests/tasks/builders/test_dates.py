import datetime
import re

import babel.dates
import pytest
import tensorflow_datasets as tfds

import seqzoo.tasks.builders  # noqa: F401  (registers the builders)
from seqzoo.tasks.builders.dates.builder import LOCALES
from seqzoo.tasks.builders.dates.builder import PATTERNS
from seqzoo.tasks.loading import prepared_builder

FIELDS = ("human", "iso", "locale", "pattern")


def build(data_dir):
    datasets = prepared_builder("seqzoo_dates", str(data_dir)).as_dataset()
    return {
        split: [tuple(ex[field].decode() for field in FIELDS) for ex in tfds.as_numpy(dataset)]
        for split, dataset in datasets.items()
    }


@pytest.fixture(scope="module")
def splits(data_dir):
    return build(data_dir)


def test_split_sizes(splits):
    assert {split: len(examples) for split, examples in splits.items()} == {
        "train": 20_000,
        "validation": 1_000,
        "test": 1_000,
    }


def test_iso_dates_parse_within_range(splits):
    for examples in splits.values():
        for _, iso, _, _ in examples:
            day = datetime.date.fromisoformat(iso)
            assert day.isoformat() == iso
            assert datetime.date(1950, 1, 1) <= day <= datetime.date(2049, 12, 31)


def test_human_is_babel_rendering_lowercased(splits):
    for human, iso, locale, pattern in splits["validation"] + splits["test"]:
        rendered = babel.dates.format_date(datetime.date.fromisoformat(iso), pattern, locale=locale)
        assert human == " ".join(rendered.lower().split())
    train = splits["train"]
    assert all(human == human.lower() for human, _, _, _ in train)
    assert {locale for _, _, locale, _ in train} == set(LOCALES)
    assert {pattern for _, _, _, pattern in train} == set(PATTERNS)


def test_en_us_long_reparses_to_iso(splits):
    names = babel.dates.get_month_names("wide", locale="en_US")
    months = {name.lower(): number for number, name in names.items()}
    examples = [ex for ex in splits["train"] if ex[2:] == ("en_US", "long")]
    assert len(examples) > 50
    for human, iso, _, _ in examples:
        month, day, year = re.fullmatch(r"([a-z]+) (\d{1,2}), (\d{4})", human).groups()
        assert datetime.date(int(year), months[month], int(day)).isoformat() == iso


def test_held_out_dates_never_in_train(splits):
    dates = {split: {iso for _, iso, _, _ in examples} for split, examples in splits.items()}
    assert not dates["test"] & dates["train"]
    assert not dates["validation"] & dates["train"]
    assert not dates["validation"] & dates["test"]
    # 20,000 draws from ~29,000 train days give ~14,500 distinct ones.
    assert len(dates["train"]) > 14_000


def test_generation_is_deterministic(splits, tmp_path):
    assert build(tmp_path) == splits
