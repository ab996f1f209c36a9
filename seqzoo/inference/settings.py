"""Decoding settings shared by every decoder, and the NumPy reference of the next-token distribution.

Settings: the ids never emitted, prefixes per row (their checks are in
`seqzoo.inference.checks`, which loads no Keras). The
distribution: `filter_logits` (forbidden ids, temperature, top-k, top-p) and
`next_token_log_probabilities`, the definitions that
`seqzoo.inference.filters` computes in `keras.ops`.

`seqzoo.inference.decoding` (the NumPy reference decoders), `seqzoo.inference.loop`
(the compiled ones), `seqzoo.inference.export` and `seqzoo.generation` all read
their settings through here, so a bad value gets the same message everywhere.

Example:

>>> forbidden_ids(forbid_unk=True)
(0, 2, 1)
"""

import numpy as np

from seqzoo.inference.checks import check_settings
from seqzoo.inference.checks import is_int
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.tasks.vocabulary import PAD_ID
from seqzoo.tasks.vocabulary import UNK_ID

NEVER = (PAD_ID, BOS_ID)
DEFAULT_MAX_LENGTH = 100
DEFAULT_LENGTH_PENALTY = 0.7


# -- checking settings ----------------------------------------------------------


def forbidden_ids(forbid_unk=False):
    """The ids a decoder never emits: padding and BOS, and UNK if `forbid_unk`."""
    return NEVER + ((UNK_ID,) if forbid_unk else ())


def prefix_rows(prefix, batch_size):
    """`None`, one id list for every row, or one id list per row -> a list per row."""
    if prefix is None:
        return [[] for _ in range(batch_size)]
    rows = list(prefix)
    if all(is_int(token) or (isinstance(token, np.integer)) for token in rows):
        rows = [rows] * batch_size
    if len(rows) != batch_size:
        raise ValueError(f"Received {len(rows)} prefixes for a batch of {batch_size}; give one, or one per sequence.")
    rows = [[int(token) for token in row] for row in rows]
    bad = sorted({token for row in rows for token in row if token in NEVER or token == EOS_ID or token < 0})
    if bad:
        raise ValueError(f"Received prefix ids {bad}; a prefix may not hold padding (0), BOS (2) or EOS (3).")
    return rows


# -- the next-token distribution (NumPy reference) ------------------------------------------


def _log_softmax(x):
    top = np.max(x, axis=-1, keepdims=True)
    shifted = x - top
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def filter_logits(logits, temperature=1.0, top_k=None, top_p=None, forbid=NEVER):
    """Logits with `-inf` wherever a decoder may not go, divided by the temperature.

    Args:
        logits: `(batch, vocab)` next-token logits.
        temperature: > 0; divides the logits (lower is more conservative).
        top_k: keep only the `k` most likely tokens (ties: the lower id).
        top_p: keep the smallest set of most likely tokens whose probability
            reaches `top_p` (the nucleus), after the temperature and top-k.
        forbid: ids never allowed (by default padding and BOS).

    Returns:
        A float64 NumPy array of the same shape.
    """
    check_settings(temperature=temperature, top_k=top_k, top_p=top_p)
    x = np.array(logits, dtype="float64")
    if forbid:
        x[..., list(forbid)] = -np.inf
    x = x / temperature
    vocab = x.shape[-1]
    if top_k is not None and top_k < vocab:
        order = np.argsort(-x, axis=-1, kind="stable")
        keep = np.zeros(x.shape, bool)
        np.put_along_axis(keep, order[..., :top_k], True, axis=-1)
        x = np.where(keep, x, -np.inf)
    if top_p is not None and top_p < 1:
        probabilities = np.exp(_log_softmax(x))
        order = np.argsort(-probabilities, axis=-1, kind="stable")
        sorted_probabilities = np.take_along_axis(probabilities, order, axis=-1)
        before = np.cumsum(sorted_probabilities, axis=-1) - sorted_probabilities
        keep = np.zeros(x.shape, bool)
        np.put_along_axis(keep, order, before < top_p, axis=-1)
        x = np.where(keep, x, -np.inf)
    return x


def next_token_log_probabilities(logits, temperature=1.0, top_k=None, top_p=None, forbid=NEVER):
    """The log-distribution a decoder draws the next token from (see `filter_logits`).

    Returns:
        `(batch, vocab)` float64 log-probabilities, `-inf` where not allowed.
    """
    return _log_softmax(filter_logits(logits, temperature, top_k, top_p, forbid))


def next_token_probabilities(logits, temperature=1.0, top_k=None, top_p=None, forbid=NEVER):
    """`exp(next_token_log_probabilities(...))`: each row sums to 1."""
    return np.exp(next_token_log_probabilities(logits, temperature, top_k, top_p, forbid))
