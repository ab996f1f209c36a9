"""Generation from seqzoo models, one token at a time: the NumPy reference decoders.

These are the definitions: `seqzoo.inference.loop` runs the same decoders
with the whole loop compiled in one call (the default of `seqzoo.generate`
on TensorFlow and JAX), and its tests check it against these token for
token; on PyTorch, or with `compiled=False`, these run.

Every decoder here drives a `seqzoo.architectures.Stepper`: it feeds the start
token (BOS), reads the next-token logits, picks a token, feeds it back, and
carries the recurrent state a<t> (and c<t>) in the stepper's cache. Each token
costs one step of the network, so writing T tokens costs O(T), never
re-running the prefix (`benchmarks/GENERATION.md` measures it).

Two levels here:

- Distributions: `next_token_log_probabilities` turns logits into the
  distribution a decoder draws from: padding (id 0) and the start token (id 2)
  are never allowed, UNK (id 1) optionally not, then temperature, top-k and
  top-p (nucleus) filtering.
- Decoders on ids, over a `Stepper` (or any object with the same
  `next(tokens, cache) -> (logits, cache)` contract) and its cache, batched:
  `greedy`, `sample` (temperature / top-k / top-p, reproducible from a seed
  through a NumPy `Generator`) and `beam_search` (width, length
  normalization), plus `score`, the log-probability of given sequences on the
  same step-wise path. All stop a sequence at EOS; an id-level `prefix` is
  fed after BOS and kept at the head of the output.
- `seqzoo.trained.generation.generate` builds on them (or on the compiled loop):
  from a trained run to decoded strings.

On `keras_hub.samplers`: keras-hub 0.32 has greedy, top-k, top-p and beam
samplers on a `next(prompt, cache, index)` contract that a recurrent state
would fit, but seqzoo does not use it. Installing it pulls in
`tensorflow-text` (native ops pinned to one TensorFlow minor version, and
unwanted on the JAX and PyTorch backends), `kagglehub`, a pinned `kagglesdk`,
`sentencepiece`, `tokenizers`, `regex` and `rich`, to use four small
classes. Its samplers also fill a fixed-length prompt tensor in place (every
row is written to `max_length`), have no length normalization in beam search
and no way to forbid particular ids (padding, BOS, UNK) short of subclassing.
The algorithms here follow the same definitions (top-p keeps the smallest
set of most likely tokens whose mass reaches p; beam search ranks
beam x vocabulary candidates), written in NumPy over the stepper.

The step is wrapped in a compiled function where the backend allows it
(`tf.function` on TensorFlow, `jax.jit` on JAX), which gives the same logits
as the eager step and is several times faster per token (see
`benchmarks/GENERATION.md`); `compiled=False` runs it eagerly.

Example:

>>> seqzoo.generate("runs/names", num=3, prefix="Ma", seed=0)
['Mara', 'Marlene', 'Madie']
"""

import keras
import numpy as np
from keras import ops

from seqzoo.architectures import Stepper
from seqzoo.inference.checks import check_settings
from seqzoo.inference.checks import is_int
from seqzoo.inference.settings import DEFAULT_LENGTH_PENALTY
from seqzoo.inference.settings import filter_logits
from seqzoo.inference.settings import forbidden_ids
from seqzoo.inference.settings import next_token_log_probabilities
from seqzoo.inference.settings import next_token_probabilities
from seqzoo.inference.settings import prefix_rows
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.tasks.vocabulary import PAD_ID

# -- the step ----------------------------------------------------------------------


