"""`tfds:NAME` read from `supervised_keys`; builder configs; the package versions seqzoo's datasets record.

Downloading datasets run on `tfds.testing.mock_data`; seqzoo's own are
generated for real into the session's shared TFDS folder.
"""

import importlib.metadata
import json
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

import seqzoo
from seqzoo.tasks import ClassificationTask
from seqzoo.tasks import ConditionalGenerationTask
from seqzoo.tasks import TaggingTask


def test_supervised_keys_make_imdb_a_word_classifier_without_options():
    with tfds.testing.mock_data(num_examples=20):
        task = seqzoo.load_task("tfds:imdb_reviews")
        assert isinstance(task, ClassificationTask) and task.options == {}
        assert (task.inputs_feature, task.label_feature, task.tokenizer) == ("text", "label", "words")
        # No validation split in imdb_reviews: carved from train.
        assert task.splits == {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}
        spec = task.model_spec()
        words = {w for row in task.raw("train").as_numpy_iterator() for w in row["text"].decode().lower().split()}
        assert spec == {
            "topology": "many_to_one",
            "inputs": {"type": "tokens", "vocab_size": len(words) + 4},
            "outputs": {"type": "classes", "size": 2},
        }
        model = seqzoo.build("gru_uni", task=task, **{"backbone.units": 8, "inputs.embedding_dim": 8})
        x, y, _ = next(iter(task.batches("train", 4)))
        assert np.asarray(model(x)).shape == (len(y), 2)


def test_options_override_the_supervised_keys():
    with tfds.testing.mock_data(num_examples=12):
        # The same keys in another role: a review from its sentiment, character by character.
        task = seqzoo.load_task("tfds:imdb_reviews", topology="one_to_many", tokenizer="chars", max_length="5")
        assert isinstance(task, ConditionalGenerationTask)
        assert (task.text_feature, task.condition_feature, task.max_length) == ("text", "label", 5)
        assert task.model_spec()["condition"] == {"type": "classes", "size": 2}
        for x, y in task.examples("train").as_numpy_iterator():
            assert len(y) == 6  # 5 characters and the end token (mock reviews are longer)
        task = seqzoo.load_task(
            "tfds:imdb_reviews", train_split="train[:50%]", validation_split="train[50%:]", max_vocab=10
        )
        assert task.splits == {"train": "train[:50%]", "validation": "train[50%:]", "test": "test"}
        assert task.model_spec()["inputs"]["vocab_size"] == 14


def test_a_dataset_without_supervised_keys_needs_options():
    with pytest.raises(ValueError, match="'tfds:conll2003' needs the option topology .*Its features: .*tokens.*ner"):
        seqzoo.load_task("tfds:conll2003")
    with pytest.raises(ValueError, match="many_to_many task: .*tags_feature.*Its features"):
        seqzoo.load_task("tfds:conll2003", topology="many_to_many", inputs_feature="tokens")
    with pytest.raises(ValueError, match="Unknown tags_feature 'ners'. Did you mean 'ner'"):
        seqzoo.load_task("tfds:conll2003", topology="many_to_many", inputs_feature="tokens", tags_feature="ners")
    with pytest.raises(ValueError, match="as a many_to_one task takes no option 'window'"):
        seqzoo.load_task("tfds:imdb_reviews", window=100)
    with pytest.raises(ValueError, match="Unknown option 'label_feat'. Did you mean 'label_feature'"):
        seqzoo.load_task("tfds:imdb_reviews", label_feat="label")


def test_offline_builders_through_their_supervised_keys(data_dir):
    vowels = seqzoo.load_task("tfds:seqzoo_japanese_vowels", data_dir=data_dir)
    assert vowels.splits == {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}  # as the catalog's
    assert vowels.model_spec() == seqzoo.load_task("japanese_vowels", data_dir=data_dir).model_spec()
    harmony = seqzoo.load_task("tfds:seqzoo_chorales/small", data_dir=data_dir)
    assert isinstance(harmony, TaggingTask) and harmony.shared_vocabulary and harmony.tokenizer == "integers"
    assert (harmony.inputs_feature, harmony.tags_feature) == ("soprano", "bass")
    assert harmony.splits == {"train": "train", "validation": "validation", "test": "test"}
    catalog = seqzoo.load_task("chorales_harmony", data_dir=data_dir, config="small")
    assert harmony.model_spec() == catalog.model_spec()
    (x1, y1), (x2, y2) = (next(task.examples("test").as_numpy_iterator()) for task in (harmony, catalog))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)


def test_builder_config_as_a_task_option(data_dir):
    task = seqzoo.load_task("chorales", data_dir=data_dir, config="small")
    assert task.dataset == "seqzoo_chorales/small" and task.options == {"config": "small"}
    assert [sum(1 for _ in task.raw(split)) for split in ("train", "validation", "test")] == [24, 3, 3]
    with pytest.raises(ValueError, match="Unknown config 'smal'. Did you mean 'small'.*full, small"):
        seqzoo.load_task("chorales", config="smal")
    with pytest.raises(ValueError, match="'seqzoo_names' has no configs; received config='small'"):
        seqzoo.load_task("names", config="small")
    with pytest.raises(ValueError, match="Unknown option 'max_len'. Did you mean 'max_length'"):
        seqzoo.load_task("names", max_len=5)
    with pytest.raises(ValueError, match="max_length must be at least 1, received 0"):
        seqzoo.load_task("names", max_length=0)


@pytest.mark.parametrize(
    "name, packages",
    [("japanese_vowels", ["sktime"]), ("names", ["names"]), ("chorales", ["music21"])],
)
def test_offline_datasets_record_the_packages_that_built_them(data_dir, name, packages):
    options = {"config": "small"} if name == "chorales" else {}
    task = seqzoo.load_task(name, data_dir=data_dir, **options)
    versions = task.data_versions()
    expected = {package: importlib.metadata.version(package) for package in [*packages, "tensorflow-datasets"]}
    assert versions["packages"] == expected
    assert versions["dataset"] == task.info().full_name and versions["dataset"].endswith("/1.1.0")
    # Written beside the data, and read back by a task loaded afresh.
    metadata = os.path.join(data_dir, task.info().full_name, "metadata.json")
    with open(metadata) as file:
        assert json.load(file)["package_versions"] == expected
    assert seqzoo.load_task(name, data_dir=data_dir, **options).data_versions() == versions


def test_a_downloaded_dataset_records_no_packages():
    with tfds.testing.mock_data(num_examples=4):
        assert seqzoo.load_task("imdb_reviews").data_versions() == {
            "dataset": tfds.builder("imdb_reviews").info.full_name,
            "packages": {},
        }
