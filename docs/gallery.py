"""Renders seqzoo's gallery from the shipped presets: no training, no dataset, under a minute on a CPU.

Run it:

    python docs/gallery.py [--out gallery_output] [--seed 0] [--only NAME ...]

It writes one small PNG per picture and `README.md`, the gallery page with a
caption under each picture, into `--out` (by default `./gallery_output`, so
the checkout's pictures change only with `--out docs/gallery`). Everything is seeded: the same
presets and seed give the same pictures. The pictures:

- `attention`: the attention map of date translations (`preset:dates`);
- `gates`: a GRU's gates while it reads a name (`preset:names`);
- `gradients`: how ||∂a<T>/∂x<t>|| decays with the distance T - t, for the
  names preset's GRU, the same GRU untrained and a SimpleRNN of its size;
- `piano_roll`: melodies written by `preset:chorales`, with the bass that
  `preset:chorales_harmony` puts under the major one;
- `training_curve`: the names preset's loss and accuracy, epoch by epoch.
"""

import argparse
import functools
import os
import sys

# Lets `python docs/gallery.py` run from a checkout, without `pip install .`.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo import cells  # noqa: E402
from seqzoo import diagnostics  # noqa: E402
from seqzoo import music  # noqa: E402
from seqzoo.presets import open_run  # noqa: E402
from seqzoo.runs.plots import training_curve as draw_training_curve  # noqa: E402
from seqzoo.tasks.vocabulary import BOS_ID  # noqa: E402
from seqzoo.tasks.vocabulary import PAD_ID  # noqa: E402

DPI = 100
# What the dates encoder reads: the locale, then the date ("3/9/24" is 9 March in en_US, 3 September in es_ES).
DATES = ["en_US saturday, march 9, 2024", "en_US 3/9/24", "es_ES 3/9/24"]
NAME = "Christopher"
GATE_UNITS = 32  # of the names preset's 128
GRADIENT_STEPS, GRADIENT_BATCH = 50, 16  # random letter strings read by each layer
FAR = 40  # the distance T - t at which `gradients` compares the layers
MELODY_STEPS = 64  # four bars of sixteenth notes

CAPTIONS = {
    "attention": (
        "Attention map of `preset:dates` translating three dates: each row is one ISO character written, each column "
        "one source character, each row sums to 1. Writing the month, en_US reads the 3 of '3/9/24' and es_ES the 9.",
        "`python docs/gallery.py --only attention`: `diagnostics.attention_scores` on greedy translations, drawn by "
        "`diagnostics.plot_attention`.",
    ),
    "gates": (
        f"The `preset:names` GRU reading '{NAME}': its update gate z (near 1: keep the state), reset gate, candidate "
        f"and state `a<t>`, for {GATE_UNITS} of its 128 units, one column per character.",
        "`python docs/gallery.py --only gates`: `diagnostics.record_gates` on the preset's cell, drawn by "
        "`diagnostics.plot_gates`.",
    ),
    "gradients": (
        f"`||∂a<T>/∂x<t>||` against the distance T - t over {GRADIENT_STEPS} random letters: the trained GRU's "
        "gradient falls about a hundredfold over the first thirty steps back, then rises again far back (the "
        "first letters of a long string weigh more than the middle ones), while the SimpleRNN's keeps shrinking "
        "geometrically; an untrained GRU (z ≈ 0.5) vanishes fastest.",
        "`python docs/gallery.py --only gradients`: `diagnostics.input_gradient_norms` per layer, drawn by "
        "`diagnostics.plot_gradient_norms`.",
    ),
    "piano_roll": (
        f"Piano rolls of {MELODY_STEPS // 16} bars written by `preset:chorales` (seed 0) for 'major' and 'minor', "
        "one rectangle per note; under the major melody, the bass `preset:chorales_harmony` writes for it.",
        '`python docs/gallery.py --only piano_roll`: `seqzoo.generate("preset:chorales", condition=..., seed=0)`, '
        "the harmonizer's argmax per sixteenth note.",
    ),
    "training_curve": (
        "Training curve of `preset:names`: loss (nats per character) and next-character accuracy on the training "
        "and validation sets, epoch by epoch, until early stopping.",
        "`python docs/gallery.py --only training_curve`: `seqzoo.runs.plots.training_curve` on "
        '`open_run("preset:names").history()`.',
    ),
}
TITLES = {
    "attention": "Attention while translating dates",
    "gates": "Gates while reading a name",
    "gradients": "Gradient decay by distance",
    "piano_roll": "A piano roll of generated chorale melodies",
    "training_curve": "A training curve",
}


