"""What turns seqzoo's cells into sequence layers."""

from seqzoo.layers.one_hot import OneHot
from seqzoo.layers.recurrent import Recurrent
from seqzoo.layers.recurrent_stack import MERGE_MODES
from seqzoo.layers.recurrent_stack import RecurrentStack

__all__ = ["MERGE_MODES", "OneHot", "Recurrent", "RecurrentStack"]
