"""
Title: Bidirectional and deep RNNs on a tagging task
Author: seqzoo contributors
Date created: 2026/11/29
Last modified: 2026/11/29
Description: One direction against two and one layer against two, on a tagging task whose tags depend on the next word, where a unidirectional model provably cannot do well.
Accelerator: None

Run it:

    python tutorials/07_bidirectional_and_deep_rnns.py [--fast] [--out DIR]

It prints the accuracies and writes `07_bidirectional_and_deep.png` into
`DIR` (default `./tutorial_output`). The full mode also harmonizes Bach
chorales (the `chorales_harmony` task), one direction against two.
"""

import argparse
import os
import sys

# Lets `python tutorials/07_...py` run from a checkout, without `pip install .`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import seqzoo

# ## The task
#
# The course's example: in "He said, Teddy Roosevelt was a great president"
# and "He said, Teddy bears are on sale", whether "Teddy" is part of a name
# depends on the word *after* it. A model that reads left to right must tag
# "Teddy" before it has seen that word.
#
# The synthetic task below makes that dependence exact. Sentences are T
# random words (ids 4 .. 4 + WORDS - 1; ids 0-3 are PAD, UNK, BOS, EOS), and
# the tag of word t is
#
#     tag<t> = (x<t> + x<t+1>) mod 3        (the last word: x<T> mod 3)
#
# Given the words up to t, the next word is uniformly random, so any
# left-to-right model can only guess tag<t>: it is right a third of the time,
# except at the last word. Its best possible accuracy is
# (1/3)(T-1)/T + 1/T. A bidirectional model sees x<t+1> and can be exact.
WORDS = 12  # A multiple of 3, so that x<t+1> mod 3 is uniform.
TAGS = 3
T = 16


def make_data(count, rng):
    """`count` random sentences `(count, T)` and their tags `(count, T)`."""
    words = rng.integers(4, 4 + WORDS, size=(count, T))
    value = words - 4  # 0 .. WORDS - 1
    tags = value.copy()
    tags[:, :-1] += value[:, 1:]  # x<t> + x<t+1>; the last word has no next word.
    return words.astype("int32"), (tags % TAGS).astype("int32")


