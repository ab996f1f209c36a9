"""`generate`: from a trained run (or a model and its task) to novel sequences as strings.

It reads a run's vocabularies and its task's tokenizer, encodes prefixes,
conditions and sources, runs a decoder over the model's `Stepper` (the
compiled loops of `seqzoo.inference.loop` on TensorFlow and JAX, the NumPy
reference decoders of `seqzoo.inference.decoding` on PyTorch or with
`compiled=False`), and decodes the ids back to text.

Example:

>>> seqzoo.generate("runs/names", num=3, prefix="Ma", seed=0)
['Mara', 'Marlene', 'Madie']
"""

import contextlib
import itertools
import numbers
import os
import sys

import keras
import numpy as np

from seqzoo.architectures import GENERATIVE_TOPOLOGIES
from seqzoo.errors import unknown_name_error
from seqzoo.inference import decoding
from seqzoo.inference import loop
from seqzoo.inference.decoding import stepper_for
from seqzoo.inference.export import check_out
from seqzoo.inference.export import export
from seqzoo.inference.settings import DEFAULT_LENGTH_PENALTY
from seqzoo.inference.settings import DEFAULT_MAX_LENGTH
from seqzoo.inference.settings import check_settings
from seqzoo.inference.settings import is_int
from seqzoo.presets.runs import open_run
from seqzoo.tasks import load_task
from seqzoo.tasks.tokenizers import join
from seqzoo.tasks.tokenizers import tokenize
from seqzoo.tasks.vocabulary import PAD_ID

COMPILED_BACKENDS = ("tensorflow", "jax")
CHUNK_ROWS = 256  # Rows per compiled call; a longer job shows a progress bar.


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


def load_run(folder, task=None, data_dir=None, generative=True):
    """A finished run's model and its `Task` (with the run's vocabularies): the one place run folders are read.

    Args:
        folder: the run folder, or `preset:NAME`.
        task: the task (name or `Task`) when it cannot be recreated from the run.
        data_dir: the TFDS data folder.
        generative: whether to refuse, before loading, a model that does not generate.

    Returns:
        `(model, task, where)`; `where` names the run in messages.
    """
    run = open_run(folder)
    record = run.record
    where = f"Run folder {folder!r} ({record.get('model')} on task {record.get('task')})"
    if generative:
        _generative_check(run.config.get("topology"), where)
    model = run.load_model()
    try:
        task = run.load_task(task, data_dir)
    except (TypeError, KeyError) as error:
        raise ValueError(
            f"{where}: cannot recreate task {record.get('task')!r} ({error}); pass task= the Task it was trained on."
        ) from error
    return model, task, where


def export_run(folder, out, task=None, data_dir=None, overwrite=False, **options):
    """`seqzoo export RUN --out DIR`: a finished run's model as a SavedModel that serves strings.

    Args:
        folder: the run folder, or `preset:NAME`.
        out: the SavedModel folder to write.
        task: the task (name or `Task`) when it cannot be recreated from the run.
        data_dir: the TFDS data folder (for class and condition names).
        overwrite: whether to replace a SavedModel already in `out`
            (checked before the run is loaded).
        **options: those of `seqzoo.inference.export.export` (`max_length`,
            `length_penalty`, `forbid_unk`).

    Returns:
        The endpoint names written, e.g. `["serve", "generate"]`.

    Example:

    >>> export_run("runs/names", "exported/names")
    ['serve', 'generate']
    """
    check_out(out, overwrite)
    model, task, _ = load_run(folder, task, data_dir, generative=False)
    return export(model, task, out, overwrite=overwrite, **options)


def _from_run(folder, task, data_dir):
    return _from_task(*load_run(folder, task, data_dir))


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
    run_or_model,
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
    task=None,
    data_dir=None,
    compiled=True,
):
    """Writes novel sequences with a trained generative model, as strings.

    The strategy: beam search if `beam` is set; greedy if `greedy=True`;
    otherwise sampling (temperature 1 unless given, optionally top-k / top-p)
    for language and one-to-many models, and greedy for an encoder-decoder
    unless a sampling setting is given.

    Args:
        run_or_model: a finished run folder or `preset:NAME`, or a seqzoo model (then pass
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
        compiled: whether to run the whole decoding loop as one compiled
            call (`seqzoo.inference.loop`; on TensorFlow and JAX). With
            `False`, or on PyTorch, the NumPy reference decoders of
            `seqzoo.inference.decoding` run over a compiled step. Greedy and beam
            search give the same ids either way; sampling draws other
            (equally distributed) tokens for the same seed.

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
        setup = _from_task(run_or_model, load_task(task, data_dir=data_dir), f"Model {run_or_model.name!r}")
    else:
        topology = (getattr(run_or_model, "seqzoo_config", None) or {}).get("topology")
        where = f"Model {getattr(run_or_model, 'name', type(run_or_model).__name__)!r}"
        _generative_check(topology, where)
        setup = _Generation(run_or_model, topology, None, None, None, where)
    strategy = _strategy(setup.topology, greedy, beam, temperature, top_k, top_p)
    if strategy == "beam" and num > beam:
        raise ValueError(
            f"Received num={num} with beam={beam}; beam search returns at most beam hypotheses (num <= beam)."
        )
    stepper = stepper_for(setup.model)
    vocabulary = setup.target_vocabulary

    rows_per_case = 1 if strategy == "beam" else num  # Beam search: one row of `beam` beams per case.
    if setup.topology == "encoder_decoder":
        if condition is not None:
            raise ValueError(
                f"Received condition={condition!r}; {setup.where} is an encoder-decoder: give source text(s)."
            )
        texts = _as_list(source if source is not None else prefix) if vocabulary else list(source or prefix or [])
        if not texts:
            raise ValueError(f"{setup.where} translates: give the source text(s) to translate (source= or prefix=).")
        if context is not None and vocabulary:
            texts = [f"{context} {text}" for text in texts]
        sources = [
            encode_text(text, setup.vocabularies["source"], setup.tokenizer, "source")
            if vocabulary
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
                f"Received source={source!r}, context={context!r}; "
                f"{setup.where} is a {setup.topology} model: use prefix=."
            )
        if vocabulary:
            prefix_ids = [encode_text(text, vocabulary, setup.tokenizer) for text in _as_list(prefix) or [""]]
        else:
            rows = list(prefix) if prefix is not None else [[]]
            rows = [rows] if rows and all(is_int(token) for token in rows) else rows
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
    fast = compiled and keras.backend.backend() in COMPILED_BACKENDS
    decoders = loop if fast else decoding
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def run(cache, rows, prefixes):
        options = {"prefix": prefixes, "forbid_unk": forbid_unk, **({} if fast else {"compiled": compiled})}
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
    return [_decode(ids, vocabulary, setup.tokenizer) for ids in sequences]
