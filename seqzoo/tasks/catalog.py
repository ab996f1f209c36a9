"""The ready-made tasks, as plain data: name -> (task class, arguments)."""

from seqzoo.tasks.classification import ClassificationTask
from seqzoo.tasks.conditional_generation import ConditionalGenerationTask
from seqzoo.tasks.language_modeling import LanguageModelTask
from seqzoo.tasks.tagging import TaggingTask
from seqzoo.tasks.translation import TranslationTask

TASKS = {
    # Offline: seqzoo's own datasets, generated from installed packages.
    "japanese_vowels": (ClassificationTask, dict(
        dataset="seqzoo_japanese_vowels",
        description="Which of 9 speakers said /ae/: 12 LPC coefficients per frame, 7-29 frames (many-to-one).",
        splits={"train": "train[:90%]", "validation": "train[90%:]", "test": "test"},
        inputs_feature="lpc", label_feature="speaker")),
    "names": (LanguageModelTask, dict(
        dataset="seqzoo_names",
        description="Character-level language model of US first names (1990 census); samples novel names.",
        text_feature="name", tokenizer="chars")),
    "names_by_gender": (ConditionalGenerationTask, dict(
        dataset="seqzoo_names",
        description="One-to-many: a gender -> a first name, character by character.",
        text_feature="name", condition_feature="gender", tokenizer="chars")),
    "dates": (TranslationTask, dict(
        dataset="seqzoo_dates",
        description="Encoder-decoder: human-readable dates in many formats and locales -> ISO 8601.",
        source_feature="human", target_feature="iso", context_feature="locale", tokenizer="chars")),
    "chorales": (ConditionalGenerationTask, dict(
        dataset="seqzoo_chorales",
        description="One-to-many: a mode (major/minor) -> a Bach chorale melody, one pitch per sixteenth note.",
        text_feature="soprano", condition_feature="mode", tokenizer="integers")),
    "chorales_harmony": (TaggingTask, dict(
        dataset="seqzoo_chorales",
        description="Many-to-many harmonization: a chorale's soprano -> its bass, step by step.",
        inputs_feature="soprano", tags_feature="bass", tokenizer="integers", shared_vocabulary=True)),
    # Downloading: TFDS datasets for users with the network (or a prepared data_dir).
    "imdb_reviews": (ClassificationTask, dict(
        dataset="imdb_reviews",
        description="Sentiment of movie reviews, positive or negative (many-to-one, words).",
        splits={"train": "train[:90%]", "validation": "train[90%:]", "test": "test"},
        inputs_feature="text", label_feature="label", tokenizer="words", max_length=400)),
    "conll2003": (TaggingTask, dict(
        dataset="conll2003",
        description="Named-entity recognition, the course's name finder (many-to-many, IOB tags).",
        splits={"train": "train", "validation": "dev", "test": "test"},
        inputs_feature="tokens", tags_feature="ner", tokenizer="pretokenized")),
    "tiny_shakespeare": (LanguageModelTask, dict(
        dataset="tiny_shakespeare",
        description="Character-level language model of Shakespeare, in windows of 100 characters.",
        text_feature="text", tokenizer="chars", window=100)),
    "ted_hrlr_translate/pt_to_en": (TranslationTask, dict(
        dataset="ted_hrlr_translate/pt_to_en",
        description="Portuguese -> English translation of TED talks (encoder-decoder, words).",
        source_feature="pt", target_feature="en", tokenizer="words", max_vocab=20000, max_length=60)),
}
OFFLINE_TASKS = tuple(name for name, (_, arguments) in TASKS.items() if arguments["dataset"].startswith("seqzoo_"))

KINDS = {
    "many_to_one": ClassificationTask,
    "many_to_many": TaggingTask,
    "language_model": LanguageModelTask,
    "one_to_many": ConditionalGenerationTask,
    "encoder_decoder": TranslationTask,
}


def generic_task(dataset, topology=None, data_dir=None, splits=None, **features):
    """A task on any TFDS dataset: say the topology and which features to use.

    Args:
        dataset: the TFDS name, e.g. `"imdb_reviews"`.
        topology: one of `KINDS`: `many_to_one` (`inputs_feature`,
            `label_feature`, `tokenizer`), `many_to_many` (`inputs_feature`,
            `tags_feature`), `language_model` (`text_feature`), `one_to_many`
            (`text_feature`, `condition_feature`) or `encoder_decoder`
            (`source_feature`, `target_feature`).
        data_dir: the TFDS data folder.
        splits: TFDS split strings for train, validation and test.
        **features: the feature names and options of that kind of task.

    Example:

    >>> seqzoo.load_task("tfds:imdb_reviews", topology="many_to_one",
    ...     inputs_feature="text", label_feature="label", tokenizer="words")
    """
    if topology is None:
        raise ValueError(
            f"The generic task 'tfds:{dataset}' needs topology=, one of {', '.join(KINDS)}, "
            f"and the names of the features to use (see seqzoo.tasks.catalog.generic_task)."
        )
    if topology not in KINDS:
        from seqzoo.errors import unknown_name_error

        raise unknown_name_error("topology", topology, KINDS)
    try:
        task = KINDS[topology](
            f"tfds:{dataset}", dataset=dataset, description=f"TFDS {dataset} ({topology}).",
            splits=splits, data_dir=data_dir, **features,
        )
    except TypeError as error:  # A missing or unknown feature argument.
        raise ValueError(f"The generic task 'tfds:{dataset}' as a {topology} task: {error}.") from error
    task.offline_tasks = OFFLINE_TASKS
    return task
