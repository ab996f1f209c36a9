"""Generation from seqzoo models, one token at a time (the course's sampling loop)."""

import numpy as np

from seqzoo.architectures import Stepper
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID


def greedy(stepper, cache, batch_size, max_length):
    """Picks the most likely next token at every step, until EOS or `max_length`.

    Returns:
        One list of token ids per sequence, without the start and end tokens.
    """
    tokens = np.full((batch_size,), BOS_ID, "int32")
    outputs = [[] for _ in range(batch_size)]
    finished = np.zeros(batch_size, bool)
    for _ in range(max_length):
        logits, cache = stepper.next(tokens, cache)
        tokens = np.asarray(logits).argmax(-1).astype("int32")
        for row, token in enumerate(tokens):
            if not finished[row]:
                if token == EOS_ID:
                    finished[row] = True
                else:
                    outputs[row].append(int(token))
        if finished.all():
            break
    return outputs


def greedy_translate(model, source, max_length):
    """Greedy translations of a batch of source ids by an encoder-decoder."""
    stepper = Stepper(model)
    return greedy(stepper, stepper.start(source=source), len(source), max_length)
