"""One factory function per topology, each returning an uncompiled `SeqzooModel`."""

from seqzoo.architectures.encoder_decoder import encoder_decoder
from seqzoo.architectures.language_model import language_model
from seqzoo.architectures.many_to_many import many_to_many
from seqzoo.architectures.many_to_one import many_to_one
from seqzoo.architectures.model import SeqzooModel
from seqzoo.architectures.one_to_many import one_to_many
from seqzoo.architectures.stepper import GENERATIVE_TOPOLOGIES
from seqzoo.architectures.stepper import Stepper

TOPOLOGIES = {
    "many_to_one": many_to_one,
    "many_to_many": many_to_many,
    "one_to_many": one_to_many,
    "encoder_decoder": encoder_decoder,
    "language_model": language_model,
}

__all__ = [
    "GENERATIVE_TOPOLOGIES",
    "SeqzooModel",
    "Stepper",
    "TOPOLOGIES",
    "encoder_decoder",
    "language_model",
    "many_to_many",
    "many_to_one",
    "one_to_many",
]
