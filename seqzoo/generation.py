"""`generate` and `export_run`: from a trained run (or a model and its task) to strings, as one call.

Both are thin calls of `seqzoo.trained.TrainedRun`, which holds the model
with its vocabularies and tokenizer: `seqzoo.load(run).generate(...)` and
`seqzoo.load(run).export(out)` do the same.

Example:

>>> seqzoo.generate("runs/names", num=3, prefix="Ma", seed=0)
['Mara', 'Marlene', 'Madie']
"""

from seqzoo.inference.export import check_out
from seqzoo.trained import generation
from seqzoo.trained.generation import COMPILED_BACKENDS
from seqzoo.trained.run import as_trained
from seqzoo.trained.run import load

__all__ = ["COMPILED_BACKENDS", "export_run", "generate"]


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
    return load(folder, task, data_dir).export(out, overwrite=overwrite, **options)


def generate(run_or_model, *args, task=None, data_dir=None, **settings):
    """Writes novel sequences with a trained generative model, as strings.

    The strategy: beam search if `beam` is set; greedy if `greedy=True`;
    otherwise sampling (temperature 1 unless given, optionally top-k / top-p)
    for language and one-to-many models, and greedy for an encoder-decoder
    unless a sampling setting is given.

    Args:
        run_or_model: a finished run folder or `preset:NAME`, a `TrainedRun`,
            or a seqzoo model (then pass `task`, a `Task` with its
            vocabularies, to get strings; without it, prefixes, conditions
            and sources are ids and so is the result).
        *args, **settings: those of `seqzoo.trained.generation.generate`
            after its first: `num`, `temperature`, `top_k`, `top_p`, `beam`,
            `prefix`, `condition`, `seed`, `max_length` (in that order), and
            `source`, `context`, `greedy`, `length_penalty`, `forbid_unk`,
            `compiled`, `labelled`.
        task: the task (name or `Task`) when it cannot be read from the run.
        data_dir: the TFDS data folder, for the task's class names.

    Returns:
        A list of strings, `num` for each condition x prefix (or source), in
        that order (with `labelled=True`, dicts that name their condition,
        prefix or source beside the `generated` text).

    Example:

    >>> seqzoo.generate("runs/names_by_gender", num=2, condition="female", seed=1)
    ['Lorine', 'Anna']
    >>> seqzoo.generate("runs/dates", prefix=["3 may 1999", "tuesday, july 4, 1876"], context="en_US")
    ['1999-05-03', '1876-07-04']
    """
    return generation.generate(as_trained(run_or_model, task, data_dir), *args, **settings)
