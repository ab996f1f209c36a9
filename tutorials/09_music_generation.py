"""
Title: Music generation from Bach chorales, written to MIDI
Author: seqzoo contributors
Date created: 2026/11/29
Last modified: 2026/12/01
Description: The course's "Improvise a jazz solo" on Bach: the shipped `chorales` preset, a one-to-many LSTM trained on chorale melodies (conditioned on major or minor), samples new ones step by step, and music21 writes them as MIDI that parses back note for note.
Accelerator: None

Run it:

    python tutorials/09_music_generation.py [--fast] [--out DIR] [--data-dir DIR]

It prints the generated melodies and writes `09_melody_major.mid` (and
`.musicxml`), `09_melody_minor.mid`, `09_continuation.mid`,
and `09_piano_roll.png` into `DIR` (default `./tutorial_output`). Nothing
trains: the model is the `chorales` preset that ships with seqzoo. The
`chorales` dataset is generated on first use from music21's corpus (no
download); fast mode uses its `small` config (30 chorales, whose test split
is part of the full one's).
"""

import argparse
import os
import sys

# Lets `python tutorials/09_...py` run from a checkout, without `pip install .`.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import music21
import numpy as np

import seqzoo
from seqzoo import music


def parse_back(midi_path):
    """Reads a MIDI file with music21: `[(midi pitch, length in quarter notes), ...]`.

    music21 puts what it reads into 4/4 bars and splits a note that crosses a
    bar line into two tied notes; `stripTies` joins them again.
    """
    score = music21.converter.parse(midi_path).stripTies()
    return [(n.pitch.midi, float(n.quarterLength)) for n in score.flatten().notes]


