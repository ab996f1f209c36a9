"""
Title: A character-level language model of first names, and sampling novel names
Author: seqzoo contributors
Date created: 2026/11/29
Last modified: 2026/12/01
Description: The course's Dinosaurus Island exercise on US first names: train a one-hot SimpleRNN language model for a few epochs, then sample names character by character from the shipped `names` preset and count how many are new.
Accelerator: None

Run it:

    python tutorials/04_character_language_model.py [--fast] [--out DIR] [--data-dir DIR]

It prints samples and statistics and writes `04_next_character.png`,
`04_sample_lengths.png` and a run folder (`DIR/runs/04_names_lm`) into `DIR`
(default `./tutorial_output`). The `names` dataset is generated on first use
from the `names` package (no download). The sampling uses the `names` preset
that ships with seqzoo, so only the short training demo trains.
"""

import argparse
import os
import shutil
import sys

# Lets `python tutorials/04_...py` run from a checkout, without `pip install .`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import seqzoo
from seqzoo.architectures import Stepper
from seqzoo.inference import decoding
from seqzoo.tasks.vocabulary import BOS_ID
from seqzoo.tasks.vocabulary import EOS_ID


def all_names(task):
    """Every name of every split, as written (e.g. "Mary")."""
    names = {}
    for split in ("train", "validation", "test"):
        names[split] = {example["name"].decode() for example in task.raw(split).as_numpy_iterator()}
    return names


def epochs_run(run):
    """How many epochs a run folder's `history.csv` records (early stopping may end a run sooner)."""
    return len(seqzoo.RunFolder(run).history())


