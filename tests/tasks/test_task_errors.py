"""A user's mistakes with tasks: clear `ValueError`s that say what was received and what is allowed."""

import pytest
import tensorflow_datasets as tfds

import seqzoo
from seqzoo.tasks import DatasetUnavailableError
from seqzoo.tasks.catalog import OFFLINE_TASKS


def test_unknown_task_suggests_the_closest():
    with pytest.raises(ValueError, match="Unknown task 'japanese_vowel'") as error:
        seqzoo.load_task("japanese_vowel")
    message = str(error.value)
    assert "Did you mean 'japanese_vowels'" in message
    assert all(name in message for name in seqzoo.list_tasks())  # what is allowed


def test_generic_task_without_topology():
    # conll2003 has no supervised_keys to read the topology from.
    with pytest.raises(ValueError, match="tfds:conll2003") as error:
        seqzoo.load_task("tfds:conll2003")
    assert "topology" in str(error.value) and "many_to_one" in str(error.value)


def test_generic_task_unknown_topology():
    with pytest.raises(ValueError, match="Unknown topology 'many_to_won'. Did you mean 'many_to_one'"):
        seqzoo.load_task("tfds:imdb_reviews", topology="many_to_won", inputs_feature="text", label_feature="label")


def test_generic_task_missing_feature():
    with pytest.raises(ValueError, match="label_feature"):
        seqzoo.load_task("tfds:conll2003", topology="many_to_one", inputs_feature="tokens")


def test_unknown_task_names_the_data_tasks():
    with pytest.raises(ValueError, match="Unknown task 'cvs:data.csv'.*csv:PATH.*folder:PATH.*tfds:NAME"):
        seqzoo.load_task("cvs:data.csv")
    with pytest.raises(ValueError, match="Task 'csv' needs a path after 'csv:', e.g. 'csv:my_texts.csv'"):
        seqzoo.load_task("csv")


def test_options_must_be_json():
    with pytest.raises(ValueError, match="options must be JSON values"):
        seqzoo.load_task("names", max_length=object())


def test_unknown_split(data_dir):
    task = seqzoo.load_task("japanese_vowels", data_dir=data_dir)
    with pytest.raises(ValueError, match="Unknown split 'dev'.*train, validation, test"):
        task.raw("dev")


def test_bidirectional_model_cannot_be_a_language_model(data_dir):
    task = seqzoo.load_task("names", data_dir=data_dir)
    with pytest.raises(ValueError, match="language_model") as error:
        seqzoo.build("lstm_bi", task=task, **{"backbone.units": 8})
    assert "bidirectional" in str(error.value) and "received backbone.bidirectional=True" in str(error.value)
    # The same backbone read one way fits.
    model = seqzoo.build("lstm_uni", task=task, **{"backbone.units": 8})
    assert model.seqzoo_config["topology"] == "language_model"


def test_bidirectional_model_cannot_generate_from_a_condition(data_dir):
    task = seqzoo.load_task("names_by_gender", data_dir=data_dir)
    with pytest.raises(ValueError, match="one_to_many.*bidirectional"):
        seqzoo.build("gru_bi", task=task, **{"backbone.units": 8})


def test_no_network_and_no_data_dir_names_the_offline_tasks(monkeypatch, tmp_path):
    def no_network(builder, *args, **kwargs):
        raise ConnectionError(f"Failed to download {builder.name}: [Errno 101] Network is unreachable")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_network)
    task = seqzoo.load_task("imdb_reviews", data_dir=str(tmp_path))
    with pytest.raises(DatasetUnavailableError) as error:
        task.model_spec()  # needs the training split for the vocabulary
    assert isinstance(error.value, ValueError)
    message = str(error.value)
    assert "'imdb_reviews'" in message and str(tmp_path) in message  # what was asked for
    assert "ConnectionError" in message and "Network is unreachable" in message  # what went wrong
    assert all(name in message for name in OFFLINE_TASKS)  # what works offline
    assert isinstance(error.value.__cause__, ConnectionError)


def test_no_network_for_a_generic_task(monkeypatch):
    def no_network(builder, *args, **kwargs):
        raise tfds.core.download.DownloadError(f"Failed to get url for {builder.name}")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_network)
    task = seqzoo.load_task(
        "tfds:ag_news_subset", topology="many_to_one", inputs_feature="title", label_feature="label"
    )
    with pytest.raises(
        DatasetUnavailableError, match="'ag_news_subset' from data_dir=None.*offline task: japanese_vowels"
    ):
        list(task.batches("train"))