def main(fast=False, out="tutorial_output", seed=0, data_dir=None):
    """Runs the tutorial; returns the accuracies it prints, for the tests."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    train = make_data(2000 if fast else 8000, rng)
    test = make_data(500 if fast else 2000, rng)
    epochs = 6 if fast else 20
    units = 16 if fast else 32
    ceiling = (1 / 3) * (T - 1) / T + 1 / T
    print(
        f"{len(train[0])} training sentences of {T} words; a left-to-right model can reach at most "
        f"{ceiling:.3f} accuracy"
    )
    print(f"example: words {train[0][0].tolist()}\n         tags  {train[1][0].tolist()}")

    # ## Four models from one named config
    #
    # `lstm_bi_tagger` is a many-to-many LSTM tagger; overrides pick the
    # vocabulary and the number of tags, the direction and the depth. In a
    # deep RNN each layer reads the sequence of states of the layer below; in a
    # bidirectional one each layer reads the sequence both ways and the two
    # directions' states are concatenated, so ŷ<t> depends on a→<t> (the words
    # up to t) and a←<t> (the words from t on).
    variants = {
        "1 layer, unidirectional": {"backbone.bidirectional": False, "backbone.depth": 1},
        "1 layer, bidirectional": {"backbone.bidirectional": True, "backbone.depth": 1},
        "2 layers, unidirectional": {"backbone.bidirectional": False, "backbone.depth": 2},
        "2 layers, bidirectional": {"backbone.bidirectional": True, "backbone.depth": 2},
    }
    histories, accuracies, parameters = {}, {}, {}
    for name, overrides in variants.items():
        keras.utils.set_random_seed(seed)
        model = seqzoo.build(
            "lstm_bi_tagger",
            **{
                "inputs.vocab_size": 4 + WORDS,
                "inputs.embedding_dim": 8,
                "outputs.size": TAGS,
                "backbone.units": units,
                "optimizer.learning_rate": 1e-2,
                **overrides,
            },
        )
        history = model.fit(*train, validation_data=test, batch_size=128 if fast else 64, epochs=epochs, verbose=0)
        histories[name] = history.history["val_accuracy"]
        accuracies[name] = float(model.evaluate(*test, verbose=0, return_dict=True)["accuracy"])
        parameters[name] = model.count_params()
        print(f"  {name:26} {parameters[name]:6,} parameters: test accuracy {accuracies[name]:.3f}")

    # The unidirectional models stay at the ceiling (up to the sampling noise
    # of a finite test set) however deep they are: depth adds capacity, not
    # information about the future. The bidirectional ones solve the task.
    # Depth helps when a tag needs more processing of the context than one
    # layer of this width gives; on this task one layer is enough, and the
    # second layer only costs parameters and time.
    results = {"accuracy": accuracies, "ceiling": ceiling, "parameters": parameters, "histories": histories}

    # ## Real data: harmonizing Bach (full mode)
    #
    # `chorales_harmony` tags each sixteenth note of a chorale's soprano with
    # the bass note under it. A bass line leads to the next chord, so it
    # depends on where the melody goes next: the same comparison, one
    # direction against two, on real music.
    if not fast:
        harmony = {}
        task = seqzoo.load_task("chorales_harmony", data_dir=data_dir)
        for name, bidirectional in (("unidirectional", False), ("bidirectional", True)):
            keras.utils.set_random_seed(seed)
            run = seqzoo.train(
                "lstm_bi_harmonizer",
                task,
                epochs=10,
                verbose=0,
                out=os.path.join(out, "runs", f"07_harmony_{name}"),
                **{"backbone.bidirectional": bidirectional},
            )
            metrics = seqzoo.evaluate(run, data_dir=data_dir)
            harmony[name] = metrics["token_accuracy"]
            print(
                f"  chorales_harmony, {name:15}: bass accuracy {metrics['token_accuracy']:.3f} "
                f"(always the most frequent bass note: {metrics['majority_baseline']:.3f})"
            )
        results["harmony_accuracy"] = harmony

    figure, axes = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [3, 2]})
    for name, values in histories.items():
        axes[0].plot(
            range(1, len(values) + 1),
            values,
            marker="o" if name.startswith("1") else "^",
            markersize=8 if name.startswith("1") else 5,
            linestyle="--" if "unidirectional" in name else "-",
            label=name,
        )
    for axis in axes:
        axis.axhline(ceiling, color="red", linestyle=":", label="best possible left to right")
        axis.axhline(1 / 3, color="gray", linestyle=":", label="chance (1/3)")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("test accuracy (per word)")
    axes[0].set_ylim(0, 1.02)
    axes[0].set_title("tag<t> = (x<t> + x<t+1>) mod 3: learning curves", fontsize=10)
    axes[0].legend(fontsize=8)
    names = list(accuracies)
    bars = axes[1].bar(range(len(names)), [accuracies[n] for n in names], color=["C0", "C1", "C2", "C3"])
    for bar, name in zip(bars, names):
        axes[1].text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height() + 0.01,
            f"{accuracies[name]:.2f}",
            ha="center",
            fontsize=9,
        )
    axes[1].set_xticks(range(len(names)))
    axes[1].set_xticklabels([n.replace(", ", "\n") for n in names], fontsize=8)
    axes[1].set_ylim(0, 1.1)
    axes[1].set_title("final test accuracy", fontsize=10)
    figure.tight_layout()
    path = os.path.join(out, "07_bidirectional_and_deep.png")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {path}")
    results["plot"] = path
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--fast", action="store_true", help="small data, few epochs (what the tests run)")
    parser.add_argument("--out", default="tutorial_output", help="folder for the plots and runs")
    parser.add_argument("--data-dir", default=None, help="TFDS data folder (default: TFDS's)")
    arguments = parser.parse_args()
    main(fast=arguments.fast, out=arguments.out, data_dir=arguments.data_dir)
