"""Quality of seqzoo's named models on its offline tasks, against the bars of issue 4.

Every task is trained through the public API, `seqzoo.train(name, task, ...)`,
with the model and settings chosen for it below (`SETUPS`), under a training
budget of `--budget` seconds (10 minutes by default: training stops at the end
of an epoch when one more epoch as long as the longest so far would pass it),
then judged on its test split:

| task | model | metric | bar |
|---|---|---|---|
| `japanese_vowels` | `lstm_bi_deep` (2 layers) | test accuracy | >= 0.96 (DTW 1-NN: about 0.95) |
| `dates` | `gru_seq2seq_attention` | exact match, greedy decoding, held-out dates | >= 0.97 |
| `names` | `gru_char_lm` | test bits per character | <= 0.8 x a unigram model's |
| `chorales_harmony` | `lstm_bi_harmonizer` | test token accuracy of the bass | >= majority baseline + 0.10 |

Besides the task's own metrics it measures:

- `names`: the unigram bits per character (character frequencies of the
  training names, end token included, add-one smoothed over the possible
  targets), on exactly the tokens `seqzoo.metrics.token_nll` counts (each test
  name's characters and its end token); and 200 names sampled at temperature
  1.0, step by step with `seqzoo.architectures.Stepper`: the fraction not in
  the training split and the fraction in none of the splits.
- `dates`: the mistakes of greedy decoding on the test split, with their
  locale and pattern.
- `chorales_harmony`: a stronger baseline than the majority bass, the most
  frequent training bass for each soprano pitch (a per-step lookup table).

Wall times are those of the whole `seqzoo.train` call (building, training,
evaluation) and of `fit` alone. On a shared machine they vary from run to run;
the load average is recorded with each task.

Usage:

    python benchmarks/quality.py                         # all tasks
    python benchmarks/quality.py --task names --seed 1   # one task
    python benchmarks/quality.py --task names --model rnn_char_lm   # another model, same settings
    python benchmarks/quality.py --data-dir /tmp/tfds_quality --out runs/quality

It writes `<out>/results.json` and `<out>/results.md` (the table) and keeps
each task's run folder under `<out>`. Benchmarks are never tests: nothing here
asserts a time or a score; the table says whether each bar was reached.
"""

import argparse
import collections
import csv
import datetime
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the checkout's seqzoo, installed or not
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from presets import unigram_bits_per_token  # noqa: E402  (benchmarks/presets.py, beside this script)

BUDGET_S = 600
NAME_SAMPLES = 200
SAMPLE_TEMPERATURE = 1.0

# The chosen model and settings of each task. `train` goes to `seqzoo.train`
# as it is; `overrides` are config overrides of the named model.
SETUPS = {
    "japanese_vowels": dict(
        model="lstm_bi_deep",
        train=dict(epochs=100, batch_size=16, patience=15),
        overrides={
            "backbone.depth": 2,
            "backbone.units": 64,
            "backbone.dropout": 0.2,
            "backbone.recurrent_dropout": 0.2,
            "backbone.cell_options": {"dropout": 0.2},
        },
        metric="accuracy",
        bar="test accuracy >= 0.96",
    ),
    "dates": dict(
        model="gru_seq2seq_attention",
        train=dict(epochs=10, batch_size=64, patience=3),
        overrides={},
        metric="exact_match",
        bar="exact match >= 0.97 (greedy, held-out dates)",
    ),
    "names": dict(
        model="gru_char_lm",
        train=dict(epochs=60, batch_size=32, patience=8),
        overrides={
            "backbone.units": 128,
            "backbone.recurrent_dropout": 0.2,
            "backbone.cell_options": {"dropout": 0.2},
        },
        metric="bits_per_token",
        bar="bits/char <= 0.8 x unigram",
    ),
    "chorales_harmony": dict(
        model="lstm_bi_harmonizer",
        train=dict(epochs=60, batch_size=16, patience=8),
        overrides={
            "backbone.units": 64,
            "backbone.dropout": 0.3,
            "backbone.cell_options": {"dropout": 0.2},
            "optimizer.learning_rate": 3e-3,
        },
        metric="token_accuracy",
        bar="token accuracy >= majority + 0.10",
    ),
}


