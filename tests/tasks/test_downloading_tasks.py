"""The downloading tasks, end to end on `tfds.testing.mock_data` (no network).

Each test loads the task, builds a tiny named model for it, trains one epoch
into a temporary run folder and reads the task's metrics back, from
`metrics.json` and from `seqzoo.evaluate(run)`.
"""

import csv
import json
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import seqzoo

NER_NAMES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
FIRST, LAST = ["john", "mary", "anna", "paul"], ["smith", "jones", "brown"]
PLACES, COMPANIES = ["paris", "berlin", "rome", "lima"], ["acme", "nasa", "fifa"]
FILLERS = ["the", "visited", "in", "and", "said", "today", "a", "with", "from", "met"]


def conll_sentence(rng):
    """A CoNLL-like sentence whose tags follow from its words: tokens, IOB2 tags."""
    tokens, tags = [], []
    for _ in range(rng.integers(2, 6)):
        kind = rng.integers(0, 4)
        if kind == 0:
            tokens += [str(rng.choice(FIRST)), str(rng.choice(LAST))]
            tags += ["B-PER", "I-PER"]
        elif kind == 1:
            tokens.append(str(rng.choice(PLACES)))
            tags.append("B-LOC")
        elif kind == 2:
            tokens.append(str(rng.choice(COMPANIES)))
            tags.append("B-ORG")
        else:
            tokens.append(str(rng.choice(FILLERS)))
            tags.append("O")
    return tokens, tags


SPLIT_SEEDS = {"train": 0, "dev": 1, "test": 2}


def conll_examples(split, count):
    rng = np.random.default_rng(SPLIT_SEEDS[split])
    return [conll_sentence(rng) for _ in range(count)]


def conll_as_dataset(count):
    """A `mock_data(as_dataset_fn=...)` for conll2003 with tags aligned to tokens.

    TFDS's random mock draws every sequence feature with its own length, so
    its tokens and NER tags would not line up.
    """

    def as_dataset(self, split, *args, **kwargs):
        name = str(split).split("[")[0]
        sentences = conll_examples(name, count)

        def generate():
            for tokens, tags in sentences:
                yield {
                    "tokens": [token.title() for token in tokens],
                    "ner": [NER_NAMES.index(tag) for tag in tags],
                    "pos": [0] * len(tokens),
                    "chunks": [0] * len(tokens),
                }

        specs = {
            "tokens": tf.TensorSpec([None], tf.string),
            "ner": tf.TensorSpec([None], tf.int64),
            "pos": tf.TensorSpec([None], tf.int64),
            "chunks": tf.TensorSpec([None], tf.int64),
        }
        return tf.data.Dataset.from_generator(generate, output_signature=specs)

    return as_dataset


def read_history(run):
    with open(os.path.join(run, "history.csv")) as file:
        return list(csv.DictReader(file))


def train_tiny(model_name, task, out, epochs=1, batch_size=8, **overrides):
    overrides = {"backbone.units": 8, **overrides}
    run = seqzoo.train(model_name, task, epochs=epochs, batch_size=batch_size, out=str(out), verbose=0, **overrides)
    assert run == str(out)
    with open(os.path.join(run, "metrics.json")) as file:
        results = json.load(file)
    assert [int(row["epoch"]) for row in read_history(run)] == list(range(epochs))
    assert all(math.isfinite(value) for value in results.values())
    assert not [name for name in os.listdir(run) if name.startswith(".")]  # no half-written files
    return run, results


