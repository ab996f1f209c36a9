"""
Title: The four kinds of RNN (and a language model)
Author: seqzoo contributors
Date created: 2026/11/29
Last modified: 2026/11/29
Description: Many-to-one, many-to-many, one-to-many and encoder-decoder models built with seqzoo, what their shapes mean, and what each output may depend on.
Accelerator: None

Run it:

    python tutorials/03_kinds_of_rnn.py [--fast] [--out DIR]

It prints each model's shapes and a few checks, and writes
`03_kinds_of_rnn.png` (a diagram of the five topologies, with the shapes of
the models built here) into `DIR` (default `./tutorial_output`).
"""

import argparse
import os
import sys

# Lets `python tutorials/03_...py` run from a checkout, without `pip install .`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import seqzoo
from seqzoo.architectures import Stepper
from seqzoo.tasks.vocabulary import BOS_ID

BATCH = 2


def shape_of(value):
    """Shapes of a tensor or of a dict of tensors, for printing."""
    if isinstance(value, dict):
        return {key: tuple(v.shape) for key, v in value.items()}
    return tuple(value.shape)


def describe(name, model, inputs):
    """Runs a model on `inputs` and prints what goes in and what comes out."""
    outputs = np.asarray(model(inputs))
    print(f"\n{name}: {model.count_params():,} parameters")
    print(f"  in : {shape_of(inputs)}")
    print(f"  out: {outputs.shape}")
    return outputs


