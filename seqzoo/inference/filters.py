"""Next-token filtering and seeded draws in `keras.ops`, for the compiled decoders.

These are the tensor counterparts of `seqzoo.inference.decoding.filter_logits` (the
NumPy reference): forbidden ids get `-inf`, the logits are divided by the
temperature, then top-k and top-p (nucleus) keep the most likely tokens, ties
going to the lower id as in the reference's stable sort.
"""

import numpy as np
from keras import backend
from keras import ops

TINY = 1e-20  # The smallest uniform draw.


def forbid_mask(vocab_size, forbid):
    """A `(vocab,)` boolean constant, True at the ids a decoder may never emit."""
    mask = np.zeros(vocab_size, bool)
    mask[list(forbid)] = True
    return ops.convert_to_tensor(mask)


def filter_logits(logits, forbid, temperature=None, top_k=None, top_p=None):
    """Logits with `-inf` wherever a decoder may not go, divided by the temperature.

    Args:
        logits: `(batch, vocab)` float logits.
        forbid: ids never allowed (a sequence of ints).
        temperature: `None`, a float or a scalar tensor > 0.
        top_k: `None` or a Python int: keep the `k` most likely tokens.
        top_p: `None` or a Python float in (0, 1]: keep the smallest set of
            most likely tokens whose probability reaches it.

    Returns:
        `(batch, vocab)` float32 logits.

    Example:

    >>> filter_logits(ops.zeros((1, 6)), forbid=(0, 2), top_k=2)
    [[-inf, 0., -inf, 0., -inf, -inf]]
    """
    x = ops.cast(logits, "float32")
    vocab = x.shape[-1]
    x = ops.where(forbid_mask(vocab, forbid)[None, :], -np.inf, x)
    if temperature is not None:
        x = x / ops.cast(temperature, "float32")
    if top_k is not None and top_k < vocab:
        _, indices = ops.top_k(x, top_k)
        x = ops.where(_scatter_true(indices, vocab), x, -np.inf)
    if top_p is not None and top_p < 1:
        probabilities = ops.softmax(x, axis=-1)
        ordered, indices = ops.top_k(probabilities, vocab)
        before = ops.cumsum(ordered, axis=-1) - ordered
        ranks = ops.argsort(indices, axis=-1)  # The inverse permutation: each id's rank.
        keep = ops.take_along_axis(before < top_p, ranks, axis=-1)
        x = ops.where(keep, x, -np.inf)
    return x


def restrict(logits, pattern, states):
    """Logits with `-inf` at the ids a `seqzoo.tasks.patterns.TokenPattern` does not allow in each row's state.

    Args:
        logits: `(batch, vocab)` float logits.
        pattern: the `TokenPattern`, or `None` (the logits as they are).
        states: `(batch,)` int32, each row's state of the pattern.
    """
    if pattern is None:
        return logits
    allowed = ops.take(ops.convert_to_tensor(pattern.allowed), states, axis=0)
    return ops.where(allowed, ops.cast(logits, "float32"), -np.inf)


def advance(pattern, states, tokens):
    """Each row's pattern state after its token (`(batch,)` int32 both; `pattern=None`: the states as they are)."""
    if pattern is None:
        return states
    transitions = ops.convert_to_tensor(pattern.transitions.reshape(-1))
    return ops.take(transitions, states * pattern.transitions.shape[1] + ops.cast(tokens, "int32"), axis=0)


def _scatter_true(indices, vocab):
    """`(batch, k)` ids -> `(batch, vocab)` booleans, True at those ids."""
    return ops.any(ops.equal(ops.expand_dims(indices, -1), ops.arange(vocab, dtype=indices.dtype)), axis=1)


def log_softmax(x):
    """A log-softmax that keeps `-inf` where the logits are `-inf`."""
    return x - ops.logsumexp(x, axis=-1, keepdims=True)


def uniform(shape, seed, step):
    """Stateless uniform draws in `[TINY, 1)`: the same `(seed, step)` gives the same numbers.

    Args:
        shape: the output shape.
        seed: an integer scalar (a tensor inside a compiled loop).
        step: an integer scalar, the loop's counter.
    """
    name = backend.backend()
    if name == "tensorflow":
        import tensorflow as tf

        pair = tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)])
        return tf.random.stateless_uniform(shape, seed=pair, minval=TINY, maxval=1.0)
    if name == "jax":
        import jax

        key = jax.random.fold_in(jax.random.key(seed), step)
        return jax.random.uniform(key, shape, minval=TINY, maxval=1.0)
    import torch

    generator = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(step))
    return ops.clip(ops.convert_to_tensor(torch.rand(tuple(shape), generator=generator)), TINY, 1.0)


def draw(filtered, seed, step):
    """One token per row from `softmax(filtered)`, by inverting its cumulative distribution.

    One uniform draw `u` per row (not one per id, as the Gumbel-max trick
    needs): the token is the first id whose cumulative probability exceeds
    `u`, as in the reference `seqzoo.inference.decoding.sample`. Ids at `-inf` have no
    mass and are never drawn.
    """
    cumulative = ops.cumsum(ops.softmax(filtered, axis=-1), axis=-1)
    total = cumulative[:, -1:]
    # u < 1, but u * total may round up to total in float32: stay a hair below it.
    threshold = ops.minimum(uniform((ops.shape(filtered)[0], 1), seed, step) * total, total * (1 - 2**-20))
    return ops.cast(ops.argmax(cumulative > threshold, axis=-1), "int32")
