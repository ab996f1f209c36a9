"""Greedy, sampling and beam search with the whole decoding loop compiled as one call.

Each decoder is a `keras.ops.while_loop` over the recurrent state of a
`seqzoo.architectures.Stepper`, run under `tf.function(jit_compile=True)` on
TensorFlow and `jax.jit` on JAX (elsewhere the same loop runs on the host).
Nothing leaves the graph between tokens: the pick (argmax, a seeded draw,
or the beam x vocabulary ranking), per-row EOS stopping and forced
prefixes are all tensor ops. The results are those of the NumPy reference decoders
in `seqzoo.inference.decoding` (greedy and beam search token for token), which the
tests check.

The traceable cores (`sampling_loop`, `beam_loop`) take tensors and return
tensors, so `seqzoo.inference.export` puts them in a SavedModel; `greedy`,
`sample` and `beam_search` here wrap them with the reference decoders'
signatures and return Python lists.

Example:

>>> stepper = Stepper(model)
>>> sample(stepper, stepper.start(batch_size=2), 2, max_length=20, temperature=0.8, seed=0)
[[17, 4, 9], [5, 21]]
"""

import numpy as np
from keras import backend
from keras import ops
from keras import tree

from seqzoo.inference.checks import check_settings
from seqzoo.inference.filters import advance
from seqzoo.inference.filters import draw
from seqzoo.inference.filters import filter_logits
from seqzoo.inference.filters import log_softmax
from seqzoo.inference.filters import restrict
from seqzoo.inference.settings import DEFAULT_LENGTH_PENALTY
from seqzoo.inference.settings import forbidden_ids
from seqzoo.inference.settings import prefix_rows
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID

# -- the traceable cores ----------------------------------------------------------------


def _prefix_column(prefix, t):
    """Column `t` of the `(batch, P)` prefix ids (zeros past its width)."""
    width = ops.shape(prefix)[1]
    return ops.take(prefix, ops.minimum(t, width - 1), axis=1)


def sampling_loop(stepper, cache, prefix, prefix_lengths, max_length, pick, pattern=None):
    """Feeds BOS, then the prefix (forced), then `pick(logits, t)` until EOS or `max_length` new tokens.

    Args:
        stepper: a `Stepper`.
        cache: from `stepper.start(...)`, one row per sequence.
        prefix: `(batch, P)` int32 ids, P >= 1, padded with zeros.
        prefix_lengths: `(batch,)` int32, each row's prefix length.
        max_length: a Python int, the most new tokens per row.
        pick: `(logits, t) -> (batch,)` int32 ids.
        pattern: optional `seqzoo.tasks.patterns.TokenPattern` that every
            sequence keeps to (the ids it does not allow get `-inf`).

    Returns:
        `(ids, lengths)`: `(batch, P + max_length)` int32 ids (the prefix, then
        the new tokens, without BOS and EOS) and each row's length.
    """
    batch = ops.shape(prefix)[0]
    total = ops.max(prefix_lengths) + max_length
    output = ops.zeros((batch, ops.shape(prefix)[1] + max_length), "int32")
    start = (
        ops.convert_to_tensor(0, "int32"),
        ops.full((batch,), BOS_ID, "int32"),
        cache["states"],
        output,
        ops.zeros((batch,), "bool"),
        ops.zeros((batch,), "int32"),
        ops.zeros((batch,), "int32"),  # Each row's state of the pattern.
    )

    def condition(t, tokens, states, output, finished, new, followed):
        return ops.logical_and(t < total, ops.logical_not(ops.all(finished)))

    def body(t, tokens, states, output, finished, new, followed):
        logits, stepped = stepper.next(tokens, {**cache, "states": states})
        logits = restrict(logits, pattern, followed)
        forced = t < prefix_lengths
        tokens = ops.where(forced, _prefix_column(prefix, t), pick(logits, t))
        followed = advance(pattern, followed, tokens)
        active = ops.logical_and(ops.logical_not(forced), ops.logical_not(finished))
        written = ops.logical_and(active, tokens != EOS_ID)
        keep = ops.logical_or(forced, written)
        output = ops.slice_update(output, (0, t), ops.expand_dims(ops.where(keep, tokens, 0), 1))
        new = new + ops.cast(written, "int32")
        ended = ops.logical_and(active, ops.logical_or(tokens == EOS_ID, new >= max_length))
        return (t + 1, tokens, stepped["states"], output, ops.logical_or(finished, ended), new, followed)

    *_, output, _, new, _ = ops.while_loop(condition, body, start)
    return output, prefix_lengths + new


