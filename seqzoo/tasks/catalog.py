"""The ready-made tasks, as plain data: name -> (task class name, arguments). Imports no TensorFlow.

So the command line lists the tasks and checks a task's name before
TensorFlow loads; `factory.load_task` makes the task.
"""

import os

from seqzoo.errors import unknown_name_error
from seqzoo.tasks.locales import LOCALES

# Each task class's topology (the class's own `topology`; a test keeps them equal).
TOPOLOGIES = {
    "ClassificationTask": "many_to_one",
    "LanguageModelTask": "language_model",
    "ConditionalGenerationTask": "one_to_many",
    "TranslationTask": "encoder_decoder",
    "TaggingTask": "many_to_many",
}

TASKS = {
    # Offline: seqzoo's own datasets, generated from installed packages.
    "japanese_vowels": (
        "ClassificationTask",
        dict(
            dataset="seqzoo_japanese_vowels",
            description="Which of 9 speakers said /ae/: 12 LPC coefficients per frame, 7-29 frames (many-to-one).",
            splits={"train": "train[:90%]", "validation": "train[90%:]", "test": "test"},
            inputs_feature="lpc",
            label_feature="speaker",
        ),
    ),
    "names": (
        "LanguageModelTask",
        dict(
            dataset="seqzoo_names",
            description="Character-level language model of US first names (1990 census); samples novel names.",
            text_feature="name",
            tokenizer="chars",
        ),
    ),
    "names_by_gender": (
        "ConditionalGenerationTask",
        dict(
            dataset="seqzoo_names",
            description="One-to-many: a gender -> a first name, character by character.",
            text_feature="name",
            condition_feature="gender",
            tokenizer="chars",
        ),
    ),
    "dates": (
        "TranslationTask",
        dict(
            dataset="seqzoo_dates",
            description="Encoder-decoder: human-readable dates in many formats and locales -> ISO 8601.",
            source_feature="human",
            target_feature="iso",
            context_feature="locale",
            tokenizer="chars",
            contexts=LOCALES,
            default_context="en_US",  # All-numeric dates as in the US ("12/31/99") unless a context says otherwise.
            lowercase=True,
            target_pattern="iso_date",
        ),
    ),
    "chorales": (
        "ConditionalGenerationTask",
        dict(
            dataset="seqzoo_chorales",
            description="One-to-many: a mode (major/minor) -> a Bach chorale melody, one pitch per sixteenth note.",
            text_feature="soprano",
            condition_feature="mode",
            tokenizer="integers",
        ),
    ),
    "chorales_harmony": (
        "TaggingTask",
        dict(
            dataset="seqzoo_chorales",
            description="Many-to-many harmonization: a chorale's soprano -> its bass, step by step.",
            inputs_feature="soprano",
            tags_feature="bass",
            tokenizer="integers",
            shared_vocabulary=True,
        ),
    ),
    # Downloading: TFDS datasets for users with the network (or a prepared data_dir).
    "imdb_reviews": (
        "ClassificationTask",
        dict(
            dataset="imdb_reviews",
            description="Sentiment of movie reviews, positive or negative (many-to-one, words).",
            splits={"train": "train[:90%]", "validation": "train[90%:]", "test": "test"},
            inputs_feature="text",
            label_feature="label",
            tokenizer="words",
            max_length=400,
        ),
    ),
    "conll2003": (
        "TaggingTask",
        dict(
            dataset="conll2003",
            description="Named-entity recognition, the course's name finder (many-to-many, IOB tags).",
            splits={"train": "train", "validation": "dev", "test": "test"},
            inputs_feature="tokens",
            tags_feature="ner",
            tokenizer="pretokenized",
        ),
    ),
    "tiny_shakespeare": (
        "LanguageModelTask",
        dict(
            dataset="tiny_shakespeare",
            description="Character-level language model of Shakespeare, in windows of 100 characters.",
            text_feature="text",
            tokenizer="chars",
            window=100,
        ),
    ),
    "ted_hrlr_translate/pt_to_en": (
        "TranslationTask",
        dict(
            dataset="ted_hrlr_translate/pt_to_en",
            description="Portuguese -> English translation of TED talks (encoder-decoder, words).",
            source_feature="pt",
            target_feature="en",
            tokenizer="words",
            max_vocab=20000,
            max_length=60,
        ),
    ),
}
OFFLINE_TASKS = tuple(name for name, (_, arguments) in TASKS.items() if arguments["dataset"].startswith("seqzoo_"))

# The tasks over data that a name points at: one line each for `seqzoo tasks` (pattern, topology, description).
DATA_TASKS = {
    "tfds:NAME": (
        "from keys",
        "Any TFDS dataset; its supervised_keys choose the topology and features, task options override them.",
    ),
    "csv:PATH": (
        "many_to_one",
        "Your texts in a CSV/TSV file: columns text, label [, split]; else a seeded 80/10/10 split.",
    ),
    "folder:PATH": (
        "many_to_one",
        "Your .txt files, one subfolder per class (or train/ validation/ test/ of those), as Keras reads them.",
    ),
}


def list_tasks():
    """The names of the ready-made tasks, offline ones first (see `DATA_TASKS` for the others)."""
    return list(OFFLINE_TASKS) + sorted(set(TASKS) - set(OFFLINE_TASKS))


def check_task(name):
    """Raises a `ValueError` for an unknown task name, or a `csv:`/`folder:` path that is not there.

    Reads no data: `tfds:NAME` is checked when TFDS loads it.

    Example:

    >>> check_task("namez")
    Traceback (most recent call last):
    ValueError: Unknown task 'namez'. Did you mean 'names'? ...
    """
    kind, _, path = name.partition(":")
    if kind == "tfds" or (kind in ("csv", "folder") and not path):
        return  # `load_task` says what a csv: or folder: task without a path needs.
    if kind == "csv" and not os.path.isfile(path):
        raise ValueError(f"Task {name!r}: no such file {path!r} (a CSV or TSV file with a header row was expected).")
    if kind == "folder" and not os.path.isdir(path):
        raise ValueError(f"Task {name!r}: no such folder {path!r} (one subfolder of .txt files per class expected).")
    if kind not in ("csv", "folder") and name not in TASKS:
        raise unknown_name_error("task", name, [*list_tasks(), *DATA_TASKS])