def main(fast=False, out="tutorial_output", seed=0):
    """Runs the tutorial; returns the shapes and checks it prints, for the tests."""
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    units = 8 if fast else 32
    vocab = 30  # A toy vocabulary: ids 4..29 are "words" (0-3: PAD, UNK, BOS, EOS).
    Tx, Ty = 7, 4
    results = {"shapes": {}}

    # Every topology in `seqzoo.architectures` is a function of a `backbone`
    # (the recurrent stack: cell, units, depth, direction) and of what goes in
    # and comes out. Token ids go in through an `Embedding` (or `OneHot`, as
    # in the course), id 0 being padding.
    backbone = {"cell": "gru", "units": units}
    tokens = {"type": "tokens", "vocab_size": vocab, "embedding_dim": 8}
    x = rng.integers(4, vocab, size=(BATCH, Tx)).astype("int32")

    # ## Many-to-one (Tx > Ty = 1): sentiment, speaker, ...
    #
    # The whole sequence is read and one answer comes out of the last state
    # a<Tx>, e.g. the number of stars of a movie review. Output:
    # `(batch, classes)`, one row of logits per sequence.
    many_to_one = seqzoo.architectures.many_to_one(backbone, tokens, {"type": "classes", "size": 5})
    y = describe("many-to-one (5-star rating of a review)", many_to_one, x)
    results["shapes"]["many_to_one"] = y.shape

    # A shorter review padded with zeros gets the same answer as the review
    # alone: the padding is masked, so the last state a<Tx> is the last real
    # word's.
    short = x[:1, :4]
    padded = np.pad(short, ((0, 0), (0, Tx - 4)))
    padding_difference = float(np.abs(np.asarray(many_to_one(short)) - np.asarray(many_to_one(padded))).max())
    print(f"  a 4-word review alone vs padded to {Tx}: max |difference| = {padding_difference:.1e}")
    results["padding_difference"] = padding_difference

    # ## Many-to-many with Tx = Ty: tagging (the name finder)
    #
    # One output per input step: `(batch, Tx, tags)`. A unidirectional
    # backbone's ŷ<t> sees x<1..t> only; a bidirectional one sees the whole
    # sentence. Check it: change the words after position 3 and see which
    # outputs move.
    tags = {"type": "classes", "size": 3}
    uni = seqzoo.architectures.many_to_many(backbone, tokens, tags)
    bi = seqzoo.architectures.many_to_many({**backbone, "bidirectional": True}, tokens, tags)
    y = describe("many-to-many (a tag per word), unidirectional", uni, x)
    results["shapes"]["many_to_many"] = y.shape
    describe("many-to-many, bidirectional", bi, x)
    changed = x.copy()
    changed[:, 3:] = rng.integers(4, vocab, size=(BATCH, Tx - 3))
    causality = {}
    for name, model in (("unidirectional", uni), ("bidirectional", bi)):
        before = np.asarray(model(x))[:, :3]
        after = np.asarray(model(changed))[:, :3]
        causality[name] = float(np.abs(before - after).max())
        print(f"  {name}: words 4..{Tx} changed -> ŷ<1..3> moved by {causality[name]:.2e}")
    results["causality"] = causality

    # The same through the registry: `lstm_bi_tagger` is a named many-to-many
    # model; overrides change any setting, here to this toy vocabulary.
    tagger = seqzoo.build(
        "lstm_bi_tagger",
        **{"inputs.vocab_size": vocab, "inputs.embedding_dim": 8, "backbone.units": units, "outputs.size": 3},
    )
    print(
        f"  seqzoo.build('lstm_bi_tagger', ...) -> {tagger.seqzoo_config['topology']}, "
        f"out {np.asarray(tagger(x)).shape}"
    )

    # ## One-to-many: music generation, a name from a gender
    #
    # One input (here a class: major or minor) sets the initial state a<0>, and
    # the model writes a sequence. In training it is fed the true previous
    # token (teacher forcing), so it takes the condition and the sequence so
    # far, `[BOS] y<1> ... y<Ty-1>`, and returns logits for y<1..Ty>:
    # `(batch, Ty, vocab)`. In generation it is fed its own previous output,
    # one step at a time (`Stepper`, used in tutorials 4 and 9).
    one_to_many = seqzoo.architectures.one_to_many(backbone, {"type": "classes", "size": 2}, tokens)
    condition = np.array([0, 1], "int32")
    melody = np.concatenate([np.full((BATCH, 1), BOS_ID), x[:, : Ty - 1]], axis=1).astype("int32")
    one_to_many_inputs = {"condition": condition, "inputs": melody}
    y = describe("one-to-many (a melody from a mode)", one_to_many, one_to_many_inputs)
    results["shapes"]["one_to_many"] = y.shape
    same_melody = {"condition": np.array([0, 1], "int32"), "inputs": np.repeat(melody[:1], 2, axis=0)}
    logits = np.asarray(one_to_many(same_melody))
    condition_effect = float(np.abs(logits[0] - logits[1]).max())
    print(f"  same melody, major vs minor condition: logits differ by {condition_effect:.2e}")
    results["condition_effect"] = condition_effect

    # ## Encoder-decoder (Tx != Ty): translation
    #
    # An encoder reads x<1..Tx> into its final states; a decoder starts from
    # them and writes y<1..Ty>, again fed the previous target token in
    # training. The two lengths are independent: here Tx = 7, Ty = 4.
    targets = {"type": "tokens", "vocab_size": 12, "embedding_dim": 8}
    translator = seqzoo.architectures.encoder_decoder(backbone, tokens, targets, attention="dot")
    target_in = np.concatenate([np.full((BATCH, 1), BOS_ID), rng.integers(4, 12, size=(BATCH, Ty - 1))], axis=1)
    translator_inputs = {"inputs": x, "decoder_inputs": target_in.astype("int32")}
    y = describe("encoder-decoder with attention (translation)", translator, translator_inputs)
    results["shapes"]["encoder_decoder"] = y.shape

    # ## A language model
    #
    # A many-to-many model whose targets are its inputs shifted by one step:
    # fed [BOS] y<1> ... y<T-1>, it predicts y<1> ... y<T>, i.e.
    # P(y<t> | y<1..t-1>) at every step: `(batch, T, vocab)`.
    language_model = seqzoo.architectures.language_model(backbone, tokens)
    sentence = np.concatenate([np.full((BATCH, 1), BOS_ID), x[:, :-1]], axis=1).astype("int32")
    full = describe("language model (next word at every step)", language_model, sentence)
    results["shapes"]["language_model"] = full.shape

    # Generation runs the same layers one step at a time: `Stepper` keeps the
    # states a<t> between calls, so each new token costs one step. Its logits
    # equal the full model's, step for step.
    #
    # `Stepper` reads the topology from `model.seqzoo_config`, which
    # `seqzoo.build` writes; the factory functions used here leave it to the
    # caller.
    language_model.seqzoo_config = {"topology": "language_model"}
    one_to_many.seqzoo_config = {"topology": "one_to_many"}
    translator.seqzoo_config = {"topology": "encoder_decoder"}
    results["stepper_difference"] = {}
    for name, model, start, fed, whole in (
        ("language model", language_model, {"batch_size": BATCH}, sentence, sentence),
        ("one-to-many", one_to_many, {"condition": condition}, melody, one_to_many_inputs),
        ("encoder-decoder", translator, {"source": x}, translator_inputs["decoder_inputs"], translator_inputs),
    ):
        stepper = Stepper(model)
        cache = stepper.start(**start)
        stepped = []
        for t in range(fed.shape[1]):
            step_logits, cache = stepper.next(fed[:, t], cache)
            stepped.append(np.asarray(step_logits))
        difference = float(np.abs(np.stack(stepped, axis=1) - np.asarray(model(whole))).max())
        results["stepper_difference"][name] = difference
        print(
            f"  {name}: Stepper, one token at a time, vs the whole sequence at once: "
            f"max |difference| = {difference:.1e}"
        )

    path = os.path.join(out, "03_kinds_of_rnn.png")
    draw_topologies(path, results["shapes"], Tx, Ty)
    print(f"\nwrote {path}")
    results["plot"] = path
    return results