def greedy_pick(forbid):
    """The argmax over allowed ids."""
    return lambda logits, t: ops.cast(ops.argmax(filter_logits(logits, forbid), axis=-1), "int32")


def sampling_pick(forbid, temperature, top_k, top_p, seed):
    """A seeded draw from the filtered distribution (the same seed and step, the same draw)."""
    return lambda logits, t: draw(filter_logits(logits, forbid, temperature, top_k, top_p), seed, t)


def _top_k(x, k):
    """`ops.top_k` on `(batch, n)`, ties to the lower index; by `k` masked argmaxes for a small Python `k`.

    XLA:CPU sorts a row to find its top k; a few vectorized argmaxes are much
    cheaper for the handful beam search needs. Entries past the last finite
    value repeat an index with value `-inf`.
    """
    if not isinstance(k, int) or k > 16:
        values, indices = ops.top_k(x, k)
        return values, ops.cast(indices, "int32")
    positions = ops.arange(x.shape[-1], dtype="int32")[None, :]
    values, indices = [], []
    for _ in range(k):
        index = ops.cast(ops.argmax(x, axis=-1), "int32")[:, None]
        values.append(ops.take_along_axis(x, index, axis=1))
        indices.append(index)
        x = ops.where(positions == index, -np.inf, x)
    return ops.concatenate(values, axis=1), ops.concatenate(indices, axis=1)


