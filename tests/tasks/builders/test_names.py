import importlib.resources

import pytest
import tensorflow_datasets as tfds

import seqzoo.tasks.builders  # noqa: F401  (registers the builders)
from seqzoo.tasks.builders.sources import require
from seqzoo.tasks.loading import prepared_builder


@pytest.fixture(scope="module")
def splits(data_dir):
    datasets = prepared_builder("seqzoo_names", data_dir).as_dataset()
    return {
        split: [
            (ex["name"].decode(), ("female", "male")[ex["gender"]], float(ex["frequency"]))
            for ex in tfds.as_numpy(dataset)
        ]
        for split, dataset in datasets.items()
    }


def census_pairs():
    folder = importlib.resources.files("names")
    return {
        (line.split()[0], gender)
        for gender in ("female", "male")
        for line in (folder / f"dist.{gender}.first").read_text().splitlines()
    }


def test_mary_has_census_frequencies(splits):
    mary = {gender: freq for split in splits.values() for name, gender, freq in split if name == "Mary"}
    # Mary tops the female list; a few men were named Mary too.
    assert mary == pytest.approx({"female": 2.629, "male": 0.009}, abs=1e-6)


def test_names_are_capitalised(splits):
    names = [name for split in splits.values() for name, _, _ in split]
    assert all(name == name.capitalize() and name.isalpha() for name in names)


def test_split_sizes_cover_every_pair_once(splits):
    pairs = census_pairs()
    assert len(pairs) == 4275 + 1219
    examples = [(name.upper(), gender) for split in splits.values() for name, gender, _ in split]
    assert len(examples) == len(set(examples))
    assert set(examples) == pairs
    fractions = {split: len(examples) / len(pairs) for split, examples in splits.items()}
    assert fractions["train"] == pytest.approx(0.8, abs=0.03)
    assert fractions["validation"] == pytest.approx(0.1, abs=0.03)
    assert fractions["test"] == pytest.approx(0.1, abs=0.03)


def test_no_name_is_in_two_splits(splits):
    names = {split: {name for name, _, _ in examples} for split, examples in splits.items()}
    assert not names["train"] & names["validation"]
    assert not names["train"] & names["test"]
    assert not names["validation"] & names["test"]
    # James is in both census lists: both genders land in the same split.
    james = [split for split, examples in splits.items() for ex in examples if ex[0] == "James"]
    assert len(james) == 2 and len(set(james)) == 1


def test_name_in_both_lists_has_one_frequency_per_gender(splits):
    james = {gender: freq for split in splits.values() for name, gender, freq in split if name == "James"}
    assert james == pytest.approx({"male": 3.318, "female": 0.010}, abs=1e-6)


def test_missing_source_package_says_how_to_install():
    with pytest.raises(ImportError, match=r"'no_such_package_xyz'.*pip install 'seqzoo\[data\]'"):
        require("no_such_package_xyz.sub")
