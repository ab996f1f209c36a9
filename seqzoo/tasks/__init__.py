"""Ready-made tasks: a TFDS dataset, its preprocessing, and the model it needs.

Each name loads its module on first use (PEP 562), so the catalog of tasks
(`seqzoo.tasks.catalog`) is read without TensorFlow.
"""

from seqzoo._lazy import lazy_exports

__all__ = [
    "ClassificationTask",
    "ConditionalGenerationTask",
    "DatasetUnavailableError",
    "FileClassificationTask",
    "LanguageModelTask",
    "TaggingTask",
    "Task",
    "TranslationTask",
    "Vocabulary",
    "list_tasks",
    "load_task",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ClassificationTask": ("seqzoo.tasks.classification", "ClassificationTask"),
        "ConditionalGenerationTask": ("seqzoo.tasks.conditional_generation", "ConditionalGenerationTask"),
        "DatasetUnavailableError": ("seqzoo.tasks.loading", "DatasetUnavailableError"),
        "FileClassificationTask": ("seqzoo.tasks.file_classification", "FileClassificationTask"),
        "LanguageModelTask": ("seqzoo.tasks.language_modeling", "LanguageModelTask"),
        "TaggingTask": ("seqzoo.tasks.tagging", "TaggingTask"),
        "Task": ("seqzoo.tasks.task", "Task"),
        "TranslationTask": ("seqzoo.tasks.translation", "TranslationTask"),
        "Vocabulary": ("seqzoo.tasks.vocabulary", "Vocabulary"),
        "list_tasks": ("seqzoo.tasks.catalog", "list_tasks"),
        "load_task": ("seqzoo.tasks.factory", "load_task"),
    },
)
