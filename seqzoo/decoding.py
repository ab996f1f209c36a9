"""Generation from seqzoo models, one token at a time (the course's sampling loop).

Every decoder here drives a `seqzoo.architectures.Stepper`: it feeds the start
token (BOS), reads the next-token logits, picks a token, feeds it back, and
carries the recurrent state a<t> (and c<t>) in the stepper's cache. Each token
costs one step of the network, so writing T tokens costs O(T), never
re-running the prefix (`benchmarks/GENERATION.md` measures it).

Three levels:

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
- `generate`: from a run folder (or a model and its task) to decoded strings,
  through the run's vocabularies and the task's tokenizer; `write_melody`
  writes a chorales melody as MIDI and MusicXML with music21.

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

import itertools
import math
import numbers
import os

import numpy as np
from keras import ops

from seqzoo.architectures import GENERATIVE_TOPOLOGIES
from seqzoo.architectures import Stepper
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.tasks.vocabulary import PAD_ID
from seqzoo.tasks.vocabulary import UNK_ID

NEVER = (PAD_ID, BOS_ID)
DEFAULT_MAX_LENGTH = 100
DEFAULT_LENGTH_PENALTY = 0.7
STEP = 0.25  # One melody token, in quarter notes: a sixteenth note (as in `seqzoo_chorales`).


# -- checking settings ----------------------------------------------------------


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_settings(temperature=None, top_k=None, top_p=None, beam=None, num=None, max_length=None, length_penalty=None):
    """Raises a `ValueError` naming the received value and the allowed range.

    `None` means "not set" for every argument.
    """
    if temperature is not None and not (
        isinstance(temperature, numbers.Real) and not isinstance(temperature, bool)
        and math.isfinite(temperature) and temperature > 0
    ):
        raise ValueError(
            f"Received temperature={temperature!r}; it must be a finite number > 0 "
            "(1 samples from the model's distribution, values near 0 approach greedy decoding)."
        )
    for name, value in (("top_k", top_k), ("beam", beam), ("num", num), ("max_length", max_length)):
        if value is not None and not (_is_int(value) and value >= 1):
            raise ValueError(f"Received {name}={value!r}; it must be an integer >= 1.")
    if top_p is not None and not (
        isinstance(top_p, numbers.Real) and not isinstance(top_p, bool) and 0 < top_p <= 1
    ):
        raise ValueError(f"Received top_p={top_p!r}; it must be a number in (0, 1].")
    if length_penalty is not None and not (
        isinstance(length_penalty, numbers.Real) and not isinstance(length_penalty, bool)
        and math.isfinite(length_penalty) and length_penalty >= 0
    ):
        raise ValueError(
            f"Received length_penalty={length_penalty!r}; it must be a number >= 0 "
            "(0: plain sum of log-probabilities; the course's 0.7 divides it by Ty^0.7)."
        )


def forbidden_ids(forbid_unk=False):
    """The ids a decoder never emits: padding and BOS, and UNK if `forbid_unk`."""
    return NEVER + ((UNK_ID,) if forbid_unk else ())


# -- distributions -----------------------------------------------------------------


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


# -- the step ----------------------------------------------------------------------

def step_function(stepper, compiled=True):
    """`stepper.next`, compiled for the backend where that gives the same numbers.

    On TensorFlow it is wrapped in `tf.function(reduce_retracing=True)`, on JAX
    in `jax.jit`; elsewhere, or for objects that are not a `Stepper`, or with
    `compiled=False`, it is `stepper.next` itself. The compiled function is
    kept on the stepper, so it is traced once.
    """
    if not compiled or not isinstance(stepper, Stepper):
        return stepper.next
    function = getattr(stepper, "_seqzoo_compiled_next", None)
    if function is not None:
        return function
    import keras

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


def _prefixes(prefix, batch_size):
    """`None`, one id list for every row, or one id list per row -> a list per row."""
    if prefix is None:
        return [[] for _ in range(batch_size)]
    rows = list(prefix)
    if all(_is_int(token) or (isinstance(token, np.integer)) for token in rows):
        rows = [rows] * batch_size
    if len(rows) != batch_size:
        raise ValueError(f"Received {len(rows)} prefixes for a batch of {batch_size}; give one, or one per sequence.")
    rows = [[int(token) for token in row] for row in rows]
    bad = sorted({token for row in rows for token in row if token in NEVER or token == EOS_ID or token < 0})
    if bad:
        raise ValueError(f"Received prefix ids {bad}; a prefix may not hold padding (0), BOS (2) or EOS (3).")
    return rows


def _check_batch(batch_size, max_length):
    if not (_is_int(batch_size) and batch_size >= 1):
        raise ValueError(f"Received batch_size={batch_size!r}; it must be an integer >= 1.")
    check_settings(max_length=max_length)


# -- decoders on ids ---------------------------------------------------------------


def _autoregress(stepper, cache, batch_size, max_length, prefix, pick, compiled):
    """The sampling loop: BOS, then the prefix (forced), then `pick(logits)` until EOS.

    Args:
        pick: `(batch, vocab)` NumPy logits -> `(batch,)` ids.

    Returns:
        One id list per row: the prefix, then at most `max_length` new tokens,
        without BOS and EOS.
    """
    _check_batch(batch_size, max_length)
    prefixes = _prefixes(prefix, batch_size)
    step = step_function(stepper, compiled)
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
        tokens = np.array(
            [prefixes[row][t] if forced[row] else chosen[row] for row in range(batch_size)], "int32"
        )
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


def greedy(stepper, cache, batch_size, max_length, prefix=None, forbid_unk=False, compiled=True):
    """Picks the most likely allowed token at every step, until EOS or `max_length`.

    Args:
        stepper: a `Stepper` (or an object with its `next(tokens, cache)`).
        cache: from `stepper.start(...)`, for `batch_size` sequences.
        batch_size: the number of sequences.
        max_length: the most tokens to generate per sequence (after the prefix).
        prefix: optional ids fed after BOS, one list for all rows or one per row.
        forbid_unk: whether UNK (id 1) is never picked; padding and BOS never are.
        compiled: whether to compile the step (see `step_function`).

    Returns:
        One list of ids per sequence: the prefix and the generated tokens,
        without the start and end tokens.

    Example:

    >>> stepper = Stepper(model)
    >>> greedy(stepper, stepper.start(batch_size=2), 2, max_length=20)
    [[17, 4, 9], [17, 4, 9]]
    """
    forbid = forbidden_ids(forbid_unk)
    return _autoregress(
        stepper, cache, batch_size, max_length, prefix,
        lambda logits: filter_logits(logits, forbid=forbid).argmax(-1), compiled,
    )


_greedy = greedy  # `generate` has an argument of that name.


def sample(
    stepper, cache, batch_size, max_length, temperature=1.0, top_k=None, top_p=None, seed=None,
    prefix=None, forbid_unk=False, compiled=True,
):
    """Draws each next token from the model's (filtered) distribution.

    The draws come from `numpy.random.default_rng(seed)`: the same seed gives
    the same sequences.

    Args:
        stepper, cache, batch_size, max_length, prefix, forbid_unk, compiled:
            as in `greedy`.
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

    return _autoregress(stepper, cache, batch_size, max_length, prefix, pick, compiled)


