"""seqzoo.metrics against values computed by hand on tiny cases."""

import math

import keras
import numpy as np
import pytest

from seqzoo import metrics


def log_softmax_by_hand(row, index):
    return row[index] - math.log(sum(math.exp(value) for value in row))


def test_token_nll_sums_over_non_padding_targets():
    logits = [[[2.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 3.0, -1.0]]]
    targets = [[1, 2, 0]]  # the last step is padding
    nll, count = metrics.token_nll(np.array(logits), np.array(targets))
    expected = -log_softmax_by_hand([2.0, 1.0, 0.0], 1) - log_softmax_by_hand([0.0, 0.0, 0.0], 2)
    assert count == 2
    assert nll == pytest.approx(expected, rel=1e-12)
    assert nll == pytest.approx(-(1.0 - math.log(math.e**2 + math.e + 1.0)) + math.log(3.0), rel=1e-12)


def test_token_nll_over_a_batch_matches_keras_crossentropy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 5, 7)).astype("float32")
    targets = rng.integers(1, 7, size=(3, 5))
    targets[0, 3:] = 0
    targets[2, 1:] = 0
    nll, count = metrics.token_nll(logits, targets)
    keep = targets != 0
    per_token = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    assert count == int(keep.sum()) == 5 + 3 + 1
    assert nll == pytest.approx(float(np.asarray(per_token)[keep].sum()), rel=1e-5)


def test_token_nll_is_stable_for_large_logits():
    logits = np.array([[[1000.0, 0.0], [1000.0, 0.0]]])
    nll, count = metrics.token_nll(logits, np.array([[1, 1]]))
    # Target 1 both times: -ln softmax = 1000 each (no overflow to inf or nan).
    assert (nll, count) == (pytest.approx(2000.0), 2)
    nll, _ = metrics.token_nll(np.array([[[0.0, 1000.0]]]), np.array([[1]]))
    assert nll == pytest.approx(0.0, abs=1e-12)


def test_perplexity_and_bits_of_a_uniform_model():
    # Uniform over 4 tokens: NLL = ln 4 per token, perplexity 4, exactly 2 bits.
    logits = np.zeros((2, 3, 4))
    nll, count = metrics.token_nll(logits, np.array([[1, 2, 3], [3, 0, 0]]))
    assert count == 4 and nll == pytest.approx(4 * math.log(4))
    values = metrics.language_model_metrics(nll, count)
    assert values["perplexity"] == pytest.approx(4.0)
    assert values["bits_per_token"] == pytest.approx(2.0)
    assert values["tokens"] == 4


def test_language_model_metrics_by_hand():
    values = metrics.language_model_metrics(nll_sum=6.0, count=4)
    assert values["perplexity"] == pytest.approx(math.exp(1.5))
    assert values["bits_per_token"] == pytest.approx(1.5 / math.log(2))
    assert values["bits_per_token"] == pytest.approx(math.log2(values["perplexity"]))


def test_masked_accuracy():
    predicted = [1, 2, 3, 4, 5]
    targets = [1, 0, 3, 0, 5]
    assert metrics.masked_accuracy(predicted, targets, [1, 1, 1, 0, 0]) == pytest.approx(2 / 3)
    assert metrics.masked_accuracy(predicted, targets, [0, 1, 0, 1, 0]) == 0.0
    assert metrics.masked_accuracy(np.array([[1, 2], [3, 4]]), np.array([[1, 2], [0, 4]]), np.ones((2, 2))) == 0.75


@pytest.mark.parametrize(
    "tags, spans",
    [
        (["B-PER", "I-PER", "O", "B-LOC"], {("PER", 0, 2), ("LOC", 3, 4)}),
        (["O", "O"], set()),
        (["B-PER", "B-PER"], {("PER", 0, 1), ("PER", 1, 2)}),  # two adjacent entities
        (["B-PER", "I-LOC", "I-LOC"], {("PER", 0, 1), ("LOC", 1, 3)}),  # a type change starts an entity
        (["I-ORG", "I-ORG", "O"], {("ORG", 0, 2)}),  # I- without B- starts one (as conlleval)
        (["B-MISC", "I-MISC", "I-MISC"], {("MISC", 0, 3)}),  # an entity that runs to the end
    ],
)
def test_entity_spans(tags, spans):
    assert metrics.entity_spans(tags) == spans


def test_entity_f1_counts_only_exact_entities():
    truth = [
        ["B-PER", "I-PER", "O", "B-LOC"],  # PER(0,2), LOC(3,4)
        ["B-ORG", "O", "B-MISC"],  # ORG(0,1), MISC(2,3)
    ]
    predicted = [
        ["B-PER", "O", "O", "B-LOC"],  # PER(0,1) only overlaps the true PER: wrong; LOC right
        ["B-ORG", "B-LOC", "B-PER"],  # ORG right; LOC spurious; PER at MISC's place: wrong type
    ]
    # 4 true entities, 5 predicted, 2 correct.
    values = metrics.entity_f1(truth, predicted)
    precision, recall = 2 / 5, 2 / 4
    assert values["entity_precision"] == pytest.approx(precision)
    assert values["entity_recall"] == pytest.approx(recall)
    assert values["entity_f1"] == pytest.approx(2 * precision * recall / (precision + recall))
    assert values["entity_f1"] == pytest.approx(4 / 9)


def test_entity_f1_perfect_and_empty():
    truth = [["B-PER", "I-PER", "O"], ["O", "B-LOC"]]
    assert metrics.entity_f1(truth, truth) == {"entity_precision": 1.0, "entity_recall": 1.0, "entity_f1": 1.0}
    nothing = [["O", "O", "O"], ["O", "O"]]
    assert metrics.entity_f1(truth, nothing) == {"entity_precision": 0.0, "entity_recall": 0.0, "entity_f1": 0.0}


def test_exact_match():
    truth = [[5, 6, 7], [8], [9, 9]]
    assert metrics.exact_match(truth, [[5, 6, 7], [8, 4], [9, 9]]) == pytest.approx(2 / 3)
    assert metrics.exact_match([np.array([1, 2])], [[1, 2]]) == 1.0
    assert metrics.exact_match([[1, 2]], [[1]]) == 0.0  # a prefix is not a match
    assert metrics.exact_match([], []) == 0.0