def main(fast=False, out="tutorial_output", seed=0, data_dir=None):
    """Runs the tutorial; returns the samples and counts it prints, for the tests."""
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(seed)

    # ## The data
    #
    # The `names` task reads the US Census 1990 first-name lists (shipped in
    # the `names` package) through a TFDS builder: 5,494 (name, gender)
    # pairs, split 80/10/10 by name. Each name is a sequence of characters,
    # framed by BOS and EOS (tutorial 1): the model reads "[BOS] M a r y" and
    # must predict "M a r y [EOS]".
    task = seqzoo.load_task("names", data_dir=data_dir)
    names = all_names(task)
    vocabulary = task.prepare().vocabularies["inputs"]
    print(f"{task.description}\n  names per split: { {s: len(n) for s, n in names.items()} }")
    print(f"  {len(vocabulary)} ids: 4 special + {len(vocabulary.tokens)} characters: {''.join(vocabulary.tokens)}")
    x, y = next(iter(task.examples("train").take(1)))
    print(f"  one example: inputs {x.numpy().tolist()} -> targets {y.numpy().tolist()}")

    # ## The model: the course's one-hot SimpleRNN
    #
    # `rnn_char_lm` is the course's model: one-hot characters into a
    # SimpleRNN, a softmax over the next character at every step. Fitted to a
    # task, seqzoo gives a model an `Embedding` for token ids; `inputs.type:
    # one_hot` keeps the course's one-hot vectors instead. Gradients are
    # clipped (`clipnorm` 5 in this config), as the course's `clip()` does.
    # A few epochs show the loss falling; the sampling below uses a model
    # trained to the end.
    units, epochs = (32, 2) if fast else (64, 8)
    run = os.path.join(out, "runs", "04_names_lm")
    shutil.rmtree(run, ignore_errors=True)  # seqzoo.train resumes an unfinished folder; start afresh.
    run = seqzoo.train(
        "rnn_char_lm",
        task,
        epochs=epochs,
        batch_size=32,
        out=run,
        verbose=0,
        **{"inputs.type": "one_hot", "backbone.units": units},
    )
    metrics = seqzoo.RunFolder(run).metrics()
    uniform_bits = float(np.log2(len(vocabulary) - 2))  # PAD and BOS are never predicted.
    print(
        f"\ntrained {units} units for {epochs_run(run)} epochs (at most {epochs}; early stopping): test {metrics['bits_per_token']:.2f} bits per "
        f"character (a uniform guess: {uniform_bits:.2f}), perplexity {metrics['perplexity']:.1f}"
    )

    # ## A trained model: the `names` preset
    #
    # seqzoo ships trained run folders, presets, that work wherever a run
    # folder does. `preset:names` is `gru_char_lm` (embedded characters into
    # 128 GRU units) trained on this task by `python benchmarks/presets.py`
    # with seed 0, until early stopping; `seqzoo.presets.open_run` gives its
    # `RunFolder`, and its task with the preset's vocabulary. From a shell,
    # `seqzoo generate preset:names --num 5 --temperature 0.5` samples five
    # names with it.
    preset = seqzoo.presets.open_run("preset:names")
    preset_metrics = preset.metrics()
    model = preset.load_model()
    task = preset.load_task(data_dir=data_dir)
    vocabulary = task.vocabularies["inputs"]  # The preset's: the ids its model was trained on.
    print(
        f"\npreset:names: {preset.config['backbone']['cell']} with {preset.config['backbone']['units']} units, "
        f"{len(preset.history())} epochs: test {preset_metrics['bits_per_token']:.2f} bits per character, "
        f"perplexity {preset_metrics['perplexity']:.1f}"
    )

    # ## Sampling
    #
    # Generation is the course's sampling loop: feed BOS, get the
    # distribution of the first character, draw one, feed it back, and so on
    # until the model draws EOS. `seqzoo.generate` runs it (through a
    # `Stepper`, one network step per character). The temperature reshapes
    # the distribution before drawing: below 1 it favours likely characters,
    # above 1 it flattens the distribution toward uniform.
    count = 50 if fast else 200
    known = names["train"] | names["validation"] | names["test"]
    results = {
        "bits_per_character": metrics["bits_per_token"],
        "preset_bits_per_character": preset_metrics["bits_per_token"],
        "uniform_bits": uniform_bits,
        "by_temperature": {},
    }
    for temperature in (0.5, 1.0, 1.5):
        samples = seqzoo.generate(model, task=task, num=count, temperature=temperature, seed=seed, max_length=20)
        novel = [name for name in samples if name and name not in known]  # Not in any split of the data.
        held_out = [name for name in samples if name in names["test"] and name not in names["train"]]
        stats = {
            "samples": samples,
            "novel": len(novel),
            "in_training_set": sum(name in names["train"] for name in samples),
            "held_out_real": sorted(set(held_out)),
            "distinct": len(set(samples)),
            "mean_length": float(np.mean([len(name) for name in samples])),
        }
        results["by_temperature"][temperature] = stats
        shown = [name or "(empty: EOS first)" for name in samples[:12]]
        print(f"\ntemperature {temperature}: {', '.join(shown)}, ...")
        print(
            f"  of {count}: {stats['novel']} novel (in no split), {stats['in_training_set']} from the training "
            f"set, {stats['distinct']} distinct, mean length {stats['mean_length']:.1f}"
        )
        if held_out:
            print(f"  real names the model never saw in training (from the test split): {stats['held_out_real']}")

    # Colder sampling stays near the likeliest names, many of them real
    # names from the training set; hotter sampling invents more names, and
    # more odd ones. At temperature 1 most samples are names that are in no
    # split of the data.
    #
    # Deterministic decoders, for contrast: greedy takes the most likely
    # character each time (one name); beam search keeps the `beam` most likely
    # prefixes and returns the most likely whole names.
    greedy = seqzoo.generate(model, task=task, greedy=True)
    beam = seqzoo.generate(model, task=task, beam=5, num=5)
    print(f"\ngreedy: {greedy}; beam search, the 5 most likely names: {beam}")
    results["greedy"], results["beam"] = greedy, beam

    # ## How likely is a name?
    #
    # The same step-wise path scores a given name: the sum of log P(c<t> |
    # c<1..t-1>) over its characters and EOS. A real name should be more
    # likely than the same letters scrambled.
    stepper = Stepper(model)
    pairs = [("Mary", "Yarm"), ("Robert", "Tborer"), ("Jennifer", "Nfejirne")]
    sequences = [vocabulary.encode(list(name)) for pair in pairs for name in pair]
    log_probabilities = decoding.score(stepper, stepper.start(batch_size=len(sequences)), sequences)
    totals = {name: float(values.sum()) for name, values in zip([n for p in pairs for n in p], log_probabilities)}
    for real, scrambled in pairs:
        print(f"  log P({real!r}) = {totals[real]:7.2f}   log P({scrambled!r}) = {totals[scrambled]:7.2f}")
    results["log_probability"] = totals
    results["pairs"] = pairs

    # ## What the model expects next
    #
    # Reading "Madeline" one character at a time, the model's distribution
    # over the next character, one column per prefix: where it is sure
    # (a trained model: after "Madelin", an "e"; after "Madeline", the end)
    # and where anything goes (the first letter: any capital).
    word = "Madeline"
    ids = np.array([[BOS_ID] + vocabulary.encode(list(word))], "int32")
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(model(ids), axis=-1))[0]
    rows = [EOS_ID] + list(range(4, len(vocabulary)))
    row_labels = ["[EOS]"] + vocabulary.tokens
    figure, axis = plt.subplots(figsize=(7, 10))
    image = axis.imshow(probabilities[:, rows].T, aspect="auto", cmap="magma_r", vmin=0, vmax=1)
    axis.set_xticks(range(len(word) + 1))
    axis.set_xticklabels(["[BOS]"] + [word[: t + 1] for t in range(len(word))], rotation=45, ha="right", fontsize=8)
    axis.set_yticks(range(len(rows)))
    axis.set_yticklabels(row_labels, fontsize=6)
    for t, next_char in enumerate(list(word) + ["[EOS]"]):
        axis.add_patch(
            plt.Rectangle(
                (t - 0.5, row_labels.index(next_char) - 0.5), 1, 1, fill=False, edgecolor="tab:blue", linewidth=1.2
            )
        )
    axis.set_xlabel("prefix read so far")
    axis.set_ylabel("next character")
    axis.set_title(
        f"P(next character | prefix) while reading {word!r}\n(blue boxes: the actual next character)", fontsize=10
    )
    figure.colorbar(image, ax=axis, pad=0.01, fraction=0.05)
    figure.tight_layout()
    path = os.path.join(out, "04_next_character.png")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"\nwrote {path}")

    figure, axis = plt.subplots(figsize=(7, 3.5))
    bins = np.arange(0, 21) + 0.5
    axis.hist([len(name) for name in names["train"]], bins=bins, density=True, alpha=0.5, label="training names")
    for temperature, stats in results["by_temperature"].items():
        axis.hist(
            [len(name) for name in stats["samples"]],
            bins=bins,
            density=True,
            histtype="step",
            linewidth=1.5,
            label=f"samples, temperature {temperature}",
        )
    axis.set_xlabel("name length (characters)")
    axis.set_ylabel("share of names")
    axis.set_title("Lengths of sampled names against real ones", fontsize=10)
    axis.legend(fontsize=8)
    figure.tight_layout()
    lengths_path = os.path.join(out, "04_sample_lengths.png")
    figure.savefig(lengths_path, dpi=110)
    plt.close(figure)
    print(f"wrote {lengths_path}")
    results["plots"] = [path, lengths_path]
    results["run"] = run
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--fast", action="store_true", help="a tiny model, 2 epochs (what the tests run)")
    parser.add_argument("--out", default="tutorial_output", help="folder for the plots and the run folder")
    parser.add_argument("--data-dir", default=None, help="TFDS data folder (default: TFDS's)")
    arguments = parser.parse_args()
    main(fast=arguments.fast, out=arguments.out, data_dir=arguments.data_dir)
