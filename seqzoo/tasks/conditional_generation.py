"""One-to-many tasks: a condition (a class) -> a sequence (a name, a melody)."""

from seqzoo.tasks.language_modeling import LanguageModelTask
from seqzoo.tasks.language_modeling import frame


class ConditionalGenerationTask(LanguageModelTask):
    """Generates a sequence from a class, e.g. a name from a gender.

    Args:
        condition_feature: the `ClassLabel` feature that conditions the sequence.
        **kwargs: those of `LanguageModelTask` (`text_feature` is the sequence).
    """

    topology = "one_to_many"

    def __init__(self, *args, condition_feature, **kwargs):
        super().__init__(*args, **kwargs)
        self.condition_feature = condition_feature

    def to_example(self, example):
        inputs, targets = frame(self.truncate(self.encode(example)))
        return {"condition": example[self.condition_feature], "inputs": inputs}, targets

    def condition_names(self):
        return self.info().features[self.condition_feature].names

    def model_spec(self):
        spec = super().model_spec()
        spec["topology"] = self.topology
        spec["condition"] = {"type": "classes", "size": len(self.condition_names())}
        return spec