def attention(out, seed):
    """Draws `attention.png`; returns its path, the translations and the maps `(Ty, Tx)`, cut to real lengths."""
    dates = seqzoo.load("preset:dates")
    model, task = dates.model, dates.task
    translations = seqzoo.generate(model, task=task, source=DATES, max_length=12)
    sources = [task.vocabularies["source"].encode(list(text)) for text in DATES]
    targets = [[BOS_ID] + task.vocabularies["target"].encode(list(iso)) for iso in translations]
    width, height = max(map(len, sources)), max(map(len, targets))
    batch = {
        "inputs": np.array([s + [PAD_ID] * (width - len(s)) for s in sources], "int32"),
        "decoder_inputs": np.array([t + [PAD_ID] * (height - len(t)) for t in targets], "int32"),
    }
    scores = diagnostics.attention_scores(model, batch)
    maps = [scores[i, : len(target), : len(source)] for i, (source, target) in enumerate(zip(sources, targets))]
    path = diagnostics.plot_attention(
        maps,
        os.path.join(out, "attention.png"),
        source_labels=[list(text) for text in DATES],
        target_labels=[
            [f"{read} → {wrote}" for read, wrote in zip(["BOS", *iso], [*iso, "EOS"])] for iso in translations
        ],
        title="preset:dates: attention α<t, t'> (rows: the decoder reads → writes)",
        titles=[f"{text!r} -> {iso}" for text, iso in zip(DATES, translations)],
    )
    return {"path": path, "translations": translations, "maps": maps}


@functools.cache
def names_parts():
    """The names preset's model, its character vocabulary and its GRU cell (loaded once)."""
    run = open_run("preset:names")
    model = run.load_model()
    return model, run.vocabularies()["inputs"], model.get_layer("backbone").cells[0]


def gates(out, seed):
    """Draws `gates.png`; returns its path and the recorded gates."""
    model, vocabulary, cell = names_parts()
    ids = np.array([[BOS_ID] + vocabulary.encode(list(NAME))], "int32")
    records = diagnostics.record_gates(cell, model.get_layer("inputs_embedding")(ids))
    path = diagnostics.plot_gates(
        records,
        os.path.join(out, "gates.png"),
        labels=["BOS", *NAME],
        max_units=GATE_UNITS,
        title=f"preset:names GRU reading {NAME!r}: gates (0-1) and states, {GATE_UNITS} of {cell.units} units",
    )
    return {"path": path, "records": records}


def gradients(out, seed):
    """Draws `gradients.png`; returns its path and `{layer: norms}`, entry t for x<t>."""
    model, _, cell = names_parts()
    embedding = model.get_layer("inputs_embedding")
    letters = np.random.default_rng(seed).integers(BOS_ID + 2, embedding.input_dim, (GRADIENT_BATCH, GRADIENT_STEPS))
    x = np.asarray(embedding(letters))
    keras.utils.set_random_seed(seed)  # after loading the preset, so `--only gradients` draws the same weights
    layers = {
        "GRU, preset:names (trained)": keras.layers.RNN(cell),
        "SimpleRNN, untrained": keras.layers.RNN(cells.SimpleRNNCell(cell.units)),
        "GRU, untrained": keras.layers.RNN(cells.GRUCell(cell.units)),
    }
    norms = {name: diagnostics.input_gradient_norms(layer, x) for name, layer in layers.items()}
    path = diagnostics.plot_gradient_norms(
        norms,
        os.path.join(out, "gradients.png"),
        title=f"||∂a<T>/∂x<t>||, {cell.units} units, {GRADIENT_BATCH} strings of {GRADIENT_STEPS} random letters "
        "embedded by preset:names",
        mark_distance=FAR,
        styles={"GRU, untrained": {"linestyle": "--"}},
    )
    return {"path": path, "norms": norms}


def draw_roll(axis, lines, title):
    """Draws melodies on `axis` as a piano roll: one rectangle per held note, rests left empty.

    Args:
        axis: a matplotlib `Axes`.
        lines: `[(pitches, color, label)]`, one MIDI pitch per sixteenth note, 0 a rest.
        title: the panel's title.
    """
    from matplotlib.patches import Rectangle
    from music21 import pitch as m21pitch

    for pitches, color, label in lines:
        start = 0
        for pitch, steps in music.melody_runs(pitches):
            if pitch:
                axis.add_patch(Rectangle((start, pitch - 0.4), steps - 0.1, 0.8, color=color, label=label))
                label = None  # one legend entry per line
            start += steps
    sounding = [pitch for pitches, _, _ in lines for pitch in pitches if pitch]
    low, high = min(sounding) - 2, max(sounding) + 2
    ticks = [pitch for pitch in range(low, high + 1) if pitch % 12 in (0, 4, 7)]  # C, E and G
    axis.set_ylim(low, high)
    axis.set_yticks(ticks)
    axis.set_yticklabels([m21pitch.Pitch(midi=pitch).nameWithOctave for pitch in ticks], fontsize=7)
    axis.set_xlim(0, MELODY_STEPS)
    for bar in range(0, MELODY_STEPS + 1, 16):
        axis.axvline(bar, color="#dddddd", linewidth=0.6, zorder=0)
    axis.set_title(title, fontsize=9)