def _length_norm(length, length_penalty):
    return max(length, 1) ** length_penalty


def beam_search(
    stepper, cache, batch_size, max_length, beam_width=4, length_penalty=DEFAULT_LENGTH_PENALTY,
    prefix=None, forbid_unk=False, return_all=False, compiled=True,
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
        stepper, cache, batch_size, max_length, prefix, forbid_unk, compiled:
            as in `greedy`; `cache` is for `batch_size` rows and is repeated
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
    prefixes = _prefixes(prefix, batch_size)
    forbid = forbidden_ids(forbid_unk)
    step = step_function(stepper, compiled)
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
                        finished[row].append((candidates[index] / _length_norm(length, length_penalty), beams[row][beam]))
                else:
                    survivors.append((beam, token, candidates[index]))
                if len(survivors) == width:
                    break
            new_scores = np.full(width, -np.inf)
            for slot, (beam, token, value) in enumerate(survivors):
                sources[row, slot], next_tokens[row, slot], new_scores[slot] = beam, token, value
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


# -- from a run to strings -----------------------------------------------------------


class _Generation:
    """What `generate` needs: the model, its topology, vocabularies and tokenizer."""

    def __init__(self, model, topology, vocabularies, tokenizer, condition_names, where):
        self.model, self.topology = model, topology
        self.vocabularies, self.tokenizer = vocabularies, tokenizer
        self.condition_names, self.where = condition_names, where

    @property
    def target_vocabulary(self):
        key = "target" if self.topology == "encoder_decoder" else "inputs"
        return (self.vocabularies or {}).get(key)


def _generative_check(topology, where):
    if topology not in GENERATIVE_TOPOLOGIES:
        raise ValueError(
            f"{where} is a {topology or 'non-seqzoo'} model, which does not generate sequences; "
            f"generation needs a model of one of: {', '.join(GENERATIVE_TOPOLOGIES)}."
        )


def _from_run(folder, task, data_dir):
    from seqzoo import run_folder as rf
    from seqzoo.tasks import load_task

    rf.check_complete(folder)
    config = rf.read_json(os.path.join(folder, rf.CONFIG))
    record = rf.read_json(os.path.join(folder, rf.TASK))
    where = f"Run folder {folder!r} ({record.get('model')} on task {record.get('task')})"
    _generative_check(config.get("topology"), where)
    model, config, record = rf.load_run(folder)
    if task is None:
        try:
            task = load_task(record["task"], data_dir=data_dir or record.get("data_dir"))
        except (TypeError, KeyError) as error:
            raise ValueError(
                f"{where}: cannot recreate task {record.get('task')!r} ({error}); pass task= the Task it was trained on."
            ) from error
    else:
        task = load_task(task, data_dir=data_dir)
    task.load_vocabularies(folder)
    return _from_task(model, task, where)


def _from_task(model, task, where):
    topology = (getattr(model, "seqzoo_config", None) or {}).get("topology")
    _generative_check(topology, where)
    names = task.condition_names() if topology == "one_to_many" and hasattr(task, "condition_names") else None
    return _Generation(model, topology, task.prepare().vocabularies, task.tokenizer, names, where)


def _as_list(value):
    if value is None:
        return None
    return [value] if isinstance(value, (str, numbers.Number)) or np.ndim(value) == 0 else list(value)


def text_tokens(text, tokenizer):
    """A text as the task's tokens (the inverse of `seqzoo.tasks.tokenizers.join`)."""
    if tokenizer == "chars":
        return list(text)
    if tokenizer == "integers":
        parts = text.replace(",", " ").split()
        bad = [part for part in parts if not part.lstrip("-").isdigit()]
        if bad:
            raise ValueError(f"Received {text!r}; integer tokens (e.g. MIDI pitches '60 62 64') expected, not {bad}.")
        return [str(int(part)) for part in parts]
    if tokenizer == "pretokenized":
        return text.lower().split()
    import tensorflow as tf

    from seqzoo.tasks.tokenizers import tokenize

    return [token.decode("utf-8") for token in tokenize(tf.constant(text), tokenizer).numpy()]


def encode_text(text, vocabulary, tokenizer, what="prefix"):
    """A text -> ids, with a `ValueError` naming any token the vocabulary lacks."""
    tokens = text_tokens(text, tokenizer)
    known = set(vocabulary.tokens)
    unknown = list(dict.fromkeys(token for token in tokens if token not in known))
    if unknown:
        kind = "characters" if tokenizer == "chars" else "tokens"
        shown = sorted(vocabulary.tokens)
        listing = "".join(shown) if tokenizer == "chars" else " ".join(shown[:80]) + (" ..." if len(shown) > 80 else "")
        hint = ""
        if text != text.lower() and all(token in known for token in text_tokens(text.lower(), tokenizer)):
            hint = f" Lowercased, it is all known: {text.lower()!r}."
        raise ValueError(
            f"Received {what} {text!r} with {kind} not in the vocabulary: "
            f"{', '.join(repr(token) for token in unknown)}. The vocabulary has "
            f"{len(shown)} {kind}: {listing!r}.{hint}"
        )
    return vocabulary.encode(tokens) if tokens else []


def _condition_ids(conditions, names, where):
    ids = []
    for condition in conditions:
        if isinstance(condition, str) and names is not None and condition in names:
            ids.append(names.index(condition))
        elif _is_int(condition) or (isinstance(condition, str) and condition.isdigit()):
            index = int(condition)
            size = len(names) if names is not None else None
            if index < 0 or (size is not None and index >= size):
                raise ValueError(f"Received condition={condition!r}; class ids go from 0 to {size - 1}.")
            ids.append(index)
        else:
            from seqzoo.errors import unknown_name_error

            error = unknown_name_error("condition", condition, names or [])
            raise ValueError(f"{where}: {error}")
    return ids


def _decode(ids, vocabulary, tokenizer):
    if vocabulary is None:
        return list(ids)
    from seqzoo.tasks.tokenizers import join

    return join(vocabulary.decode(ids), tokenizer)


def _strategy(topology, greedy_flag, beam, temperature, top_k, top_p):
    sampling = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
    given = {name: value for name, value in sampling.items() if value is not None}
    if beam is not None:
        if greedy_flag or given:
            extra = ", ".join(f"{name}={value!r}" for name, value in given.items()) or "greedy=True"
            raise ValueError(f"Received beam={beam!r} with {extra}; beam search does not sample: choose one.")
        return "beam"
    if greedy_flag:
        if given:
            extra = ", ".join(f"{name}={value!r}" for name, value in given.items())
            raise ValueError(f"Received greedy=True with {extra}; greedy decoding does not sample: choose one.")
        return "greedy"
    if topology == "encoder_decoder" and not given:
        return "greedy"
    return "sample"


def generate(
    run_or_model, num=1, temperature=None, top_k=None, top_p=None, beam=None, prefix=None, condition=None,
    seed=None, max_length=None, *, source=None, context=None, greedy=False, length_penalty=DEFAULT_LENGTH_PENALTY,
    forbid_unk=True, task=None, data_dir=None, compiled=True,
):
    """Writes novel sequences with a trained generative model, as strings.

    The strategy: beam search if `beam` is set; greedy if `greedy=True`;
    otherwise sampling (temperature 1 unless given, optionally top-k / top-p)
    for language and one-to-many models, and greedy for an encoder-decoder
    unless a sampling setting is given.

    Args:
        run_or_model: a finished run folder, or a seqzoo model (then pass
            `task`, a `Task` with its vocabularies, to get strings; without
            it, prefixes, conditions and sources are ids and so is the result).
        num: sequences per prefix / condition / source (for beam search, the
            best `num` hypotheses, so `num <= beam`).
        temperature: > 0, for sampling.
        top_k: integer >= 1, for sampling.
        top_p: in (0, 1], for sampling.
        beam: the beam width, integer >= 1.
        prefix: for language and one-to-many models, a text (or a list of
            texts) each sequence starts with, e.g. `"Ma"`; for an
            encoder-decoder, the source text(s) to translate (as `source`).
        condition: for one-to-many models, a class name of the task (e.g.
            `"female"`, `"minor"`) or id, or a list of them.
        seed: an integer for reproducible sampling.
        max_length: the most tokens to generate after the prefix (default 100).
        source: for an encoder-decoder, the source text(s).
        context: for an encoder-decoder whose task reads a context before
            the source (the dates task: the locale, e.g. `"en_US"`), the
            context, written before each source with a space; or write it
            into the source yourself (`"en_US 3 may 1999"`).
        greedy: whether to decode greedily.
        length_penalty: beam search's length-normalization exponent.
        forbid_unk: whether UNK is never generated (padding and BOS never are).
        task: the task (name or `Task`) when it cannot be read from the run.
        data_dir: the TFDS data folder, for the task's class names.
        compiled: whether to compile the step (see `step_function`).

    Returns:
        A list of strings (characters joined with "", words and integers with
        " "), `num` for each condition x prefix (or source), in that order.

    Example:

    >>> seqzoo.generate("runs/names_by_gender", num=2, condition="female", seed=1)
    ['Lorine', 'Anna']
    >>> seqzoo.generate("runs/dates", prefix=["3 may 1999", "tuesday, july 4, 1876"], context="en_US")
    ['1999-05-03', '1876-07-04']
    """
    check_settings(temperature, top_k, top_p, beam, num, max_length, length_penalty)
    max_length = max_length or DEFAULT_MAX_LENGTH
    if isinstance(run_or_model, (str, os.PathLike)):
        setup = _from_run(os.fspath(run_or_model), task, data_dir)
    elif task is not None:
        from seqzoo.tasks import load_task

        setup = _from_task(run_or_model, load_task(task, data_dir=data_dir), f"Model {run_or_model.name!r}")
    else:
        topology = (getattr(run_or_model, "seqzoo_config", None) or {}).get("topology")
        where = f"Model {getattr(run_or_model, 'name', type(run_or_model).__name__)!r}"
        _generative_check(topology, where)
        setup = _Generation(run_or_model, topology, None, None, None, where)
    strategy = _strategy(setup.topology, greedy, beam, temperature, top_k, top_p)
    if strategy == "beam" and num > beam:
        raise ValueError(f"Received num={num} with beam={beam}; beam search returns at most beam hypotheses (num <= beam).")
    stepper = Stepper(setup.model)
    vocabulary = setup.target_vocabulary

    rows_per_case = 1 if strategy == "beam" else num  # Beam search: one row of `beam` beams per case.
    if setup.topology == "encoder_decoder":
        if condition is not None:
            raise ValueError(f"Received condition={condition!r}; {setup.where} is an encoder-decoder: give source text(s).")
        texts = _as_list(source if source is not None else prefix) if vocabulary else list(source or prefix or [])
        if not texts:
            raise ValueError(f"{setup.where} translates: give the source text(s) to translate (source= or prefix=).")
        if context is not None and vocabulary:
            texts = [f"{context} {text}" for text in texts]
        sources = [
            encode_text(text, setup.vocabularies["source"], setup.tokenizer, "source") if vocabulary
            else [int(token) for token in text]
            for text in texts
        ]
        if any(not ids for ids in sources):
            raise ValueError("Received an empty source text; nothing to translate.")
        width = max(len(ids) for ids in sources)
        padded = np.array([ids + [PAD_ID] * (width - len(ids)) for ids in sources], "int32")
        batch = len(sources) * rows_per_case
        cache = stepper.start(source=np.repeat(padded, rows_per_case, axis=0))
        prefix_rows = None
    else:
        if source is not None or context is not None:
            raise ValueError(
                f"Received source={source!r}, context={context!r}; {setup.where} is a {setup.topology} model: use prefix=."
            )
        if vocabulary:
            prefix_ids = [encode_text(text, vocabulary, setup.tokenizer) for text in _as_list(prefix) or [""]]
        else:
            rows = list(prefix) if prefix is not None else [[]]
            rows = [rows] if rows and all(_is_int(token) for token in rows) else rows
            prefix_ids = [[int(token) for token in ids] for ids in rows]
        if setup.topology == "one_to_many":
            conditions = _as_list(condition)
            if conditions is None:
                names = ", ".join(repr(name) for name in setup.condition_names or [])
                raise ValueError(f"{setup.where} is conditioned: give condition= one of {names or 'its class ids'}.")
            condition_ids = _condition_ids(conditions, setup.condition_names, setup.where)
        else:
            if condition is not None:
                raise ValueError(
                    f"Received condition={condition!r}; {setup.where} is an unconditioned language model "
                    "(for names of a gender, train on names_by_gender)."
                )
            condition_ids = [None]
        cases = list(itertools.product(condition_ids, prefix_ids))
        batch = len(cases) * rows_per_case
        prefix_rows = [ids for _, ids in cases for _ in range(rows_per_case)]
        if setup.topology == "one_to_many":
            cache = stepper.start(condition=np.array([c for c, _ in cases for _ in range(rows_per_case)], "int32"))
        else:
            cache = stepper.start(batch_size=batch)
    if strategy == "beam":
        hypotheses = beam_search(
            stepper, cache, batch, max_length, beam, length_penalty, prefix=prefix_rows,
            forbid_unk=forbid_unk, return_all=True, compiled=compiled,
        )
        sequences = [ids for row in hypotheses for ids, _ in row[:num]]
    elif strategy == "greedy":
        sequences = _greedy(stepper, cache, batch, max_length, prefix=prefix_rows, forbid_unk=forbid_unk, compiled=compiled)
    else:
        sequences = sample(
            stepper, cache, batch, max_length, temperature if temperature is not None else 1.0, top_k, top_p,
            seed, prefix=prefix_rows, forbid_unk=forbid_unk, compiled=compiled,
        )
    return [_decode(ids, vocabulary, setup.tokenizer) for ids in sequences]


# -- melodies --------------------------------------------------------------------------


def melody_runs(pitches):
    """Merges repeated pitches into held notes: `[(pitch, steps), ...]`, 0 a rest."""
    runs = []
    for pitch in pitches:
        pitch = int(pitch)
        if runs and runs[-1][0] == pitch:
            runs[-1][1] += 1
        else:
            runs.append([pitch, 1])
    return [tuple(run) for run in runs]


def melody_stream(pitches, step=STEP, title=None):
    """A music21 `Score` of one melody: MIDI pitches per step (0 a rest), repeats held.

    Args:
        pitches: one MIDI pitch per time step (a sixteenth note by default).
        step: one step's length in quarter notes.
        title: optional title for the score's metadata.
    """
    from music21 import metadata
    from music21 import note
    from music21 import stream

    part = stream.Part()
    for pitch, steps in melody_runs(pitches):
        length = steps * step
        part.append(note.Rest(quarterLength=length) if pitch == 0 else note.Note(midi=pitch, quarterLength=length))
    if not part.notesAndRests:
        part.append(note.Rest(quarterLength=4.0))
    score = stream.Score([part])
    if title:
        score.metadata = metadata.Metadata(title=title)
    return score


def write_melody(pitches, path, step=STEP):
    """Writes a melody as MIDI and MusicXML beside each other; returns both paths.

    Args:
        pitches: one MIDI pitch per step, 0 for a rest (repeated pitches are one held note).
        path: the file name; its extension is replaced by `.mid` and `.musicxml`.
    """
    stem = os.path.splitext(os.fspath(path))[0]
    score = melody_stream(pitches, step, title=os.path.basename(stem))
    midi, musicxml = f"{stem}.mid", f"{stem}.musicxml"
    score.write("midi", fp=midi)
    score.write("musicxml", fp=musicxml)
    return [midi, musicxml]