def beam_loop(stepper, cache, prefix, prefix_lengths, max_length, width, length_penalty, forbid, pattern=None):
    """Beam search over `width` beams per row, the reference algorithm of `seqzoo.inference.decoding.beam_search`.

    Args:
        stepper, prefix, prefix_lengths, max_length: as in `sampling_loop`;
            `cache` holds one row per sequence (repeated `width` times here).
        width: a Python int, the beams per row (on TensorFlow, outside XLA,
            also a scalar tensor).
        length_penalty: the exponent of the length normalization.
        forbid: ids never allowed.
        pattern: as in `sampling_loop`, followed by every beam.

    Returns:
        `(scores, ids, lengths)`: each row's finished hypotheses, best first,
        `(batch, width)` length-normalized scores (`-inf` where fewer were
        finished), `(batch, width, P + max_length)` ids and `(batch, width)`
        lengths.
    """
    batch = ops.shape(prefix)[0]
    size = ops.shape(prefix)[1] + max_length
    total = ops.max(prefix_lengths) + max_length
    states = tree.map_structure(lambda x: ops.repeat(x, width, axis=0), cache["states"])
    cache = tree.map_structure(
        lambda x: ops.repeat(x, width, axis=0), {k: v for k, v in cache.items() if k != "states"}
    )
    slots = ops.arange(width, dtype="int32")
    first = ops.cast(ops.where(slots == 0, 0.0, -np.inf), "float32")  # All beams start equal: expand only the first.
    # Each beam's history is kept as parent pointers: column t holds every slot's token and the slot it came
    # from, so a step writes O(batch x width), and a finished hypothesis is (score, length, last slot),
    # traced back once at the end.
    start = (
        ops.convert_to_tensor(0, "int32"),
        ops.full((batch * width,), BOS_ID, "int32"),
        states,
        ops.tile(first[None, :], (batch, 1)),
        ops.zeros((batch, width, size), "int32"),  # tokens
        ops.zeros((batch, width, size), "int32"),  # parents
        ops.full((batch, width), -np.inf, "float32"),  # finished: scores
        ops.zeros((batch, width), "int32"),  # finished: lengths
        ops.zeros((batch, width), "int32"),  # finished: the slot of their last token
        ops.zeros((batch,), "bool"),
        ops.zeros((batch * width,), "int32"),  # Each beam's state of the pattern.
    )

    def condition(t, tokens, states, scores, history, parents, final, final_lengths, final_slots, done, followed):
        return ops.logical_and(t < total, ops.logical_not(ops.all(done)))

    def body(t, tokens, states, scores, history, parents, final, final_lengths, final_slots, done, followed):
        logits, stepped = stepper.next(tokens, {**cache, "states": states})
        logits = restrict(logits, pattern, followed)
        vocab = logits.shape[-1]
        log_p = ops.reshape(log_softmax(filter_logits(logits, forbid)), (batch, width, vocab))
        forced = t < prefix_lengths
        active = ops.logical_and(ops.logical_not(forced), ops.logical_not(done))
        norm = ops.power(ops.cast(ops.maximum(t - prefix_lengths + 1, 1), "float32"), length_penalty)[:, None]
        values, index = _top_k(ops.reshape(scores[:, :, None] + log_p, (batch, width * vocab)), 2 * width)
        source, token = index // vocab, index % vocab
        valid = values > -np.inf
        eos = ops.logical_and(valid, token == EOS_ID)
        # EOS among the best `width` candidates: finished hypotheses (the source beam's t tokens, without EOS).
        eos_scores = ops.where(eos[:, :width], values[:, :width] / norm, -np.inf)
        # The best `width` others continue, in rank order.
        rank = ops.arange(2 * width, dtype="int32")[None, :]
        keys = ops.where(ops.logical_and(valid, ops.logical_not(eos)), rank, 2 * width + rank)
        _, order = _top_k(-ops.cast(keys, "float32"), width)
        alive = ops.take_along_axis(ops.logical_and(valid, ops.logical_not(eos)), order, axis=1)
        new_scores = ops.where(alive, ops.take_along_axis(values, order, axis=1), -np.inf)
        new_source = ops.where(alive, ops.take_along_axis(source, order, axis=1), slots[None, :])
        new_token = ops.where(alive, ops.take_along_axis(token, order, axis=1), EOS_ID)
        at_max = ops.logical_and(active, t - prefix_lengths + 1 >= max_length)
        # Merge: the finished so far, then the new EOS hypotheses, then (at max_length) the live beams.
        merged = ops.concatenate([final, eos_scores, ops.where(at_max[:, None], new_scores / norm, -np.inf)], axis=1)
        length = ops.full((batch, width), t, "int32")
        merged_lengths = ops.concatenate([final_lengths, length, length + 1], axis=1)
        merged_slots = ops.concatenate([final_slots, source[:, :width], ops.tile(slots[None, :], (batch, 1))], axis=1)
        top, pick = _top_k(merged, width)
        row = active[:, None]
        final = ops.where(row, top, final)
        final_lengths = ops.where(row, ops.take_along_axis(merged_lengths, pick, axis=1), final_lengths)
        final_slots = ops.where(row, ops.take_along_axis(merged_slots, pick, axis=1), final_slots)
        settled = ops.logical_and(final[:, -1] > -np.inf, final[:, -1] >= ops.max(new_scores, axis=1) / norm[:, 0])
        ends = ops.logical_or(at_max, ops.logical_or(ops.logical_not(ops.any(alive, axis=1)), settled))
        done_now = ops.logical_and(active, ends)
        # Forced rows feed their prefix token on every beam; finished rows are frozen.
        forced_token = ops.tile(_prefix_column(prefix, t)[:, None], (1, width))
        new_source = ops.where(row, new_source, slots[None, :])
        next_tokens = ops.where(row, new_token, ops.where(forced[:, None], forced_token, EOS_ID))
        history = ops.slice_update(history, (0, 0, t), ops.expand_dims(next_tokens, -1))
        parents = ops.slice_update(parents, (0, 0, t), ops.expand_dims(new_source, -1))
        scores = ops.where(row, new_scores, scores)
        flat = ops.reshape(new_source + ops.arange(batch, dtype="int32")[:, None] * width, (-1,))
        states = tree.map_structure(lambda x: ops.take(x, flat, axis=0), stepped["states"])
        followed = advance(pattern, ops.take(followed, flat, axis=0), ops.reshape(next_tokens, (-1,)))
        done = ops.logical_or(done, done_now)
        loop_vars = (next_tokens, states, scores, history, parents, final, final_lengths, final_slots, done, followed)
        return (t + 1, ops.reshape(loop_vars[0], (-1,)), *loop_vars[1:])

    *_, history, parents, final, final_lengths, final_slots, _, _ = ops.while_loop(condition, body, start)

    def trace_back(i, carry):
        ids, slot = carry
        column = size - 1 - i
        inside = column < final_lengths
        token = ops.take_along_axis(ops.take(history, column, axis=2), slot, axis=1)
        ids = ops.slice_update(ids, (0, 0, column), ops.expand_dims(ops.where(inside, token, 0), -1))
        return ids, ops.where(inside, ops.take_along_axis(ops.take(parents, column, axis=2), slot, axis=1), slot)

    ids, _ = ops.fori_loop(0, size, trace_back, (ops.zeros((batch, width, size), "int32"), final_slots))
    return final, ids, final_lengths