def main(fast=False, out="tutorial_output", seed=0, data_dir=None):
    """Runs the tutorial; returns the melodies and the MIDI checks, for the tests."""
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(seed)

    # ## The data
    #
    # `chorales` samples each of Bach's four-part chorales (music21's corpus)
    # on a grid of sixteenth notes: one token per step, the soprano's MIDI
    # pitch (60 is middle C) or 0 for a rest, so a half note is 8 equal
    # tokens. The condition is the chorale's mode, major or minor, from
    # music21's key analysis. The course's jazz model read 78-dimensional
    # "values"; here a token is a pitch. The task is loaded with the
    # preset's vocabulary (below): the pitches its model reads and writes.
    preset = seqzoo.presets.open_run("preset:chorales")
    options = {"dataset": "seqzoo_chorales/small"} if fast else {}
    task = preset.load_task(seqzoo.load_task("chorales", data_dir=data_dir, **options))
    vocabulary = task.vocabularies["inputs"]
    sizes = {split: sum(1 for _ in task.raw(split)) for split in ("train", "validation", "test")}
    print(
        f"{task.description}\n  chorales per split: {sizes}; {len(vocabulary.tokens)} tokens "
        f"(pitches and 0 for rest): {sorted(int(t) for t in vocabulary.tokens)}"
    )

    # ## The model: the `chorales` preset
    #
    # A one-to-many model (tutorial 3): the mode sets the LSTM's initial
    # states a<0> and c<0>, then it predicts each step's pitch from the
    # previous ones (teacher forcing in training). `preset:chorales` is
    # `lstm_music` (two LSTM layers of 128 units) trained on the full
    # dataset's training split for 40 epochs by `python
    # benchmarks/presets.py` with seed 0. `seqzoo.evaluate` reads a preset like any run
    # folder; from a shell, `seqzoo evaluate preset:chorales`.
    metrics = seqzoo.evaluate("preset:chorales", task=task)
    # A held note repeats its pitch step after step, so "the same pitch as
    # the step before" is already right most of the time: the baseline that
    # the accuracy has to beat.
    repeats, steps = 0, 0
    for x, y in task.examples("test").as_numpy_iterator():
        fed = x["inputs"]  # [BOS] y<1> ... y<T-1>: at step t the model reads y<t-1>.
        repeats += int((fed[1:] == y[1:]).sum())  # Predict y<t> = y<t-1>.
        steps += len(y)
    metrics["repeat_baseline"] = repeats / steps
    print(
        f"\npreset:chorales, {len(preset.history())} epochs: test accuracy {metrics['accuracy']:.3f} "
        f"(next sixteenth's pitch; repeating the previous pitch: {metrics['repeat_baseline']:.3f}), "
        f"perplexity {metrics['perplexity']:.2f}"
    )

    # The preset beats that baseline: 0.828 against 0.808 on the full test
    # split (29 chorales), 0.805 against 0.747 on the small config's 3. It
    # predicts more than "hold the note", though most sixteenths of a chorale
    # only continue one.

    # ## Generating melodies
    #
    # `seqzoo.generate` samples one sixteenth at a time from the model's
    # distribution, feeding each pitch back, until EOS or `max_length`. A
    # temperature below 1 keeps it closer to the likeliest continuations.
    # `top_p` keeps only the smallest set of pitches whose probability reaches
    # p (nucleus sampling), which removes the unlikely wrong notes.
    # From a shell: `seqzoo generate preset:chorales --condition minor
    # --temperature 0.8 --top-p 0.95 --out minor.mid` writes a melody as MIDI
    # and MusicXML.
    model = preset.load_model()
    length = 64 if fast else 128  # Sixteenth notes: four (eight) bars of 4/4.
    melodies = {}
    #
    # A chorale ends on a long held note, so a sample may also end early
    # (write EOS) after one: draw four melodies per mode and keep the longest.
    for index, mode in enumerate(("major", "minor")):
        texts = seqzoo.generate(
            model, task=task, condition=mode, num=4, temperature=0.8, top_p=0.95, seed=seed + index, max_length=length
        )
        candidates = [[int(token) for token in text.split()] for text in texts]
        melodies[mode] = max(candidates, key=len)
        print(f"  {mode}: drew melodies of {[len(c) for c in candidates]} sixteenths, kept the longest")

    # A continuation: the first two bars of a chorale from the test split as
    # a prefix; the model writes what follows.
    example = next(task.raw("test").as_numpy_iterator())
    opening = [int(p) for p in example["soprano"][:32]]
    mode = task.condition_names()[int(example["mode"])]
    prefix = " ".join(str(p) for p in opening)
    text = seqzoo.generate(
        model,
        task=task,
        condition=mode,
        prefix=prefix,
        num=1,
        temperature=0.8,
        top_p=0.95,
        seed=seed,
        max_length=length,
    )[0]
    melodies["continuation"] = [int(token) for token in text.split()]
    print(f"  continuing {example['id'].decode()} ({mode}) from its first {len(opening)} steps")

    # ## Writing MIDI with music21
    #
    # `music.write_melody` merges repeated pitches into held notes (a run
    # of 8 equal tokens is one half note; a rest is 0), builds a music21
    # stream and writes MIDI and MusicXML. (The grid cannot tell a held note
    # from the same note struck again; the dataset's `soprano_onset` feature
    # could.) Reading the MIDI back with music21 gives the same notes.
    checks = {}
    for name, pitches in melodies.items():
        midi, musicxml = music.write_melody(
            pitches, os.path.join(out, f"09_melody_{name}" if name != "continuation" else "09_continuation")
        )
        expected = [(pitch, steps * music.STEP) for pitch, steps in music.melody_runs(pitches) if pitch != 0]
        parsed = parse_back(midi)
        checks[name] = {"expected": expected, "parsed": parsed, "midi": midi, "musicxml": musicxml}
        names = " ".join(music21.pitch.Pitch(midi=p).nameWithOctave for p, _ in expected[:12])
        print(
            f"  {name:12}: {len(pitches)} steps, {len(expected)} notes ({names} ...) -> {midi}; "
            f"read back: {len(parsed)} notes, same pitches and lengths: {parsed == expected}"
        )

    # ## A piano roll
    figure, axes = plt.subplots(4, 1, figsize=(12, 9), sharex=True)
    real = [int(p) for p in example["soprano"][: len(opening) + length]]
    rolls = [
        ("Bach: " + example["id"].decode() + f" ({mode})", real, None),
        ("generated, major", melodies["major"], None),
        ("generated, minor", melodies["minor"], None),
        ("Bach's first 2 bars, then the model", melodies["continuation"], len(opening)),
    ]
    every = [p for _, pitches, _ in rolls for p in pitches if p]
    low, high = (min(every) - 2, max(every) + 2) if every else (55, 85)
    for axis, (title, pitches, split) in zip(axes, rolls):
        for start, (pitch, steps) in zip(
            np.cumsum([0] + [s for _, s in music.melody_runs(pitches)])[:-1], music.melody_runs(pitches)
        ):
            if pitch:
                color = "tab:gray" if split is not None and start < split else "tab:blue"
                axis.add_patch(plt.Rectangle((start, pitch - 0.4), steps - 0.1, 0.8, color=color))
        if split is not None:
            axis.axvline(split, color="red", linestyle=":", linewidth=1)
        axis.set_ylim(low, high)
        axis.set_xlim(0, max(len(real), max(len(p) for _, p, _ in rolls)))
        ticks = [p for p in range(low, high + 1) if p % 12 in (0, 4, 7)]
        axis.set_yticks(ticks)
        axis.set_yticklabels([music21.pitch.Pitch(midi=p).nameWithOctave for p in ticks], fontsize=7)
        for bar in range(0, axis.get_xlim()[1].__int__() + 1, 16):
            axis.axvline(bar, color="#dddddd", linewidth=0.6, zorder=0)
        axis.set_title(title, fontsize=9)
    axes[-1].set_xlabel("time (sixteenth notes; grid lines every bar of 4/4)")
    figure.suptitle("Soprano lines as piano rolls: one rectangle per note, pitch on the vertical axis", fontsize=11)
    figure.tight_layout()
    path = os.path.join(out, "09_piano_roll.png")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {path}")
    return {"metrics": metrics, "melodies": melodies, "checks": checks, "opening": opening, "plot": path}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--fast", action="store_true", help="30 chorales, shorter melodies (what the tests run)")
    parser.add_argument("--out", default="tutorial_output", help="folder for the MIDI files and plots")
    parser.add_argument("--data-dir", default=None, help="TFDS data folder (default: TFDS's)")
    arguments = parser.parse_args()
    main(fast=arguments.fast, out=arguments.out, data_dir=arguments.data_dir)