def step_function(stepper, compiled=True, pattern=None):
    """`stepper.next`, compiled for the backend where that gives the same numbers (held to `pattern` if any).

    On TensorFlow it is wrapped in `tf.function(reduce_retracing=True)`, on JAX
    in `jax.jit`; elsewhere, or for objects that are not a `Stepper`, or with
    `compiled=False`, it is `stepper.next` itself. The compiled function is
    kept on the stepper, so it is traced once.
    """
    if pattern is not None:  # A `seqzoo.tasks.patterns.TokenPattern`: the logits it does not allow become -inf.
        return pattern.held(step_function(stepper, compiled))
    if not compiled or not isinstance(stepper, Stepper):
        return stepper.next
    function = getattr(stepper, "_seqzoo_compiled_next", None)
    if function is not None:
        return function
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        function = tf.function(stepper.next, reduce_retracing=True)
    elif backend == "jax":
        import jax

        function = jax.jit(stepper.next)
    else:
        function = stepper.next
    stepper._seqzoo_compiled_next = function
    return function


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def _map_cache(function, cache):
    """Applies `function` to every tensor in a nested dict/list/tuple cache."""
    if cache is None:
        return None
    if isinstance(cache, dict):
        return {key: _map_cache(function, value) for key, value in cache.items()}
    if isinstance(cache, (list, tuple)):
        return type(cache)(_map_cache(function, value) for value in cache)
    return function(cache)


def _check_batch(batch_size, max_length):
    if not (is_int(batch_size) and batch_size >= 1):
        raise ValueError(f"Received batch_size={batch_size!r}; it must be an integer >= 1.")
    check_settings(max_length=max_length)


# -- decoders on ids ---------------------------------------------------------------


def _autoregress(stepper, cache, batch_size, max_length, prefix, pick, compiled, pattern=None):
    """The sampling loop: BOS, then the prefix (forced), then `pick(logits)` until EOS.

    Args:
        pick: `(batch, vocab)` NumPy logits -> `(batch,)` ids.

    Returns:
        One id list per row: the prefix, then at most `max_length` new tokens,
        without BOS and EOS.
    """
    _check_batch(batch_size, max_length)
    prefixes = prefix_rows(prefix, batch_size)
    step = step_function(stepper, compiled, pattern)
    outputs = [list(row) for row in prefixes]
    lengths = np.array([len(row) for row in prefixes])
    new = np.zeros(batch_size, int)
    finished = np.zeros(batch_size, bool)
    tokens = np.full((batch_size,), BOS_ID, "int32")
    for t in range(int(lengths.max()) + max_length):
        logits, cache = step(tokens, cache)
        forced = t < lengths
        if forced.all():
            tokens = np.array([row[t] for row in prefixes], "int32")
            continue
        chosen = np.asarray(pick(_numpy(logits)), "int32")
        tokens = np.array([prefixes[row][t] if forced[row] else chosen[row] for row in range(batch_size)], "int32")
        for row in np.flatnonzero(~forced & ~finished):
            token = int(tokens[row])
            if token == EOS_ID:
                finished[row] = True
                continue
            outputs[row].append(token)
            new[row] += 1
            finished[row] = new[row] >= max_length
        if finished.all():
            break
    return outputs


def greedy(stepper, cache, batch_size, max_length, prefix=None, forbid_unk=False, compiled=True, pattern=None):
    """Picks the most likely allowed token at every step, until EOS or `max_length`.

    Args:
        stepper: a `Stepper` (or an object with its `next(tokens, cache)`).
        cache: from `stepper.start(...)`, for `batch_size` sequences.
        batch_size: the number of sequences.
        max_length: the most tokens to generate per sequence (after the prefix).
        prefix: optional ids fed after BOS, one list for all rows or one per row.
        forbid_unk: whether UNK (id 1) is never picked; padding and BOS never are.
        compiled: whether to compile the step (see `step_function`).
        pattern: optional `TokenPattern` every sequence keeps to (a task's `decoding_pattern()`).

    Returns:
        One list of ids per sequence: the prefix and the generated tokens,
        without the start and end tokens.

    Example:

    >>> stepper = Stepper(model)
    >>> greedy(stepper, stepper.start(batch_size=2), 2, max_length=20)
    [[17, 4, 9], [17, 4, 9]]
    """
    forbid = forbidden_ids(forbid_unk)

    def pick(logits):
        return filter_logits(logits, forbid=forbid).argmax(-1)

    return _autoregress(stepper, cache, batch_size, max_length, prefix, pick, compiled, pattern)


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
    compiled=True,
    pattern=None,
):
    """Draws each next token from the model's (filtered) distribution.

    The draws come from `numpy.random.default_rng(seed)`: the same seed gives
    the same sequences.

    Args:
        stepper, cache, batch_size, max_length, prefix, forbid_unk, compiled,
            pattern: as in `greedy`.
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it.
        top_k: draw only among the `k` most likely tokens (`top_k=1` is greedy).
        top_p: draw only from the nucleus: the fewest most likely tokens
            whose probability reaches `top_p`.
        seed: an integer, a `numpy.random.Generator`, or `None` (fresh entropy).

    Returns:
        One list of ids per sequence, as in `greedy`.
    """
    check_settings(temperature=temperature, top_k=top_k, top_p=top_p)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    forbid = forbidden_ids(forbid_unk)

    def pick(logits):
        probabilities = next_token_probabilities(logits, temperature, top_k, top_p, forbid)
        cumulative = np.cumsum(probabilities, axis=-1)
        draws = rng.random(len(probabilities)) * cumulative[:, -1]
        return (cumulative > draws[:, None]).argmax(-1)

    return _autoregress(stepper, cache, batch_size, max_length, prefix, pick, compiled, pattern)


