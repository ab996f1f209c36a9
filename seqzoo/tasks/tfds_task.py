"""`tfds:NAME`: a task on any TFDS dataset, read from its `supervised_keys` unless options say otherwise."""

import numpy as np

from seqzoo.tasks.classification import ClassificationTask
from seqzoo.tasks.conditional_generation import ConditionalGenerationTask
from seqzoo.tasks.language_modeling import LanguageModelTask
from seqzoo.tasks.loading import OFFLINE_PREFIX
from seqzoo.tasks.loading import dataset_info
from seqzoo.tasks.loading import load_split
from seqzoo.tasks.loading import tfds_module
from seqzoo.tasks.options import choice
from seqzoo.tasks.options import constructor_options
from seqzoo.tasks.options import typed_options
from seqzoo.tasks.tagging import TaggingTask
from seqzoo.tasks.tokenizers import TOKENIZERS
from seqzoo.tasks.translation import TranslationTask

KINDS = {
    "many_to_one": ClassificationTask,
    "many_to_many": TaggingTask,
    "language_model": LanguageModelTask,
    "one_to_many": ConditionalGenerationTask,
    "encoder_decoder": TranslationTask,
}
# The options that name the (input, target) of `supervised_keys`, per kind.
ROLES = {
    "many_to_one": ("inputs_feature", "label_feature"),
    "many_to_many": ("inputs_feature", "tags_feature"),
    "language_model": ("text_feature", None),
    "one_to_many": ("text_feature", "condition_feature"),
    "encoder_decoder": ("source_feature", "target_feature"),
}
SPLIT_OPTIONS = {
    "train_split": "train",
    "validation_split": "validation",
    "test_split": "test",
}
VALIDATION_NAMES = ("validation", "valid", "dev", "val")


def feature_kind(feature):
    """What a TFDS feature holds, in the terms that choose a task.

    Returns:
        `"class"` (a `ClassLabel`), `"classes"` (a sequence of them), `"text"`,
        `"texts"` (a sequence of words), `"integers"` (a sequence of ints),
        `"vectors"` (float frames, shape `(T, dim)`), or `None`.
    """
    features = tfds_module().features
    if isinstance(feature, features.ClassLabel):
        return "class"
    if isinstance(feature, features.Text):
        return "text"
    if isinstance(feature, features.Sequence):
        inner = feature_kind(feature.feature)
        if inner in ("class", "text"):
            return {"class": "classes", "text": "texts"}[inner]
        integer = np.issubdtype(np.dtype(feature.feature.np_dtype), np.integer)
        if inner is None and integer and not feature.feature.shape:
            return "integers"
        return None
    if isinstance(feature, features.Tensor):
        dtype, shape = np.dtype(feature.np_dtype), feature.shape
        if np.issubdtype(dtype, np.floating) and len(shape) == 2:
            return "vectors"
        if np.issubdtype(dtype, np.integer) and len(shape) == 1:
            return "integers"
    return None


TOKENIZER_OF = {
    "text": "words",
    "texts": "pretokenized",
    "integers": "integers",
    "vectors": None,
}


def from_supervised_keys(info):
    """The topology and feature options that a dataset's `supervised_keys` imply.

    `(text, ClassLabel)` -> `many_to_one` over words; `(words, ClassLabel
    sequence)` -> `many_to_many`; `(ints, ints)` -> `many_to_many` in one shared
    vocabulary; `(text, text)` -> `encoder_decoder`; `(float frames, ClassLabel)`
    -> `many_to_one` on dense features.

    Args:
        info: a `tfds.core.DatasetInfo`.

    Returns:
        A dict of options (`topology`, the feature names, `tokenizer`, ...), or
        `{}` where the keys are absent or not a pair of feature names.
    """
    keys = info.supervised_keys
    if not keys or not all(isinstance(key, str) and key in info.features for key in keys[:2]):
        return {}
    source, target = keys[:2]
    kinds = feature_kind(info.features[source]), feature_kind(info.features[target])
    topology = {
        ("class",): "many_to_one",
        ("classes",): "many_to_many",
        ("text",): "encoder_decoder",
        ("integers",): "many_to_many",
    }.get(kinds[1:])
    if topology is None or kinds[0] not in TOKENIZER_OF or (kinds[0] == "vectors" and topology != "many_to_one"):
        return {}
    options = {
        "topology": topology,
        ROLES[topology][0]: source,
        ROLES[topology][1]: target,
    }
    options["tokenizer"] = TOKENIZER_OF[kinds[0]]
    if kinds == ("integers", "integers"):
        options["shared_vocabulary"] = True
    return options


