"""seqzoo: a Keras 3 zoo of recurrent sequence models."""

from seqzoo import architectures
from seqzoo import cells
from seqzoo import layers
from seqzoo.generation import generate
from seqzoo.tasks import list_tasks
from seqzoo.tasks import load_task
from seqzoo.training import evaluate
from seqzoo.training import train
from seqzoo.tuning import tune
from seqzoo.zoo import build
from seqzoo.zoo import get_config
from seqzoo.zoo import list_models

__version__ = "0.1.0"

__all__ = [
    "architectures",
    "build",
    "cells",
    "evaluate",
    "generate",
    "get_config",
    "layers",
    "list_models",
    "list_tasks",
    "load_task",
    "train",
    "tune",
]
