"""
Title: Notation, one-hot vectors, UNK and EOS
Author: seqzoo contributors
Date created: 2026/11/29
Last modified: 2026/11/29
Description: The course's x<t>, Tx and one-hot vectors, built with Keras preprocessing layers and seqzoo's Vocabulary and OneHot.
Accelerator: None

Run it:

    python tutorials/01_notation_and_one_hot.py [--fast] [--out DIR]

It prints what it computes and writes `01_one_hot.png` into `DIR`
(default `./tutorial_output`).
"""

import argparse
import os
import sys

# Lets `python tutorials/01_...py` run from a checkout, without `pip install .`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from seqzoo.layers import OneHot
from seqzoo.tasks import Vocabulary
from seqzoo.tasks.vocabulary import BOS
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS
from seqzoo.tasks.vocabulary import EOS_ID
from seqzoo.tasks.vocabulary import PAD_ID
from seqzoo.tasks.vocabulary import UNK
from seqzoo.tasks.vocabulary import UNK_ID

# A small corpus standing in for the course's 10,000-word dictionary. The
# vocabulary is what the training data contains: a word that is not in it
# (here "hermione", "spell" and "dragon") will be unknown.
CORPUS = [
    "harry potter and ron weasley invented a new game",
    "harry and ron went to a new school",
    "the cat drinks milk and the cats drink milk",
    "a potter made a new cup",
    "ron and harry found a cat",
    "the school had a new game",
    "granger found the cup",
]
SENTENCE = "harry potter and hermione granger invented a new spell"
# The course's named-entity labels for SENTENCE: y<t> = 1 where x<t> is part of a name.
NAME_LABELS = [1, 1, 0, 1, 1, 0, 0, 0, 0]