def _length_norm(length, length_penalty):
    return max(length, 1) ** length_penalty


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
    compiled=True,
    pattern=None,
):
    """Keeps the `beam_width` most likely partial sequences of each row, step by step.

    At each step every beam's candidates (beam x vocabulary) are ranked by the
    sum of log-probabilities; a candidate ending in EOS among the best
    `beam_width` becomes a finished hypothesis, the others continue. A
    hypothesis is judged by `sum log P(y<t> | ...) / Ty^length_penalty`
    (the course's length normalization; Ty counts the generated tokens and
    the EOS). A row stops once it has `beam_width` finished hypotheses and
    no live beam scores better than the worst of them at the current
    length, or at `max_length`, where the live beams are finished as they
    are. With `beam_width=1` it is greedy decoding.

    Args:
        stepper, cache, batch_size, max_length, prefix, forbid_unk, compiled,
            pattern: as in `greedy`; `cache` is for `batch_size` rows and is repeated
            `beam_width` times here (the prefix's tokens are not scored).
        beam_width: the number of beams per row (B in the course).
        length_penalty: the exponent of the length normalization, >= 0.
        return_all: whether to return every row's finished hypotheses.

    Returns:
        One id list per row (its best hypothesis), or with `return_all` one
        list per row of `(ids, score)` pairs, best first, at most
        `beam_width`.
    """
    _check_batch(batch_size, max_length)
    check_settings(beam=beam_width, length_penalty=length_penalty)
    width = beam_width
    prefixes = prefix_rows(prefix, batch_size)
    forbid = forbidden_ids(forbid_unk)
    step = step_function(stepper, compiled, pattern)
    cache = _map_cache(lambda x: ops.repeat(x, width, axis=0), cache)
    beams = [[[] for _ in range(width)] for _ in range(batch_size)]  # The prefix joins them as it is fed.
    scores = np.full((batch_size, width), -np.inf)
    scores[:, 0] = 0.0  # All beams start equal: expand only the first.
    finished = [[] for _ in range(batch_size)]  # (score, ids), best first.
    done = np.zeros(batch_size, bool)
    tokens = np.full((batch_size * width,), BOS_ID, "int32")
    longest = max(len(row) for row in prefixes)
    for t in range(longest + max_length):
        logits, cache = step(tokens, cache)
        log_probabilities = next_token_log_probabilities(_numpy(logits), forbid=forbid)
        vocab = log_probabilities.shape[-1]
        sources = np.tile(np.arange(width), (batch_size, 1))
        next_tokens = np.full((batch_size, width), EOS_ID)
        for row in range(batch_size):
            if done[row]:
                continue
            if t < len(prefixes[row]):
                next_tokens[row] = prefixes[row][t]
                continue
            length = t - len(prefixes[row]) + 1  # Generated tokens, this one included.
            candidates = (scores[row][:, None] + log_probabilities[row * width : (row + 1) * width]).ravel()
            count = min(2 * width, int(np.isfinite(candidates).sum()))
            top = np.argsort(-candidates, kind="stable")[:count]  # Ties: the lower beam, then the lower id.
            survivors = []
            for rank, index in enumerate(top):
                beam, token = divmod(int(index), vocab)
                if token == EOS_ID:
                    if rank < width:
                        finished[row].append(
                            (candidates[index] / _length_norm(length, length_penalty), beams[row][beam])
                        )
                else:
                    survivors.append((beam, token, candidates[index]))
                if len(survivors) == width:
                    break
            new_scores = np.full(width, -np.inf)
            for slot, (beam, token, value) in enumerate(survivors):
                sources[row, slot], next_tokens[row, slot], new_scores[slot] = (beam, token, value)
            scores[row] = new_scores
            finished[row].sort(key=lambda item: -item[0])
            del finished[row][width:]
            if length >= max_length:
                for beam, token, value in survivors:
                    finished[row].append((value / _length_norm(length, length_penalty), beams[row][beam] + [token]))
                finished[row].sort(key=lambda item: -item[0])
                del finished[row][width:]
                done[row] = True
            elif not survivors:
                done[row] = True
            elif len(finished[row]) >= width:
                done[row] = finished[row][-1][0] >= new_scores.max() / _length_norm(length, length_penalty)
        for row in np.flatnonzero(~done):
            beams[row] = [beams[row][source] + [int(token)] for source, token in zip(sources[row], next_tokens[row])]
        if done.all():
            break
        flat = (np.arange(batch_size)[:, None] * width + sources).ravel()
        cache = _map_cache(lambda x: ops.take(x, flat, axis=0), cache)
        tokens = next_tokens.ravel().astype("int32")
    results = [[(ids, float(value)) for value, ids in hypotheses] for hypotheses in finished]
    return results if return_all else [hypotheses[0][0] if hypotheses else [] for hypotheses in results]


