"""Builds seqzoo's shipped presets: trained run folders for the offline tasks, with fixed seeds.

Each recipe below trains one named model on one task through the public API
(`seqzoo.train`, seed 0), checks the finished run against its quality bar
(`benchmarks/QUALITY.md`), and packs it into `seqzoo/presets/shipped/NAME/`:
the run folder without its checkpoints and backup, `model.keras` saved again
without the optimizer's state (a third of the size; a fine-tuning run starts
a new optimizer anyway), `run.json` with no data folder (the user's TFDS
default), and `preset.json` (description, headline metric, bar, baseline).

Training resumes where it stopped: run the same command again after a kill.
A preset that misses its bar is not packed, and the script exits with 1.

Usage:

    python benchmarks/presets.py                      # every preset
    python benchmarks/presets.py --preset names       # one
    python benchmarks/presets.py --work /tmp/presets --data-dir /tmp/tfds_presets

It prints one line per preset: its name, metric, bar and seconds.
"""

import argparse
import datetime
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)  # the checkout's seqzoo, installed or not
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo import atomic  # noqa: E402
from seqzoo.registry.build import compile_model  # noqa: E402
from seqzoo.runs.folder import RunFolder  # noqa: E402
from seqzoo.tasks.vocabulary import BOS_ID  # noqa: E402
from seqzoo.tasks.vocabulary import PAD_ID  # noqa: E402

SHIPPED = os.path.join(ROOT, "seqzoo", "presets", "shipped")
SEED = 0
# Kept in a preset: what loading, evaluating, generating and fine-tuning read, and the record of training.
KEPT_FILES = ("run.json", "config.json", "history.csv", "metrics.json", "training_curve.png")

# The names models' settings: benchmarks/QUALITY.md's choice for `names` (128 units, dropout 0.2 in and around).
NAMES_REGULARIZATION = {
    "backbone.units": 128,
    "backbone.recurrent_dropout": 0.2,
    "backbone.cell_options": {"dropout": 0.2},
}
RECIPES = {
    "names": dict(
        description="Character-level GRU language model of US first names; samples novel names.",
        model="gru_char_lm",
        task="names",
        train=dict(epochs=60, batch_size=32, patience=8),
        overrides=NAMES_REGULARIZATION,
        metric="bits_per_token",
        bar="unigram",
    ),
    "names_mingru": dict(
        description="Character-level minGRU language model of US first names (two residual layers trained by a "
        "parallel scan); samples novel names.",
        model="mingru_char_lm",
        task="names",
        train=dict(epochs=60, batch_size=32, patience=8),
        # The GRU's settings but recurrent dropout, which a cell without a recurrent kernel does not have.
        overrides={"backbone.units": 128, "backbone.cell_options": {"dropout": 0.2}},
        metric="bits_per_token",
        bar="unigram",
    ),
    "names_by_gender": dict(
        description="One-to-many GRU: a gender sets the state, then a first name is written character by character.",
        model="gru_conditioned_char_lm",
        task="names_by_gender",
        train=dict(epochs=60, batch_size=32, patience=8),
        overrides=NAMES_REGULARIZATION,
        metric="bits_per_token",
        bar="unigram",
    ),
    "dates": dict(
        description="Encoder-decoder GRU with attention: human-readable dates in 21 formats and many locales -> ISO.",
        model="gru_seq2seq_attention",
        task="dates",
        train=dict(epochs=10, batch_size=64, patience=3),
        overrides={},
        metric="exact_match",
        bar=0.97,
    ),
    "japanese_vowels": dict(
        description="Bidirectional GRU speaker classifier (the README's headline run): 9 speakers from LPC frames.",
        model="gru_bi",
        task="japanese_vowels",
        train=dict(epochs=30),
        overrides={},
        metric="accuracy",
        bar=0.96,  # QUALITY.md's bar for the task (a DTW 1-NN classifier: about 0.95)
    ),
    "chorales": dict(
        description="Two-layer LSTM melody generator: a mode (major/minor) -> a Bach chorale soprano line.",
        model="lstm_music",
        task="chorales",
        train=dict(epochs=40, batch_size=16, patience=6),
        overrides={"backbone.cell_options": {"dropout": 0.2}},
        metric="bits_per_token",
        bar="unigram",
    ),
    "chorales_harmony": dict(
        description="Bidirectional LSTM harmonizer: a chorale's soprano -> its bass, sixteenth by sixteenth.",
        model="lstm_bi_harmonizer",
        task="chorales_harmony",
        train=dict(epochs=40, batch_size=16, patience=8),
        overrides={
            "backbone.units": 64,
            "backbone.dropout": 0.3,
            "backbone.cell_options": {"dropout": 0.2},
            "optimizer.learning_rate": 3e-3,
        },
        metric="token_accuracy",
        bar="majority",
    ),
}


