"""US Census 1990 first names, from the PyPI package `names`."""

from seqzoo.tasks.builders.names.builder import SeqzooNames

__all__ = ["SeqzooNames"]