def score(stepper, cache, sequences, forbid_unk=False, with_eos=True, compiled=True):
    """Log-probabilities of given sequences, step by step, as the decoders see them.

    Each sequence is fed after BOS (teacher forcing through the stepper); the
    log-probability of each of its tokens (and of the final EOS, with
    `with_eos`) comes from `next_token_log_probabilities`, so padding and
    BOS (and UNK with `forbid_unk`) have no mass.

    Args:
        stepper: a `Stepper`.
        cache: from `stepper.start(...)`, one row per sequence.
        sequences: id lists, without BOS and EOS.

    Returns:
        One float64 array per sequence: `len(sequence)` (+1 with EOS) log-probabilities.
    """
    rows = [[int(token) for token in sequence] + ([EOS_ID] if with_eos else []) for sequence in sequences]
    forbid = forbidden_ids(forbid_unk)
    step = step_function(stepper, compiled)
    tokens = np.full((len(rows),), BOS_ID, "int32")
    values = [np.zeros(len(row)) for row in rows]
    for t in range(max(len(row) for row in rows)):
        logits, cache = step(tokens, cache)
        log_probabilities = next_token_log_probabilities(_numpy(logits), forbid=forbid)
        targets = np.array([row[t] if t < len(row) else PAD_ID for row in rows], "int32")
        for index, row in enumerate(rows):
            if t < len(row):
                values[index][t] = log_probabilities[index, row[t]]
        tokens = targets
    return values


def stepper_for(model):
    """The model's `Stepper`, made once per model (so its compiled step is traced once)."""
    stepper = getattr(model, "_seqzoo_stepper", None)
    if stepper is None:
        stepper = Stepper(model)
        object.__setattr__(model, "_seqzoo_stepper", stepper)  # Not a tracked attribute of the model.
    return stepper


def greedy_translate(model, source, max_length):
    """Greedy translations of a batch of source ids by an encoder-decoder."""
    stepper = stepper_for(model)
    source = np.asarray(source)
    return greedy(stepper, stepper.start(source=source), len(source), max_length)