def unigram_bits_per_token(task):
    """`(bits, tokens)`: bits per test target token of a unigram model of the training targets.

    The targets are what `seqzoo.metrics.token_nll` counts (`y` without padding).

    Add-one smoothed over every id that can be a target (all but padding and
    the start token), so that an unseen test token has a finite cost.
    """
    targets = {
        split: [y[y != PAD_ID] for _, y in task.examples(split).as_numpy_iterator()] for split in ("train", "test")
    }
    size = 1 + max(int(y.max()) for rows in targets.values() for y in rows if len(y))
    counts = np.ones(size)
    counts[[PAD_ID, BOS_ID]] = 0
    for y in targets["train"]:
        counts += np.bincount(y, minlength=size)
    log2_p = np.log2(np.where(counts > 0, counts, 1) / counts.sum())
    test = np.concatenate(targets["test"])
    return float(-log2_p[test].mean()), len(test)


def quality_bar(recipe, task, metrics):
    """`(comparison, threshold, baseline)`: the recipe's bar as a number, and the baseline it comes from."""
    bar = recipe["bar"]
    if bar == "unigram":
        baseline, _ = unigram_bits_per_token(task)
        return "at_most", round(0.8 * baseline, 4), {"unigram_bits_per_token": round(baseline, 4)}
    if bar == "majority":
        baseline = metrics["majority_baseline"]  # the most frequent test tag's share
        return "at_least", round(baseline + 0.10, 4), {"majority_token_accuracy": round(baseline, 4)}
    return "at_least", bar, {}


def train(name, recipe, work, data_dir):
    """Trains (or resumes) the recipe's run under `work`; returns the finished `RunFolder` and seconds spent."""
    run = RunFolder(os.path.join(work, name))
    start = time.perf_counter()
    if run.stage != "finished":
        seqzoo.train(
            recipe["model"],
            recipe["task"],
            out=run.path,
            seed=SEED,
            data_dir=data_dir,
            verbose=2,
            **recipe["train"],
            **recipe["overrides"],
        )
    return run, time.perf_counter() - start


def pack(name, recipe, run, bar, baseline):
    """Writes the preset folder `SHIPPED/name` from a finished run, replacing any old one at once."""
    target = os.path.join(SHIPPED, name)
    staging = atomic.temporary_path(target)
    os.makedirs(staging)
    try:
        for file in KEPT_FILES + tuple(f for f in os.listdir(run.path) if f.startswith("vocabulary_")):
            shutil.copy2(run.file(file), os.path.join(staging, file))
        record = {**run.record, "data_dir": None}
        atomic.write_json(os.path.join(staging, "run.json"), record)
        model = run.load_model()
        compile_model(model, run.config)  # a new optimizer, not built: nothing of Adam's state is saved
        atomic.save_model(model, os.path.join(staging, "model.keras"))
        comparison, threshold = bar
        preset = {
            "description": recipe["description"],
            "metric": recipe["metric"],
            comparison: threshold,
            "baseline": baseline,
            "seed": SEED,
            "built_by": "python benchmarks/presets.py",
            "built_on": datetime.date.today().isoformat(),
            "versions": record.get("versions", {}),
        }
        atomic.write_json(os.path.join(staging, "preset.json"), preset)
        if os.path.exists(target):
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)


def build(name, work, data_dir):
    recipe = RECIPES[name]
    run, seconds = train(name, recipe, work, data_dir)
    task = run.load_task()
    metrics = run.metrics()
    comparison, threshold, baseline = quality_bar(recipe, task, metrics)
    value = metrics[recipe["metric"]]
    passed = value <= threshold if comparison == "at_most" else value >= threshold
    if passed:
        pack(name, recipe, run, (comparison, threshold), baseline)
    sign = "<=" if comparison == "at_most" else ">="
    verdict = "ok" if passed else "MISSED"
    print(f"{name}: {recipe['metric']} {value:.4f} (bar {sign} {threshold}) {verdict}, {seconds:.0f} s", flush=True)
    return passed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="append", choices=sorted(RECIPES), help="build only these (repeatable)")
    parser.add_argument("--work", default="/tmp/seqzoo_presets", help="where the full run folders are trained")
    parser.add_argument("--data-dir", default=None, help="the TFDS data folder for the offline datasets")
    args = parser.parse_args(argv)
    results = [build(name, args.work, args.data_dir) for name in args.preset or RECIPES]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