# ## The picture
#
# The course draws each kind as boxes (the recurrent step) between inputs
# below and outputs above. The diagram below is drawn from the same
# description, with the output shapes of the models built above.


def draw_topologies(path, shapes, Tx, Ty):
    """Draws each topology: boxes are time steps, inputs below, outputs above."""
    kinds = [
        # title, key, inputs below each box (None: nothing), outputs above, decoder from, a<0> from
        ("many-to-one", "many_to_one", ["x<1>", "x<2>", "x<3>", "x<4>"], [None, None, None, "ŷ"], None, None),
        (
            "many-to-many (Tx = Ty)",
            "many_to_many",
            ["x<1>", "x<2>", "x<3>", "x<4>"],
            ["ŷ<1>", "ŷ<2>", "ŷ<3>", "ŷ<4>"],
            None,
            None,
        ),
        (
            "one-to-many",
            "one_to_many",
            ["<BOS>", None, None, None],
            ["ŷ<1>", "ŷ<2>", "ŷ<3>", "ŷ<4>"],
            None,
            "x (class)",
        ),
        (
            "encoder-decoder (Tx ≠ Ty)",
            "encoder_decoder",
            ["x<1>", "x<2>", "x<3>", "x<4>", "<BOS>", None, None],
            [None, None, None, None, "ŷ<1>", "ŷ<2>", "ŷ<3>"],
            4,
            None,
        ),
        (
            "language model",
            "language_model",
            ["<BOS>", "y<1>", "y<2>", "y<3>"],
            ["ŷ<1>", "ŷ<2>", "ŷ<3>", "ŷ<4>"],
            None,
            None,
        ),
    ]
    figure, axes = plt.subplots(2, 3, figsize=(15, 6.5))
    for axis, (title, key, below, above, decoder_from, initial) in zip(axes.flat, kinds):
        steps = len(below)
        generated = key in ("one_to_many", "encoder_decoder")
        for t in range(steps):
            decoder = decoder_from is not None and t >= decoder_from
            axis.add_patch(
                plt.Rectangle(
                    (t - 0.3, 0.7), 0.6, 0.6, facecolor="#f4c28a" if decoder else "#9ecae1", edgecolor="black"
                )
            )
            if t > 0:
                axis.annotate("", (t - 0.3, 1.0), (t - 0.7, 1.0), arrowprops={"arrowstyle": "->"})
            if below[t] is not None:
                axis.text(t, 0.1, below[t], ha="center", va="center", fontsize=9)
                axis.annotate("", (t, 0.7), (t, 0.25), arrowprops={"arrowstyle": "->"})
            if above[t] is not None:
                axis.text(t, 1.85, above[t], ha="center", va="center", fontsize=9)
                axis.annotate("", (t, 1.72), (t, 1.3), arrowprops={"arrowstyle": "->"})
                if generated and t + 1 < steps:
                    axis.annotate(
                        "",
                        (t + 0.85, 0.68),
                        (t + 0.15, 1.75),
                        arrowprops={"arrowstyle": "->", "linestyle": "--", "color": "gray"},
                    )
        if initial is not None:
            axis.text(-1.45, 1.0, initial, ha="center", va="center", fontsize=9)
            axis.annotate("", (-0.3, 1.0), (-1.0, 1.0), arrowprops={"arrowstyle": "->"})
            axis.text(-0.65, 1.12, "a<0>", ha="center", fontsize=7)
        axis.set_xlim(-1.9 if initial else -0.7, steps - 0.3)
        axis.set_ylim(-0.1, 2.1)
        axis.set_aspect("equal")
        axis.axis("off")
        axis.set_title(f"{title}\nmodel output shape {shapes[key]}", fontsize=10)
    legend = axes.flat[-1]
    legend.axis("off")
    legend.text(
        0.0,
        0.5,
        (
            "blue box: one recurrent step (a<t-1>, x<t>) -> a<t>\n"
            "orange box: a decoder step\n"
            "dashed arrow: the generated token is the next input\n"
            "    (in training: the true previous token, teacher forcing)\n\n"
            f"shapes: (batch, classes), (batch, Tx, tags),\n"
            f"(batch, Ty, vocabulary); here Tx = {Tx}, Ty = {Ty}"
        ),
        fontsize=10,
        va="center",
    )
    figure.suptitle("The kinds of RNN: inputs below, recurrent steps in the middle, outputs above", fontsize=12)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--fast", action="store_true", help="tiny models (what the tests run)")
    parser.add_argument("--out", default="tutorial_output", help="folder for the plots")
    arguments = parser.parse_args()
    main(fast=arguments.fast, out=arguments.out)
