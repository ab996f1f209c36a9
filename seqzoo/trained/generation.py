"""Generation from a trained run: prefixes, conditions and sources in, novel sequences out, as strings.

It encodes prefixes, conditions and sources with the run's vocabularies and
tokenizer, runs a decoder over the model's `Stepper` (the compiled loops of
`seqzoo.inference.loop` on TensorFlow and JAX, the NumPy reference decoders
of `seqzoo.inference.decoding` on PyTorch or with `compiled=False`), and
decodes the ids back to text. `TrainedRun.generate` and `seqzoo.generate`
call it.

Example:

>>> generate(seqzoo.load("runs/names"), num=3, prefix="Ma", seed=0)
['Mara', 'Marlene', 'Madie']
"""

import contextlib
import itertools
import numbers
import sys

import keras
import numpy as np

from seqzoo.errors import unknown_name_error
from seqzoo.inference import decoding
from seqzoo.inference import loop
from seqzoo.inference.checks import check_settings
from seqzoo.inference.checks import decoding_strategy
from seqzoo.inference.checks import is_int
from seqzoo.inference.decoding import stepper_for
from seqzoo.inference.settings import DEFAULT_LENGTH_PENALTY
from seqzoo.inference.settings import DEFAULT_MAX_LENGTH
from seqzoo.tasks.tokenizers import join
from seqzoo.trained.text import encode_text
from seqzoo.trained.text import padded

COMPILED_BACKENDS = ("tensorflow", "jax")
CHUNK_ROWS = 256  # Rows per compiled call; a longer job shows a progress bar.


def _as_list(value):
    if value is None:
        return None
    return [value] if isinstance(value, (str, numbers.Number)) or np.ndim(value) == 0 else list(value)


def condition_ids(conditions, names, where):
    """Condition names (or ids) -> class ids, with the closest names in the error for a typo."""
    ids = []
    for condition in conditions:
        if isinstance(condition, str) and names is not None and condition in names:
            ids.append(names.index(condition))
        elif is_int(condition) or (isinstance(condition, str) and condition.isdigit()):
            index = int(condition)
            size = len(names) if names is not None else None
            if index < 0 or (size is not None and index >= size):
                raise ValueError(f"Received condition={condition!r}; class ids go from 0 to {size - 1}.")
            ids.append(index)
        else:
            error = unknown_name_error("condition", condition, names or [])
            raise ValueError(f"{where}: {error}")
    return ids


def _decode(ids, vocabulary, tokenizer):
    if vocabulary is None:
        return list(ids)
    return join(vocabulary.decode(ids), tokenizer)


def _in_chunks(run, cache, batch, prefixes):
    """`run(cache, rows, prefixes)` on at most `CHUNK_ROWS` rows at a time, with a progress bar on stderr.

    One chunk (the usual case) is one compiled call and shows no bar.
    """
    if batch <= CHUNK_ROWS:
        return run(cache, batch, prefixes)
    bar = keras.utils.Progbar(batch, unit_name="sequence")
    sequences = []
    for start in range(0, batch, CHUNK_ROWS):
        stop = min(batch, start + CHUNK_ROWS)
        part = keras.tree.map_structure(lambda x: x[start:stop], cache)
        sequences += run(part, stop - start, None if prefixes is None else prefixes[start:stop])
        with contextlib.redirect_stdout(sys.stderr):  # Progress is not the result: stderr, as Keras's own logs.
            bar.update(stop)
    return sequences