def main(fast=False, out="tutorial_output"):
    """Runs the tutorial; returns the numbers it shows, for the tests."""
    del fast  # Nothing here is slow: the fast mode is the full one.
    os.makedirs(out, exist_ok=True)

    # ## Notation
    #
    # The course writes a sequence input as x<1>, x<2>, ..., x<Tx>: x<t> is the
    # t-th element (here a word) and Tx the length. The output y<1>, ..., y<Ty>
    # may have another length Ty. For the name finder of the first lecture,
    # each y<t> says whether word x<t> is part of a person's name, so Ty = Tx.
    # With m examples, x(i)<t> is the t-th word of the i-th one, and the
    # lengths Tx(i) differ from example to example.
    words = SENTENCE.split()
    print(f"Tx = {len(words)}")
    for t, (word, label) in enumerate(zip(words, NAME_LABELS), start=1):
        print(f"  x<{t}> = {word!r:12} y<{t}> = {label}")

    # ## A vocabulary, with UNK, BOS and EOS
    #
    # A word becomes a number through a vocabulary (the course's dictionary).
    # seqzoo's `Vocabulary` is built on Keras's `StringLookup` layer and keeps
    # four ids for special tokens:
    #
    # - 0: padding (PAD), the filler that makes sequences of a batch equally long;
    # - 1: UNK, every word that the vocabulary does not know;
    # - 2: BOS, the start of a sequence (what a language model is fed first);
    # - 3: EOS, the end of a sequence (what a generator writes to stop).
    #
    # The known words follow, most frequent first.
    vocabulary = Vocabulary.from_sequences(sentence.split() for sentence in CORPUS)
    print(f"\nvocabulary size |V| = {len(vocabulary)} (4 special tokens + {len(vocabulary.tokens)} words)")
    print("first ids:", {token or "[PAD]": index for index, token in enumerate(vocabulary.inverse[:10])})

    ids = vocabulary.encode(words)
    print(f"\n{SENTENCE!r}\n  -> ids {ids}")
    unknown = [word for word, index in zip(words, ids) if index == UNK_ID]
    print(f"  unknown words (id {UNK_ID}, {UNK}): {unknown}")
    decoded = vocabulary.decode(ids)
    print(f"  decoded back: {' '.join(decoded)!r}")

    # `Vocabulary` is a thin wrapper: `vocabulary.lookup` is the Keras layer,
    # and it works on string tensors too, inside a `tf.data` pipeline.
    lookup = vocabulary.lookup
    print(
        f"\nthe Keras layer: {type(lookup).__name__}, "
        f"{lookup.vocabulary_size()} entries, first {[str(t) for t in lookup.get_vocabulary()[:6]]}"
    )
    tensor_ids = np.asarray(lookup(keras.ops.convert_to_tensor(words)))
    print(f"  on a string tensor: {tensor_ids.tolist()}")

    # A sequence for a language model is framed by BOS and EOS: the model
    # reads [BOS] y<1> ... y<T> and learns to predict y<1> ... y<T> [EOS],
    # the same sequence shifted by one step (x<t> = y<t-1>).
    framed = [BOS_ID] + ids + [EOS_ID]
    model_inputs, model_targets = framed[:-1], framed[1:]
    print(f"\nframed: {[vocabulary.inverse[i] or '[PAD]' for i in framed]}")
    print(f"  inputs  {model_inputs}\n  targets {model_targets}")

    # ## One-hot vectors
    #
    # The course feeds x<t> to the network as a one-hot vector: a column of
    # |V| zeros with a single 1 in the row of the word's id. seqzoo's `OneHot`
    # layer does that to a batch of ids `(batch, Tx)`, giving
    # `(batch, Tx, |V|)`. Id 0 is padding: its vector is all zeros and the
    # layer passes a mask on, so the recurrent layer skips those steps.
    batch = keras.utils.pad_sequences([ids, vocabulary.encode("ron found a cat".split())], padding="post", value=PAD_ID)
    print(f"\na padded batch of two sentences, shape {batch.shape}:\n{batch}")
    one_hot = OneHot(len(vocabulary))
    vectors = np.asarray(one_hot(batch))
    mask = np.asarray(one_hot.compute_mask(batch))
    print(f"one-hot vectors: shape {vectors.shape} = (batch, Tx, |V|)")
    row_sums = vectors.sum(axis=-1)
    print(f"sum of each vector (1 for a word, 0 for padding):\n{row_sums.astype(int)}")
    print(f"mask passed on to the next layer:\n{mask.astype(int)}")

    # Keras's own `StringLookup(output_mode="one_hot")` gives the same vectors
    # straight from the strings, without a row for padding (in its one-hot
    # mode padding has no index), so it equals seqzoo's vectors without row 0.
    keras_one_hot = keras.layers.StringLookup(
        vocabulary=[BOS, EOS] + vocabulary.tokens, oov_token=UNK, output_mode="one_hot"
    )
    from_strings = np.asarray(keras_one_hot(words)).astype("float32")
    same = bool(np.array_equal(from_strings, vectors[0, : len(words), 1:]))
    print(f"\nStringLookup one-hot equals OneHot without the padding row: {same}")

    # In one picture: each column is one x<t>, each row one vocabulary entry.
    figure, axis = plt.subplots(figsize=(8, 6.5))
    axis.imshow(vectors[0].T, cmap="Greys", aspect="auto", interpolation="nearest")
    axis.set_xticks(range(len(words)))
    axis.set_xticklabels([f"x<{t}>\n{w}" for t, w in enumerate(words, 1)], fontsize=8)
    axis.set_yticks(range(len(vocabulary)))
    axis.set_yticklabels([f"{i} {token or '[PAD]'}" for i, token in enumerate(vocabulary.inverse)], fontsize=7)
    axis.set_xticks(np.arange(-0.5, len(words)), minor=True)
    axis.set_yticks(np.arange(-0.5, len(vocabulary)), minor=True)
    axis.grid(which="minor", color="#dddddd", linewidth=0.5)
    axis.tick_params(which="minor", length=0)
    axis.set_ylabel("vocabulary id")
    axis.set_title(
        "One-hot vectors: one column per word, a single 1 (black) per column\n(unknown words light up row 1, [UNK])",
        fontsize=10,
    )
    figure.tight_layout()
    path = os.path.join(out, "01_one_hot.png")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"\nwrote {path}")

    return {
        "vocabulary_size": len(vocabulary),
        "ids": ids,
        "unknown_words": unknown,
        "unknown_id": UNK_ID,
        "decoded": decoded,
        "framed_inputs": model_inputs,
        "framed_targets": model_targets,
        "one_hot_shape": vectors.shape,
        "row_sums": row_sums,
        "mask": mask,
        "string_lookup_matches": same,
        "plot": path,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--fast", action="store_true", help="tiny models, few steps (what the tests run)")
    parser.add_argument("--out", default="tutorial_output", help="folder for the plots")
    arguments = parser.parse_args()
    main(fast=arguments.fast, out=arguments.out)