class TimeBudget(keras.callbacks.Callback):
    """Keeps `fit` within `seconds`, and times it.

    Training stops at the end of an epoch when one more epoch as long as the
    longest so far would pass the budget, so on a steady machine `fit` ends
    before it; a sudden slowdown can still overrun it by part of an epoch.
    """

    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.fit_s, self.stopped_by_budget = seconds, None, False
        self.start = self.epoch_start = None
        self.longest = 0.0

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.epoch_start)
        if now - self.start + self.longest > self.seconds:
            self.stopped_by_budget = True
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.fit_s = time.perf_counter() - self.start


def load_average():
    return [round(value, 2) for value in os.getloadavg()]


def machine():
    """The CPU, the cores this process may use, and the library versions."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    cpu = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "tensorflow_datasets": tfds.__version__,
        "platform": platform.platform(),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }


# -- task-specific measurements -------------------------------------------------


def sample_names(model, vocabulary, count, temperature, max_length, seed=0):
    """Samples `count` names at `temperature`, one character per step (the course's sampling loop)."""
    from seqzoo.architectures import Stepper
    from seqzoo.tasks.vocabulary import BOS_ID
    from seqzoo.tasks.vocabulary import EOS_ID

    rng = np.random.default_rng(seed)
    stepper = Stepper(model)
    cache = stepper.start(batch_size=count)
    tokens = np.full(count, BOS_ID, "int32")
    names, finished = [[] for _ in range(count)], np.zeros(count, bool)
    for _ in range(max_length):
        logits, cache = stepper.next(tokens, cache)
        logits = np.asarray(logits, "float64") / temperature
        probabilities = np.exp(logits - logits.max(-1, keepdims=True))
        probabilities /= probabilities.sum(-1, keepdims=True)
        tokens = (
            (probabilities.cumsum(-1) < rng.random((count, 1))).sum(-1).clip(0, logits.shape[-1] - 1).astype("int32")
        )
        for row, token in enumerate(tokens):
            if not finished[row]:
                if token == EOS_ID:
                    finished[row] = True
                else:
                    names[row].append(int(token))
        if finished.all():
            break
    return ["".join(vocabulary.decode(name)) for name in names], int(finished.sum())


def names_extras(run, task, seed):
    import seqzoo

    model = seqzoo.RunFolder(run).load_model()
    unigram, tokens = unigram_bits_per_token(task)
    splits = {
        split: {name.decode("utf-8") for name in task.raw(split).map(lambda e: e["name"]).as_numpy_iterator()}
        for split in ("train", "validation", "test")
    }
    longest = max(len(name) for names in splits.values() for name in names)
    if hasattr(seqzoo, "generate"):  # the library's sampler, where this checkout has it
        sampler = "seqzoo.generate"
        samples = seqzoo.generate(
            run, num=NAME_SAMPLES, temperature=SAMPLE_TEMPERATURE, seed=seed, max_length=longest + 10, task=task
        )
        ended = None
    else:
        sampler = "Stepper loop (benchmarks/quality.py)"
        samples, ended = sample_names(
            model, task.vocabularies["inputs"], NAME_SAMPLES, SAMPLE_TEMPERATURE, longest + 10, seed
        )
    everywhere = set().union(*splits.values())
    own, own_ended = sample_names(
        model, task.vocabularies["inputs"], NAME_SAMPLES, SAMPLE_TEMPERATURE, longest + 10, seed + 1
    )
    return {
        "stepper_loop_check": {
            "samples": len(own),
            "ended": own_ended,
            "novel_vs_train": float(np.mean([s not in splits["train"] for s in own])),
            "novel_vs_all_splits": float(np.mean([s not in everywhere for s in own])),
        },
        "unigram_bits_per_char": float(unigram),
        "unigram_tokens": int(tokens),
        "sampler": sampler,
        "samples": len(samples),
        "sample_temperature": SAMPLE_TEMPERATURE,
        "samples_ended": ended,
        "samples_distinct": len(set(samples)),
        "novel_vs_train": float(np.mean([s not in splits["train"] for s in samples])),
        "novel_vs_all_splits": float(np.mean([s not in everywhere for s in samples])),
        "sample_examples": samples[:30],
    }


def ambiguous_dates(example):
    """Whether another date renders to the same text in the same locale.

    The confusions checked are day/month swaps under any of the builder's
    patterns: custom numeric patterns (`MM/dd/yy`, `dd/MM/y`) ignore the
    locale, so e.g. `it_IT 06/07/79` is 6 July ("short", day first) or
    7 June (`MM/dd/yy`). No model can get every such input right.
    """
    from babel.dates import format_date

    from seqzoo.tasks.builders.dates.builder import PATTERNS

    day = datetime.date.fromisoformat(example["iso"].decode())
    try:
        swapped = day.replace(day=day.month, month=day.day)
    except ValueError:
        return False
    if swapped == day:
        return False
    locale, text = example["locale"].decode(), example["human"].decode()
    return any(" ".join(format_date(swapped, pattern, locale=locale).lower().split()) == text for pattern in PATTERNS)


def dates_extras(run, task, seed):
    import seqzoo
    from seqzoo.inference.decoding import greedy_translate

    model = seqzoo.RunFolder(run).load_model()
    target = task.vocabularies["target"]
    mistakes, by_pattern = [], collections.Counter()
    raw = list(task.raw("test").as_numpy_iterator())
    sources = [x["inputs"] for x, _ in task.examples("test").as_numpy_iterator()]
    for start in range(0, len(raw), 64):
        chunk = sources[start : start + 64]
        batch = np.zeros((len(chunk), max(len(source) for source in chunk)), "int32")
        for row, source in enumerate(chunk):
            batch[row, : len(source)] = source
        guesses = greedy_translate(model, batch, 16)
        for example, guess in zip(raw[start : start + 64], guesses):
            text = "".join(target.decode(guess))
            if text != example["iso"].decode():
                pattern = example["pattern"].decode()
                by_pattern[pattern] += 1
                mistakes.append(
                    {
                        "source": f"{example['locale'].decode()} {example['human'].decode()}",
                        "pattern": pattern,
                        "expected": example["iso"].decode(),
                        "predicted": text,
                        "ambiguous": ambiguous_dates(example),
                    }
                )
    ambiguous = sum(ambiguous_dates(example) for example in raw)
    return {
        "test_examples": len(raw),
        "ambiguous_inputs": ambiguous,
        "mistakes_on_ambiguous_inputs": sum(m["ambiguous"] for m in mistakes),
        "mistakes": len(mistakes),
        "mistakes_by_pattern": dict(by_pattern.most_common()),
        "mistake_examples": mistakes[:20],
    }


def chorales_extras(run, task, seed):
    """The accuracy of the most frequent training bass for each soprano pitch."""
    pairs = collections.defaultdict(collections.Counter)
    overall = collections.Counter()
    for x, y in task.examples("train").as_numpy_iterator():
        keep = x != 0
        for soprano, bass in zip(x[keep], y[keep]):
            pairs[soprano][bass] += 1
            overall[bass] += 1
    fallback = overall.most_common(1)[0][0]
    table = {soprano: counts.most_common(1)[0][0] for soprano, counts in pairs.items()}
    right = total = 0
    for x, y in task.examples("test").as_numpy_iterator():
        keep = x != 0
        guess = np.array([table.get(soprano, fallback) for soprano in x[keep]])
        right, total = right + int((guess == y[keep]).sum()), total + int(keep.sum())
    return {"soprano_lookup_baseline": right / total, "test_steps": total}


EXTRAS = {"names": names_extras, "dates": dates_extras, "chorales_harmony": chorales_extras}


def reached(name, metrics, extras):
    """Whether the task's bar is reached, and the number compared with it."""
    if name == "japanese_vowels":
        return metrics["accuracy"] >= 0.96, metrics["accuracy"], 0.96
    if name == "dates":
        return metrics["exact_match"] >= 0.97, metrics["exact_match"], 0.97
    if name == "names":
        bar = 0.8 * extras["unigram_bits_per_char"]
        return metrics["bits_per_token"] <= bar, metrics["bits_per_token"], bar
    bar = metrics["majority_baseline"] + 0.10
    return metrics["token_accuracy"] >= bar, metrics["token_accuracy"], bar


# -- running -------------------------------------------------------------------


def run_task(name, data_dir, out, seed, budget, model=None):
    import seqzoo

    setup = dict(SETUPS[name], model=model or SETUPS[name]["model"])
    keras.utils.set_random_seed(seed)
    folder = os.path.join(out, f"{name}-{setup['model']}-seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}")
    timer = TimeBudget(budget)
    load_before = load_average()
    start = time.perf_counter()
    run = seqzoo.train(
        setup["model"],
        name,
        out=folder,
        data_dir=data_dir,
        callbacks=[timer],
        verbose=2,
        **setup["train"],
        **setup["overrides"],
    )
    wall = time.perf_counter() - start
    with open(os.path.join(run, "metrics.json")) as file:
        metrics = json.load(file)
    with open(os.path.join(run, "history.csv")) as file:
        history = list(csv.DictReader(file))
    best_epoch = 1 + min(range(len(history)), key=lambda i: float(history[i]["val_loss"]))
    task = seqzoo.load_task(name, data_dir=data_dir)
    task.load_vocabularies(run)
    extras = EXTRAS[name](run, task, seed) if name in EXTRAS else {}
    ok, value, bar_value = reached(name, metrics, extras)
    ok, value, bar_value = bool(ok), float(value), float(bar_value)
    return {
        "task": name,
        "model": setup["model"],
        "train": setup["train"],
        "overrides": setup["overrides"],
        "seed": seed,
        "metric": setup["metric"],
        "bar": setup["bar"],
        "bar_value": bar_value,
        "value": value,
        "reached": ok,
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "stopped_by_budget": timer.stopped_by_budget,
        "fit_s": timer.fit_s,
        "wall_s": wall,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "metrics": metrics,
        "extras": extras,
        "run": run,
    }


def table(results):
    lines = [
        "| task | model | metric | bar | reached | epochs (best) | fit s | wall s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['task']} | {r['model']} | {r['metric']} = {r['value']:.4f} | {r['bar']} ({r['bar_value']:.4f}) "
            f"| {'yes' if r['reached'] else 'NO'} | {r['epochs_run']} ({r['best_epoch']}) "
            f"| {r['fit_s']:.0f} | {r['wall_s']:.0f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", choices=sorted(SETUPS), action="append", help="a task (repeatable); default: all")
    parser.add_argument("--data-dir", default=None, help="the TFDS data folder")
    parser.add_argument("--out", default=os.path.join("runs", "quality"), help="where run folders and results go")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--model", default=None, help="another named model for the task(s), same settings and overrides"
    )
    parser.add_argument(
        "--budget", type=float, default=BUDGET_S, help="training seconds per task (checked at epoch ends; default 600)"
    )
    args = parser.parse_args(argv)

    os.makedirs(args.out, exist_ok=True)
    results = []
    for name in args.task or list(SETUPS):
        result = run_task(name, args.data_dir, args.out, args.seed, args.budget, args.model)
        results.append(result)
        print(json.dumps({k: v for k, v in result.items() if k != "extras"}), flush=True)
        print(json.dumps(result["extras"]), flush=True)
    report = {"machine": machine(), "results": results}
    with open(os.path.join(args.out, "results.json"), "w") as file:
        json.dump(report, file, indent=2)
    text = table(results)
    with open(os.path.join(args.out, "results.md"), "w") as file:
        file.write(f"Machine: {json.dumps(report['machine'])}\n\n{text}\n")
    print(text)


if __name__ == "__main__":
    main()