def default_splits(info):
    """Train, validation and test splits: the dataset's, else carved from train."""
    names = set(info.splits.keys())
    if not names:  # Not prepared yet (or mock data): most TFDS datasets have train and test.
        names = {"train", "test"}
    validation = next((name for name in VALIDATION_NAMES if name in names), None)
    if validation and "test" in names:
        return {"train": "train", "validation": validation, "test": "test"}
    if "test" in names:
        return {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}
    if validation:
        return {"train": "train[:90%]", "validation": validation, "test": "train[90%:]"}
    return {
        "train": "train[:80%]",
        "validation": "train[80%:90%]",
        "test": "train[90%:]",
    }


def tfds_task(dataset, data_dir=None, offline_tasks=(), **options):
    """A task on any TFDS dataset: its `supervised_keys` say what to learn; options override.

    Args:
        dataset: the TFDS name, with a config if any, e.g. `"imdb_reviews"`.
        data_dir: the TFDS data folder.
        offline_tasks: the offline task names, for a failed download's message.
        **options: `topology` (one of `KINDS`), the feature names of that kind
            (`inputs_feature` and `label_feature`, `inputs_feature` and
            `tags_feature`, `text_feature` [and `condition_feature`],
            `source_feature` and `target_feature`), `tokenizer`, `max_length`,
            `max_vocab`, ...; the splits as `train_split`, `validation_split`,
            `test_split` (TFDS split strings) or a `splits` dict.

    Returns:
        A `Task` named `"tfds:<dataset>"`.

    Example:

    >>> seqzoo.load_task("tfds:imdb_reviews").model_spec()["topology"]  # supervised_keys ('text', 'label')
    'many_to_one'
    >>> seqzoo.load_task("tfds:imdb_reviews", topology="one_to_many", tokenizer="chars")  # a review from a sentiment
    """
    name = f"tfds:{dataset}"
    allowed = {"topology", "splits", *SPLIT_OPTIONS} | set().union(*map(constructor_options, KINDS.values()))
    options = typed_options(name, options, allowed - {"dataset"})
    if dataset.startswith(OFFLINE_PREFIX):  # Generated offline (once) so that its splits are known.
        load_split(dataset, "train", data_dir, offline_tasks)
    info = dataset_info(dataset, data_dir, offline_tasks)
    inferred = from_supervised_keys(info)
    topology = options.pop("topology", None) or inferred.get("topology")
    if topology is None:
        raise ValueError(
            f"The task {name!r} needs the option topology (one of {', '.join(KINDS)}) and the names of its "
            f"features: the dataset has no supervised_keys to read them from. Its features: "
            f"{', '.join(info.features.keys())}."
        )
    choice(name, "topology", topology, KINDS)
    if inferred and inferred["topology"] != topology:  # Keep the supervised keys' roles, not their kind's options.
        source, target = (inferred[role] for role in ROLES[inferred["topology"]])
        inferred = {"tokenizer": inferred["tokenizer"], ROLES[topology][0]: source}
        if ROLES[topology][1]:
            inferred[ROLES[topology][1]] = target
    arguments = {
        **{key: value for key, value in inferred.items() if key != "topology"},
        **options,
    }
    splits = {**default_splits(info), **(arguments.pop("splits", None) or {})}
    splits.update({SPLIT_OPTIONS[key]: arguments.pop(key) for key in SPLIT_OPTIONS if key in arguments})
    task_class = KINDS[topology]
    check_arguments(name, topology, arguments, info, constructor_options(task_class))
    try:
        task = task_class(
            name,
            dataset=dataset,
            description=f"TFDS {dataset} ({topology}).",
            splits=splits,
            data_dir=data_dir,
            **arguments,
        )
    except TypeError as error:  # A feature argument that this kind needs and nothing gave.
        raise ValueError(
            f"The task {name!r} as a {topology} task: {error}. Its features: {', '.join(info.features.keys())}."
        ) from error
    task.offline_tasks = offline_tasks
    return task


def check_arguments(name, topology, arguments, info, allowed):
    """Raises a `ValueError` for an option the kind does not take, or a feature the dataset lacks."""
    for key, value in arguments.items():
        if key not in allowed:
            raise ValueError(
                f"The task {name!r} as a {topology} task takes no option {key!r}; it takes "
                f"{', '.join(sorted(allowed))}."
            )
        if key.endswith("_feature") and value is not None:
            choice(name, key, value, info.features.keys())
        if key == "tokenizer" and value is not None:
            choice(name, key, value, TOKENIZERS)
