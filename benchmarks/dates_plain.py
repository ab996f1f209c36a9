"""The dates preset on plain inputs: exact match without a context, beside the inputs with their locale.

On the test split of `seqzoo_dates` (1,000 held-out dates), `preset:dates`
translates each human date three ways with `seqzoo.generate` (greedy):

- `with its locale`: `"<locale> <human date>"`, as the model was trained;
- `plain`: the human date alone, so the task's default context (en_US) is
  used, whatever locale rendered it;
- `plain, capitalized`: the same, each word capitalized ("July 4, 2024"),
  which the task's normalization lowercases again.

Each is held to the task's ISO pattern; the unconstrained greedy decoder of
`seqzoo.evaluate` (`decoding.greedy_translate`) is run on the plain inputs too,
to count the impossible dates the pattern prevents. Exact match is given for
every input and for the ones rendered in en_US (where the default is right).

Usage:

    python benchmarks/dates_plain.py --data-dir /tmp/tfds_quality

It prints a markdown table; `QUALITY.md` keeps it. Takes about a minute on a CPU after the dataset exists.
"""

import argparse
import datetime
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo.inference.decoding import greedy_translate  # noqa: E402
from seqzoo.tasks.vocabulary import PAD_ID  # noqa: E402

PRESET = "preset:dates"


def is_date(text):
    try:
        return len(text) == 10 and datetime.date.fromisoformat(text) is not None
    except ValueError:
        return False


def unconstrained(run, task, texts):
    """Plain greedy decoding with no pattern (as `seqzoo.evaluate` judges), as strings."""
    vocabulary = task.vocabularies["source"]
    sources = [vocabulary.encode(list(task.source_input(text))) for text in texts]
    width = max(len(ids) for ids in sources)
    padded = np.array([ids + [PAD_ID] * (width - len(ids)) for ids in sources], "int32")
    ids = greedy_translate(run.load_model(), padded, 15)
    return ["".join(task.vocabularies["target"].decode(row)) for row in ids]


def main(data_dir):
    run = seqzoo.presets.open_run(PRESET)
    task = run.load_task(data_dir=data_dir)
    examples = [
        {key: value.decode() for key, value in example.items()} for example in task.raw("test").as_numpy_iterator()
    ]
    truths = [example["iso"] for example in examples]
    us = np.array([example["locale"] == "en_US" for example in examples])
    ways = {
        "with its locale": [f"{example['locale']} {example['human']}" for example in examples],
        "plain (default en_US)": [example["human"] for example in examples],
        "plain, capitalized": [example["human"].title() for example in examples],
    }
    header = f"inputs ({len(examples)} test dates, {us.sum()} rendered in en_US)"
    print(f"| {header} | exact match | en_US only | impossible dates |")
    print("|---|---|---|---|")
    for name, texts in ways.items():
        guesses = seqzoo.generate(PRESET, prefix=texts, data_dir=data_dir)
        right = np.array([guess == truth for guess, truth in zip(guesses, truths)])
        impossible = sum(not is_date(guess) for guess in guesses)
        print(f"| {name}, held to the ISO pattern | {right.mean():.3f} | {right[us].mean():.3f} | {impossible} |")
    guesses = unconstrained(run, task, ways["plain (default en_US)"])
    right = np.array([guess == truth for guess, truth in zip(guesses, truths)])
    impossible = sum(not is_date(guess) for guess in guesses)
    print(f"| plain (default en_US), unconstrained | {right.mean():.3f} | {right[us].mean():.3f} | {impossible} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="the TFDS data folder (seqzoo_dates is generated there once)")
    main(parser.parse_args().data_dir)
