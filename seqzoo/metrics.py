"""Task metrics computed from predictions: the numbers `evaluate` reports."""

import math

import numpy as np


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def token_nll(logits, targets):
    """Sum of -ln P(target) over non-padding targets (id != 0), and their count."""
    targets = np.asarray(targets)
    log_probs = np.take_along_axis(log_softmax(np.asarray(logits, "float64")), targets[..., None], -1)[..., 0]
    keep = targets != 0
    return float(-(log_probs * keep).sum()), int(keep.sum())


def language_model_metrics(nll_sum, count):
    """Perplexity exp(mean NLL) and bits per token (per character, for characters)."""
    mean = nll_sum / max(count, 1)
    return {"perplexity": math.exp(mean), "bits_per_token": mean / math.log(2), "tokens": count}


def masked_accuracy(predicted, targets, mask):
    """The fraction of positions in `mask` where `predicted == targets`."""
    mask = np.asarray(mask, bool)
    return float((np.asarray(predicted) == np.asarray(targets))[mask].mean())


def entity_spans(tags):
    """The set of `(type, start, end)` entities in one IOB2 tag sequence (strings)."""
    spans, start, kind = set(), None, None
    for index, tag in enumerate(list(tags) + ["O"]):
        inside = tag.startswith("I-") and kind == tag[2:]
        if start is not None and not inside:
            spans.add((kind, start, index))
            start, kind = None, None
        if tag.startswith("B-") or (tag.startswith("I-") and start is None):
            start, kind = index, tag[2:]
    return spans


def entity_f1(true_sequences, predicted_sequences):
    """Entity-level precision, recall and F1 (CoNLL): an entity counts only if exact."""
    true_count = predicted_count = correct = 0
    for true_tags, predicted_tags in zip(true_sequences, predicted_sequences):
        truth, guess = entity_spans(true_tags), entity_spans(predicted_tags)
        true_count, predicted_count, correct = (
            true_count + len(truth),
            predicted_count + len(guess),
            correct + len(truth & guess),
        )
    precision = correct / predicted_count if predicted_count else 0.0
    recall = correct / true_count if true_count else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"entity_precision": precision, "entity_recall": recall, "entity_f1": f1}


def exact_match(true_sequences, predicted_sequences):
    """The fraction of sequences predicted exactly."""
    pairs = list(zip(true_sequences, predicted_sequences))
    return sum(list(t) == list(p) for t, p in pairs) / max(len(pairs), 1)
