"""A token vocabulary with the course's special tokens, on Keras's `StringLookup`."""

import collections
import json

import keras
import numpy as np

PAD, UNK, BOS, EOS = "", "[UNK]", "[BOS]", "[EOS]"
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


class Vocabulary:
    """Maps tokens to ids and back: 0 padding, 1 UNK, 2 start, 3 end, then the tokens.

    As in the course, a token outside the vocabulary becomes UNK, and every
    sequence can be framed by start (BOS) and end (EOS) tokens.

    Args:
        tokens: the known tokens, most frequent first, without special ones.

    Example:

    >>> vocab = Vocabulary(["a", "b"])
    >>> vocab.encode(["a", "z", "b"])
    [4, 1, 5]
    """

    def __init__(self, tokens):
        self.tokens = list(tokens)
        self.lookup = keras.layers.StringLookup(
            vocabulary=[BOS, EOS] + self.tokens, mask_token=PAD, oov_token=UNK, output_mode="int"
        )
        self.inverse = [PAD, UNK, BOS, EOS] + self.tokens

    def __len__(self):
        return len(self.inverse)

    @classmethod
    def from_sequences(cls, sequences, max_size=None, min_count=1):
        """Builds the vocabulary of an iterable of token sequences, most frequent first."""
        counts = collections.Counter(token for sequence in sequences for token in sequence)
        ranked = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return cls(ranked[:max_size])

    def encode(self, tokens):
        """Token strings (a list or a tf string tensor, even in `tf.data`) -> int32 ids."""
        ids = self.lookup(tokens)
        return [int(i) for i in np.asarray(ids)] if isinstance(tokens, list) else ids

    def decode(self, ids, stop_at_eos=True):
        """Ids -> tokens, dropping padding and start tokens, stopping at the end token."""
        tokens = []
        for index in np.asarray(ids).tolist():
            if index == EOS_ID and stop_at_eos:
                break
            if index not in (PAD_ID, BOS_ID):
                tokens.append(self.inverse[index])
        return tokens

    def save(self, path):
        with open(path, "w") as file:
            json.dump({"tokens": self.tokens}, file, ensure_ascii=False)

    @classmethod
    def load(cls, path):
        with open(path) as file:
            return cls(json.load(file)["tokens"])