def piano_roll(out, seed):
    """Draws `piano_roll.png`; returns its path and the melodies and bass as MIDI pitches."""
    from matplotlib.figure import Figure

    texts = seqzoo.generate("preset:chorales", condition=["major", "minor"], seed=seed, max_length=MELODY_STEPS)
    melodies = dict(zip(["major", "minor"], ([int(p) for p in text.split()] for text in texts)))
    harmony = seqzoo.load("preset:chorales_harmony")
    harmonizer, task = harmony.model, harmony.task
    vocabulary = task.vocabularies["inputs"]
    logits = harmonizer.predict(np.array([vocabulary.encode([str(p) for p in melodies["major"]])]), verbose=0)
    bass = [int(token) for token in vocabulary.decode(logits[0].argmax(-1), stop_at_eos=False)]
    figure = Figure(figsize=(9, 5))
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    soprano = "tab:blue"
    draw_roll(
        top,
        [
            (melodies["major"], soprano, "melody (preset:chorales)"),
            (bass, "tab:orange", "bass (preset:chorales_harmony)"),
        ],
        f"condition 'major', seed {seed}, and the harmonizer's bass",
    )
    draw_roll(bottom, [(melodies["minor"], soprano, None)], f"condition 'minor', seed {seed}")
    top.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    bottom.set_xlabel("time (sixteenth notes; grid lines every bar of 4/4)")
    figure.suptitle("Generated chorale melodies as piano rolls (pitch on the vertical axis)", fontsize=11)
    figure.tight_layout()
    path = os.path.join(out, "piano_roll.png")
    figure.savefig(path, dpi=DPI)
    return {"path": path, "melodies": melodies, "bass": bass}


def training_curve(out, seed):
    """Draws `training_curve.png` from the names preset's `history.csv`; returns its path and the rows."""
    rows = open_run("preset:names").history()
    figure = draw_training_curve(rows)
    figure.set_size_inches(8, 3)
    figure.suptitle("preset:names (gru_char_lm on names)", fontsize=10)
    figure.tight_layout()
    path = os.path.join(out, "training_curve.png")
    figure.savefig(path, dpi=DPI)
    return {"path": path, "rows": rows}


DEFAULT_OUT = "gallery_output"  # In the working folder, not the checkout: docs/gallery changes only when asked.

# Each picture's drawer: `draw(out, seed)` writes `<name>.png` into `out` and returns its path and numbers.
PICTURES = {
    "attention": attention,
    "gates": gates,
    "gradients": gradients,
    "piano_roll": piano_roll,
    "training_curve": training_curve,
}


def write_page(out):
    """Writes `README.md` in `out`: every picture under its title, with its two-line caption."""
    lines = [
        "# seqzoo gallery",
        "",
        "Drawn from the shipped presets, no training: `python docs/gallery.py --out docs/gallery` rebuilds every "
        "picture and this page.",
        "",
    ]
    for name in PICTURES:
        shows, reproduce = CAPTIONS[name]
        lines += [f"## {TITLES[name]}", "", f"![{TITLES[name]}]({name}.png)", "", f"{shows}  ", reproduce, ""]
    path = os.path.join(out, "README.md")
    with open(path, "w") as file:
        file.write("\n".join(lines))
    return path


def main(out=DEFAULT_OUT, seed=0, only=None):
    """Draws the gallery (or the pictures named in `only`) into `out`.

    Args:
        out: the folder for the PNGs and `README.md` (by default
            `./gallery_output`; the committed gallery is `docs/gallery`).
        seed: the seed of every random draw (sampling, random inputs, initial weights).
        only: names among `PICTURES` to draw; all by default.

    Returns:
        `{picture: {"path": ..., and the numbers it shows}}`, plus `"page"`: the page's path.
    """
    os.makedirs(out, exist_ok=True)
    results = {}
    for name, draw in PICTURES.items():
        if only is None or name in only:
            keras.utils.set_random_seed(seed)
            results[name] = draw(out, seed)
            print(f"wrote {results[name]['path']}", file=sys.stderr)
    results["page"] = write_page(out)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"folder for the pictures and page (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=0, help="seed of sampling, random inputs and initial weights")
    parser.add_argument("--only", nargs="+", choices=PICTURES, help="draw only these pictures")
    arguments = parser.parse_args()
    main(out=arguments.out, seed=arguments.seed, only=arguments.only)