# -- compiled, with the reference decoders' signatures ------------------------------------------


def compile_loop(stepper, key, function):
    """`function` compiled for the backend, kept on the stepper under `key` (traced once per shape).

    On TensorFlow, `tf.function` with XLA (`jit_compile=True`: the loop runs
    as one fused native loop, several times faster per token than the graph
    executor) and `reduce_retracing`; `jax.jit` on JAX; the function itself
    elsewhere.
    """
    compiled = stepper.__dict__.setdefault("_seqzoo_loops", {})
    if key not in compiled:
        name = backend.backend()
        if name == "tensorflow":
            import tensorflow as tf

            compiled[key] = tf.function(function, jit_compile=True, reduce_retracing=True, autograph=False)
        elif name == "jax":
            import jax

            compiled[key] = jax.jit(function)
        else:
            compiled[key] = function
    return compiled[key]


def _prefix_arrays(prefix, batch_size, max_length):
    check_settings(max_length=max_length)
    rows = prefix_rows(prefix, batch_size)
    lengths = np.array([len(row) for row in rows], "int32")
    ids = np.zeros((batch_size, max(1, int(lengths.max()))), "int32")
    for index, row in enumerate(rows):
        ids[index, : len(row)] = row
    return ops.convert_to_tensor(ids), ops.convert_to_tensor(lengths)


def _lists(ids, lengths):
    ids, lengths = ops.convert_to_numpy(ids), ops.convert_to_numpy(lengths)
    return [ids[row, : lengths[row]].tolist() for row in range(len(lengths))]


def greedy(stepper, cache, batch_size, max_length, prefix=None, forbid_unk=False, pattern=None):
    """Greedy decoding in one compiled call; the same ids as `seqzoo.inference.decoding.greedy`.

    Args:
        stepper: a `Stepper`.
        cache: from `stepper.start(...)`, for `batch_size` sequences.
        batch_size: the number of sequences.
        max_length: the most tokens to generate per sequence (after the prefix).
        prefix: optional ids fed after BOS, one list for all rows or one per row.
        forbid_unk: whether UNK (id 1) is never picked; padding and BOS never are.
        pattern: optional `seqzoo.tasks.patterns.TokenPattern` that every
            sequence keeps to (a task's `decoding_pattern()`).

    Returns:
        One list of ids per sequence: the prefix and the generated tokens,
        without the start and end tokens.
    """
    ids, lengths = _prefix_arrays(prefix, batch_size, max_length)
    forbid = forbidden_ids(forbid_unk)

    def run(cache, ids, lengths):
        return sampling_loop(stepper, cache, ids, lengths, max_length, greedy_pick(forbid), pattern)

    key = ("greedy", max_length, forbid, getattr(pattern, "name", None))
    return _lists(*compile_loop(stepper, key, run)(cache, ids, lengths))