def assert_same_metrics(run, results, batch_size=8):
    """`seqzoo.evaluate(run)` (model.keras, the run's vocabularies) reproduces metrics.json.

    With the batch size of training: Keras averages accuracy and loss over
    batches, so bucketed batches of other lengths weigh tokens differently.
    """
    again = seqzoo.evaluate(run, batch_size=batch_size)
    assert set(again) == set(results)
    for key, value in results.items():
        assert again[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key


def test_imdb_reviews(tmp_path):
    with tfds.testing.mock_data(num_examples=24):
        task = seqzoo.load_task("imdb_reviews")
        spec = task.model_spec()
        # Mock reviews are words of the letters a-j: a few dozen distinct words.
        assert spec["topology"] == "many_to_one" and spec["outputs"] == {"type": "classes", "size": 2}
        assert spec["inputs"]["type"] == "tokens" and 5 < spec["inputs"]["vocab_size"] < 200
        run, results = train_tiny("gru_uni", task, tmp_path / "run", **{"inputs.embedding_dim": 8})
        assert set(results) == {"loss", "accuracy"}
        assert 0.0 <= results["accuracy"] <= 1.0
        assert_same_metrics(run, results)


def test_conll2003(tmp_path):
    count = 64
    keras.utils.set_random_seed(0)
    with tfds.testing.mock_data(as_dataset_fn=conll_as_dataset(count)):
        task = seqzoo.load_task("conll2003")
        assert task.tag_names() == NER_NAMES
        vocabulary_size = len(set(FIRST + LAST + PLACES + COMPANIES + FILLERS)) + 4
        assert task.model_spec() == {
            "topology": "many_to_many",
            "inputs": {"type": "tokens", "vocab_size": vocabulary_size},
            "outputs": {"type": "classes", "size": 9},
        }
        x, y, _ = next(iter(task.batches("train", 8)))
        assert x.shape == y.shape
        run, results = train_tiny(
            "lstm_bi_tagger",
            task,
            tmp_path / "run",
            epochs=6,
            **{"backbone.units": 16, "inputs.embedding_dim": 16, "optimizer.learning_rate": 0.03},
        )
        assert set(results) == {
            "loss",
            "accuracy",
            "token_accuracy",
            "majority_baseline",
            "entity_precision",
            "entity_recall",
            "entity_f1",
        }
        # The majority-tag baseline, counted by hand on the test sentences.
        tags = [tag for _, sentence_tags in conll_examples("test", count) for tag in sentence_tags]
        assert results["majority_baseline"] == pytest.approx(max(map(tags.count, NER_NAMES)) / len(tags))
        p, r = results["entity_precision"], results["entity_recall"]
        assert results["entity_f1"] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0)
        # Tags follow from the words: a few epochs find most entities.
        assert results["entity_f1"] > 0.5
        assert results["token_accuracy"] > results["majority_baseline"]
        assert_same_metrics(run, results)


def test_tiny_shakespeare(tmp_path):
    with tfds.testing.mock_data(num_examples=40):
        task = seqzoo.load_task("tiny_shakespeare")
        # Mock text: the characters " abcdefghij" (11) plus 4 specials.
        assert task.model_spec() == {"topology": "language_model", "inputs": {"type": "tokens", "vocab_size": 15}}
        for x, y in task.examples("train").as_numpy_iterator():
            assert len(x) == len(y) == 100
            np.testing.assert_array_equal(x[1:], y[:-1])  # windows of one stream, shifted by one
        run, results = train_tiny("gru_char_lm", task, tmp_path / "run", **{"inputs.embedding_dim": 8})
        assert set(results) == {"loss", "accuracy", "perplexity", "bits_per_token", "tokens"}
        assert results["bits_per_token"] == pytest.approx(math.log2(results["perplexity"]))
        assert math.log(results["perplexity"]) == pytest.approx(results["loss"], rel=1e-3)
        windows = sum(1 for _ in task.examples("test"))
        assert results["tokens"] == 100 * windows > 0
        assert 1.0 < results["perplexity"] < 15 * 1.5  # near or below uniform over the vocabulary
        assert_same_metrics(run, results)


def test_ted_hrlr_translate_pt_to_en(tmp_path):
    with tfds.testing.mock_data(num_examples=16):
        task = seqzoo.load_task("ted_hrlr_translate/pt_to_en")
        spec = task.model_spec()
        assert spec["topology"] == "encoder_decoder"
        x, y = next(task.examples("train").as_numpy_iterator())
        np.testing.assert_array_equal(x["decoder_inputs"][1:], y[:-1])
        assert x["decoder_inputs"][0] == 2 and y[-1] == 3
        run, results = train_tiny(
            "lstm_seq2seq", task, tmp_path / "run", **{"inputs.embedding_dim": 8, "targets.embedding_dim": 8}
        )
        assert set(results) == {"loss", "accuracy", "exact_match"}
        assert 0.0 <= results["exact_match"] <= 1.0
        assert_same_metrics(run, results)


def test_generic_tfds_task(tmp_path):
    options = dict(topology="many_to_one", inputs_feature="description", label_feature="label", tokenizer="words")
    with tfds.testing.mock_data(num_examples=24):
        task = seqzoo.load_task("tfds:ag_news_subset", **options)
        assert task.name == "tfds:ag_news_subset"
        spec = task.model_spec()
        assert spec["topology"] == "many_to_one" and spec["outputs"] == {"type": "classes", "size": 4}
        run, results = train_tiny("lstm_uni", task, tmp_path / "run", **{"inputs.embedding_dim": 8})
        assert set(results) == {"loss", "accuracy"}
        # A generic task's run can be evaluated again: its options are recorded.
        assert_same_metrics(run, results)
