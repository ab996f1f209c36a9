"""J. S. Bach's four-part chorales from music21's corpus, on a sixteenth-note grid."""

from seqzoo.tasks.builders.chorales.builder import ChoralesConfig
from seqzoo.tasks.builders.chorales.builder import SeqzooChorales

__all__ = ["ChoralesConfig", "SeqzooChorales"]