def sample(
    stepper,
    cache,
    batch_size,
    max_length,
    temperature=1.0,
    top_k=None,
    top_p=None,
    seed=None,
    prefix=None,
    forbid_unk=False,
    pattern=None,
):
    """Sampling (temperature, top-k, top-p) in one compiled call, with in-graph seeded draws.

    Args:
        stepper, cache, batch_size, max_length, prefix, forbid_unk, pattern: as in `greedy`.
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it.
        top_k: draw only among the `k` most likely tokens.
        top_p: draw only from the nucleus: the fewest most likely tokens
            whose probability reaches `top_p`.
        seed: an integer (the same seed, the same sequences) or `None` (a
            fresh one).

    Returns:
        One list of ids per sequence, as in `greedy`.
    """
    check_settings(temperature=temperature, top_k=top_k, top_p=top_p)
    ids, lengths = _prefix_arrays(prefix, batch_size, max_length)
    forbid = forbidden_ids(forbid_unk)
    if seed is None or isinstance(seed, np.random.Generator):
        seed = int(np.random.default_rng(seed).integers(2**31 - 1))

    def run(cache, ids, lengths, temperature, seed):
        pick = sampling_pick(forbid, temperature, top_k, top_p, seed)
        return sampling_loop(stepper, cache, ids, lengths, max_length, pick, pattern)

    function = compile_loop(stepper, ("sample", max_length, top_k, top_p, forbid, getattr(pattern, "name", None)), run)
    temperature, seed = ops.convert_to_tensor(temperature, "float32"), ops.convert_to_tensor(seed, "int32")
    return _lists(*function(cache, ids, lengths, temperature, seed))


def beam_search(
    stepper,
    cache,
    batch_size,
    max_length,
    beam_width=4,
    length_penalty=DEFAULT_LENGTH_PENALTY,
    prefix=None,
    forbid_unk=False,
    return_all=False,
    pattern=None,
):
    """Beam search in one compiled call; the same hypotheses as `seqzoo.inference.decoding.beam_search`.

    Args:
        stepper, cache, batch_size, max_length, prefix, forbid_unk, pattern: as in
            `greedy`; `cache` is for `batch_size` rows (repeated
            `beam_width` times inside).
        beam_width: the number of beams per row.
        length_penalty: the exponent of the length normalization, >= 0.
        return_all: whether to return every row's finished hypotheses.

    Returns:
        One id list per row (its best hypothesis), or with `return_all` one
        list per row of `(ids, score)` pairs, best first, at most
        `beam_width`.
    """
    check_settings(beam=beam_width, length_penalty=length_penalty)
    ids, lengths = _prefix_arrays(prefix, batch_size, max_length)
    forbid = forbidden_ids(forbid_unk)

    def run(cache, ids, lengths):
        return beam_loop(stepper, cache, ids, lengths, max_length, beam_width, length_penalty, forbid, pattern)

    key = ("beam", max_length, beam_width, float(length_penalty), forbid, getattr(pattern, "name", None))
    scores, hypotheses, sizes = (ops.convert_to_numpy(x) for x in compile_loop(stepper, key, run)(cache, ids, lengths))
    results = [
        [
            (hypotheses[row, k, : sizes[row, k]].tolist(), float(scores[row, k]))
            for k in range(beam_width)
            if np.isfinite(scores[row, k])
        ]
        for row in range(batch_size)
    ]
    return results if return_all else [row[0][0] if row else [] for row in results]