def generate(
    trained,
    num=1,
    temperature=None,
    top_k=None,
    top_p=None,
    beam=None,
    prefix=None,
    condition=None,
    seed=None,
    max_length=None,
    *,
    source=None,
    context=None,
    greedy=False,
    length_penalty=DEFAULT_LENGTH_PENALTY,
    forbid_unk=True,
    compiled=True,
    labelled=False,
):
    """Writes novel sequences with a trained generative model, as strings.

    The strategy: beam search if `beam` is set; greedy if `greedy=True`;
    otherwise sampling (temperature 1 unless given, optionally top-k / top-p)
    for language and one-to-many models, and greedy for an encoder-decoder
    unless a sampling setting is given.

    Args:
        trained: a `seqzoo.trained.TrainedRun` of a generative model. Without
            a task (a bare model), prefixes, conditions and sources are ids
            and so is the result.
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
            into the source yourself (`"en_US 3 may 1999"`). By default the
            task's own (dates: `en_US`). Sources are normalized as the task's
            data (dates: lowercased); decoding keeps to the task's target
            pattern (dates: real ISO dates).
        greedy: whether to decode greedily.
        length_penalty: beam search's length-normalization exponent.
        forbid_unk: whether UNK is never generated (padding and BOS never are).
        compiled: whether to run the whole decoding loop as one compiled
            call (`seqzoo.inference.loop`; on TensorFlow and JAX). With
            `False`, or on PyTorch, the NumPy reference decoders of
            `seqzoo.inference.decoding` run over a compiled step. Greedy and beam
            search give the same ids either way; sampling draws other
            (equally distributed) tokens for the same seed.
        labelled: whether each sequence comes as a dict that names what it
            answers: `{"condition": ..., "prefix": ..., "generated": ...}`,
            or `{"source": ..., "generated": ...}` for a translator.

    Returns:
        A list of strings (characters joined with "", words and integers with
        " "), `num` for each condition x prefix (or source), in that order;
        with `labelled`, a dict per string.

    Example:

    >>> generate(seqzoo.load("runs/names_by_gender"), num=2, condition="female", seed=1)
    ['Lorine', 'Anna']
    """
    check_settings(temperature, top_k, top_p, beam, num, max_length, length_penalty)
    max_length = max_length or DEFAULT_MAX_LENGTH
    trained.require("generate")
    strategy = decoding_strategy(trained.topology, greedy, beam, temperature, top_k, top_p)
    if strategy == "beam" and num > beam:
        raise ValueError(
            f"Received num={num} with beam={beam}; beam search returns at most beam hypotheses (num <= beam)."
        )
    stepper = stepper_for(trained.model)
    rows_per_case = 1 if strategy == "beam" else num  # Beam search: one row of `beam` beams per case.
    if trained.topology == "encoder_decoder":
        sources, labels = _translation_cases(trained, source, prefix, context, condition)
        batch = len(sources) * rows_per_case
        cache = stepper.start(source=np.repeat(padded(sources), rows_per_case, axis=0))
        prefix_rows = None
    else:
        cases, labels = _language_cases(trained, source, prefix, context, condition)
        batch = len(cases) * rows_per_case
        prefix_rows = [ids for _, ids in cases for _ in range(rows_per_case)]
        if trained.topology == "one_to_many":
            cache = stepper.start(condition=np.array([c for c, _ in cases for _ in range(rows_per_case)], "int32"))
        else:
            cache = stepper.start(batch_size=batch)
    fast = compiled and keras.backend.backend() in COMPILED_BACKENDS
    decoders = loop if fast else decoding
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    # A translator's targets may follow a pattern (ISO dates), which every decoder keeps to.
    pattern = trained.task.decoding_pattern() if trained.topology == "encoder_decoder" and trained.task else None

    def run(cache, rows, prefixes):
        options = {"prefix": prefixes, "forbid_unk": forbid_unk, "pattern": pattern}
        options.update({} if fast else {"compiled": compiled})
        if strategy == "beam":
            found = decoders.beam_search(
                stepper, cache, rows, max_length, beam, length_penalty, return_all=True, **options
            )
            return [ids for row in found for ids, _ in row[:num]]
        if strategy == "greedy":
            return decoders.greedy(stepper, cache, rows, max_length, **options)
        chosen = temperature if temperature is not None else 1.0
        return decoders.sample(stepper, cache, rows, max_length, chosen, top_k, top_p, rng, **options)

    sequences = _in_chunks(run, cache, batch, prefix_rows)
    texts = [_decode(ids, trained.target_vocabulary, trained.tokenizer) for ids in sequences]
    if not labelled:
        return texts
    return [{**labels[index // num], "generated": text} for index, text in enumerate(texts)]


def _translation_cases(trained, source, prefix, context, condition):
    """A translator's source id lists, and a label per source (`{"source": ..., "context": ...}`)."""
    if condition is not None:
        raise ValueError(
            f"Received condition={condition!r}; {trained.where} is an encoder-decoder: give source text(s)."
        )
    vocabulary = trained.vocabularies.get("source")
    texts = _as_list(source if source is not None else prefix) if vocabulary else list(source or prefix or [])
    if not texts:
        raise ValueError(f"{trained.where} translates: give the source text(s) to translate (source= or prefix=).")
    labels = [{"source": text, **({} if context is None else {"context": context})} for text in texts]
    if vocabulary:  # Normalized as the task's data, after its context (or the task's default one).
        texts = [trained.task.source_input(text, context) for text in texts]
    sources = [
        encode_text(text, vocabulary, trained.tokenizer, "source") if vocabulary else [int(token) for token in text]
        for text in texts
    ]
    if any(not ids for ids in sources):
        raise ValueError("Received an empty source text; nothing to translate.")
    return sources, labels


def _language_cases(trained, source, prefix, context, condition):
    """`(condition id, prefix ids)` per case (conditions x prefixes), and a label per case."""
    if source is not None or context is not None:
        raise ValueError(
            f"Received source={source!r}, context={context!r}; "
            f"{trained.where} is a {trained.topology} model: use prefix=."
        )
    vocabulary = trained.target_vocabulary
    if vocabulary:
        prefixes = _as_list(prefix) or [""]
        prefix_ids = [encode_text(text, vocabulary, trained.tokenizer) for text in prefixes]
    else:
        rows = list(prefix) if prefix is not None else [[]]
        rows = [rows] if rows and all(is_int(token) for token in rows) else rows
        prefix_ids = [[int(token) for token in ids] for ids in rows]
        prefixes = prefix_ids
    if trained.topology == "one_to_many":
        conditions = _as_list(condition)
        if conditions is None:
            names = ", ".join(repr(name) for name in trained.condition_names or [])
            raise ValueError(f"{trained.where} is conditioned: give condition= one of {names or 'its class ids'}.")
        chosen = condition_ids(conditions, trained.condition_names, trained.where)
    else:
        if condition is not None:
            raise ValueError(
                f"Received condition={condition!r}; {trained.where} is an unconditioned language model "
                "(for names of a gender, train on names_by_gender)."
            )
        conditions = chosen = [None]
    labels = [
        {**({} if given is None else {"condition": given}), "prefix": text} for given in conditions for text in prefixes
    ]
    return list(itertools.product(chosen, prefix_ids)), labels
